// The workspace viewer's average waveforms: the AverageWaveforms view module fed with the average_waveforms task
// (every unit, with peak channels) and the recording's channel locations and sampling frequency.
import { NDArray } from "./api.js";
import { errorBox } from "./plot.js";
import { NO_UNITS, hasNoUnits, state, subscribe } from "./store.js";
import { renderView } from "./viewhost.js";

let root;
let cache = { waveforms: null, info: null, data: null };

export function mountWaveforms(el) {
  root = el;
  subscribe((keys) => {
    if (["waveforms", "recordingInfo", "selection", "errors", "unitIds", "view", "overlay", "order"].some((k) => keys.has(k))) render();
  });
  render();
}

// the view data, built once per task result
function viewData() {
  if (cache.waveforms === state.waveforms && cache.info === state.recordingInfo) return cache.data;
  const info = state.recordingInfo;
  const locs = info.channelLocations;
  const channelLocations = {};
  info.channelIds.forEach((c, i) => {
    if (locs) channelLocations[String(c)] = locs.shape ? [locs.get(i, 0), locs.get(i, 1)] : [locs[i][0], locs[i][1]];
  });
  // the task gives (frames x channels); a view's waveforms are (channels x frames)
  // a unit without a peak channel (no usable spike) has no waveform to draw
  const averageWaveforms = Object.entries(state.waveforms).filter(([, w]) => w.waveform).map(([key, w]) => ({
    unitId: key, channelIds: w.channelIds, waveform: transpose(w.waveform),
    waveformStdDev: w.waveformStdDev ? transpose(w.waveformStdDev) : undefined, peakChannelId: w.peakChannelId,
  }));
  const data = { type: "AverageWaveforms", averageWaveforms, channelLocations, samplingFrequency: info.samplingFrequency };
  cache = { waveforms: state.waveforms, info, data };
  return data;
}

function transpose(a) {
  const [n, m] = a.shape;
  const out = new Float32Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) out[j * n + i] = a.data[i * m + j];
  return new NDArray([m, n], "float32", out);
}

function render() {
  if (!root || state.view !== "waveforms") return;
  if (hasNoUnits()) {
    root.replaceChildren(Object.assign(document.createElement("div"), { className: "placeholder", textContent: NO_UNITS }));
    delete root.dataset.drawn;
    return;
  }
  const err = state.errors.waveforms || state.errors.recordingInfo;
  if (err) { root.replaceChildren(errorBox(err)); delete root.dataset.drawn; return; }
  if (!state.waveforms || !state.recordingInfo) {
    root.replaceChildren(Object.assign(document.createElement("div"), { className: "placeholder", textContent: "Computing average waveforms…" }));
    return;
  }
  renderView(root, "AverageWaveforms", viewData());
}
