// The workspace viewer's spike amplitudes: one spike_amplitudes task per selected unit (cached per unit), drawn
// by the SpikeAmplitudes view module; a click opens the traces around that time.
import { unpackSpikeAmplitudes } from "./packed.js";
import { errorBox, note } from "./plot.js";
import { mergesChanged, onResize, reportError, requestTask, valueUnit, viewUnits } from "./ondemand.js";
import { displayedOrder } from "./selection.js";
import { NO_UNITS, hasNoUnits, state, subscribe, update, writeUrlState } from "./store.js";
import { renderView } from "./viewhost.js";

export const MAX_AMP_UNITS = 12;
let root;

export function mountAmplitudes(el) {
  root = el;
  subscribe((keys) => {
    if (state.view !== "amplitudes") return;
    if (mergesChanged(keys) || ["view", "selection", "sort", "ondemand", "unitIds", "figure", "recordingInfo"].some((k) => keys.has(k))) render();
  });
  onResize(el, () => { if (state.view === "amplitudes") render(); });
}

// One task per unit ({key, taskId} of viewUnits): the results are cached per unit, so adding a unit to the
// selection computes only that one
export function amplitudesOf(unit) {
  const input = { recording: state.figure.recordingUri, sorting: state.figure.sortingUri, unitIds: [unit.taskId] };
  // W.spikesortingview(_spike_amplitudes_subsample_max_firing_rate=...) caps the spikes drawn per unit
  const cap = state.figure.spikeAmplitudesMaxSpikesPerUnit;
  if (Number.isInteger(cap) && cap > 0) input.maxSpikesPerUnit = cap;
  return requestTask("sortingview.spike_amplitudes.2", input, `spike amplitudes ${unit.key}`);
}

// The unit of a settled amplitudes entry: {unitId, peakChannelId, timesSec, amplitudes}, unpacked once
export function unitAmplitudes(entry) {
  if (!entry.unpacked) entry.unpacked = unpackSpikeAmplitudes(entry.result)[0];
  return entry.unpacked;
}

function render() {
  root.replaceChildren();
  delete root.dataset.drawn;
  if (!state.figure) { root.appendChild(note("Loading…", "placeholder")); return; }
  if (hasNoUnits()) { root.appendChild(note(NO_UNITS, "placeholder")); return; }
  const all = viewUnits(displayedOrder());
  if (!all.length) {
    root.appendChild(note("Select units in the table to see their spike amplitudes over time.", "placeholder"));
    return;
  }
  const shown = all.slice(0, MAX_AMP_UNITS);
  if (all.length > shown.length) root.appendChild(note(`Showing the first ${shown.length} of ${all.length} selected units.`));
  const entries = shown.map((u) => ({ key: u.key, entry: amplitudesOf(u) }));
  const failed = entries.find((e) => e.entry.status === "error");
  reportError("amplitudes", failed ? failed.entry : null);
  // one box per distinct error (a broken recording fails every unit the same way), naming its units
  const byMessage = new Map();
  for (const e of entries.filter((x) => x.entry.status === "error")) {
    const m = e.entry.error.message;
    if (!byMessage.has(m)) byMessage.set(m, { error: e.entry.error, units: [] });
    byMessage.get(m).units.push(e.key);
  }
  for (const { error, units } of byMessage.values()) {
    const box = errorBox(error);
    box.insertBefore(note(`unit${units.length > 1 ? "s" : ""} ${units.join(", ")}:`), box.firstChild);
    root.appendChild(box);
  }
  const done = entries.filter((e) => e.entry.status === "done").map((e) => ({ key: e.key, ...unitAmplitudes(e.entry) }));
  const pending = entries.filter((e) => e.entry.status === "pending").length;
  if (pending) root.appendChild(note(`Computing the amplitudes of ${pending} unit${pending > 1 ? "s" : ""}…`));
  if (!done.length) return;
  draw(done);
}

function draw(units) {
  const body = document.createElement("div");
  root.appendChild(body);
  const duration = state.recordingInfo ? state.recordingInfo.durationSec : undefined;
  const data = {
    type: "SpikeAmplitudes", startTimeSec: 0, endTimeSec: duration, allUnits: true,
    amplitudeLabel: `amplitude (${valueUnit()})`,
    units: units.map((u) => ({ unitId: u.key, spikeTimesSec: u.timesSec, spikeAmplitudes: u.amplitudes, peakChannelId: u.peakChannelId ?? null })),
  };
  if (duration === undefined) delete data.endTimeSec;
  // a click in the scatter opens the traces tab on the 100 ms around that time
  const setTimeRange = (r) => { update({ tracesWindow: r, view: "traces" }); writeUrlState(); };
  renderView(body, "SpikeAmplitudes", data, { setTimeRange, width: root.clientWidth, height: root.clientHeight - 20 });
  root.dataset.drawn = body.dataset.drawn;
}
