// Spike amplitudes over time: one scatter of the selected units, each in its colour.
import { drawAxes, errorBox, extent, note, setupCanvas } from "./plot.js";
import { colorsFor, mergesChanged, onResize, reportError, requestTask, valueUnit, viewUnits } from "./ondemand.js";
import { displayedOrder, escapeHtml } from "./table.js";
import { state, subscribe, update, writeUrlState } from "./store.js";

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
  return requestTask("sortingview.spike_amplitudes.1",
    { recording: state.figure.recordingUri, sorting: state.figure.sortingUri, unitIds: [unit.taskId] },
    `spike amplitudes ${unit.key}`);
}

function render() {
  root.innerHTML = "";
  if (!state.figure) { root.appendChild(note("Loading…", "placeholder")); return; }
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
  const done = entries.filter((e) => e.entry.status === "done").map((e) => ({ key: e.key, ...e.entry.result.spikeAmplitudes[0] }));
  const pending = entries.filter((e) => e.entry.status === "pending").length;
  if (pending) root.appendChild(note(`Computing the amplitudes of ${pending} unit${pending > 1 ? "s" : ""}…`));
  if (!done.length) return;
  draw(done);
}

function draw(units) {
  const width = Math.max(320, root.clientWidth - 20);
  const height = Math.max(260, Math.min(480, root.clientHeight - 80));
  const canvas = document.createElement("canvas");
  canvas.className = "amplitudes";
  root.appendChild(canvas);
  const ctx = setupCanvas(canvas, width, height);
  const colors = colorsFor(units.map((u) => u.key));
  const times = units.map((u) => u.timesSec.data);
  const amps = units.map((u) => u.amplitudes.data);
  const duration = state.recordingInfo ? state.recordingInfo.durationSec : extent(times, 0)[1];
  const area = { left: 58, top: 10, width: width - 70, height: height - 50 };
  const { X, Y } = drawAxes(ctx, area, [0, duration], extent(amps), "time (s)", `amplitude (${valueUnit()})`);
  openTracesOnClick(canvas, area, duration);
  ctx.save();
  ctx.beginPath();
  ctx.rect(area.left, area.top, area.width, area.height);
  ctx.clip();
  let points = 0;
  units.forEach((u, i) => {
    ctx.fillStyle = colors.get(u.key);
    // many spikes: translucent dots show where they pile up
    ctx.globalAlpha = times[i].length > 5000 ? 0.45 : 0.8;
    const t = times[i];
    const a = amps[i];
    for (let j = 0; j < t.length; j++) ctx.fillRect(X(t[j]) - 1, Y(a[j]) - 1, 2.2, 2.2);
    points += t.length;
  });
  ctx.restore();
  canvas.dataset.points = String(points);
  const legend = document.createElement("div");
  legend.className = "legend";
  legend.innerHTML = units.map((u) => `<span><i style="background:${colors.get(u.key)}"></i>unit ${escapeHtml(u.key)} `
    + `(${u.timesSec.data.length} spikes, peak ch. ${escapeHtml(u.peakChannelId ?? "–")})</span>`).join("");
  root.appendChild(legend);
  root.dataset.drawn = String(units.length);
}

// a click in the scatter opens the traces tab on the 100 ms around that time
function openTracesOnClick(canvas, area, duration) {
  canvas.title = "click: the raw traces around this time";
  canvas.addEventListener("click", (ev) => {
    const t = ((ev.offsetX - area.left) / area.width) * duration;
    if (t < 0 || t > duration) return;
    update({ tracesWindow: [Math.max(0, t - 0.05), Math.min(duration, t + 0.05)], view: "traces" });
    writeUrlState();
  });
}
