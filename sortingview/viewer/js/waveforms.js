// Average waveforms drawn at their channels' positions on the probe, with a +-1 SD band.
import { AXIS, errorBox, niceStep, setupCanvas, unitColor } from "./plot.js";
import { displayedOrder } from "./table.js";
import { state, subscribe, unitKey } from "./store.js";

const PANEL_W = 250;
const PANEL_H = 330;
const MAX_UNITS = 12;
const DEFAULT_UNITS = 6;
let root;

export function mountWaveforms(el) {
  root = el;
  subscribe((keys) => {
    if (["waveforms", "recordingInfo", "selection", "errors", "unitIds", "view", "overlay"].some((k) => keys.has(k))) render();
  });
  render();
}

function unitsToShow() {
  const sel = displayedOrder().filter((k) => state.selection.has(k));
  if (sel.length) return { keys: sel.slice(0, MAX_UNITS), note: sel.length > MAX_UNITS ? `Showing ${MAX_UNITS} of ${sel.length} selected units.` : "" };
  const first = (displayedOrder().length ? displayedOrder() : state.unitIds.map(unitKey)).slice(0, DEFAULT_UNITS);
  return { keys: first, note: "No units selected: showing the first units of the table." };
}

function render() {
  if (!root || state.view !== "waveforms") return;
  root.innerHTML = "";
  const err = state.errors.waveforms || state.errors.recordingInfo;
  if (err) { root.appendChild(errorBox(err)); return; }
  if (!state.waveforms || !state.recordingInfo) {
    root.innerHTML = `<div class="placeholder">Computing average waveforms…</div>`;
    return;
  }
  const { keys, note } = unitsToShow();
  if (note) {
    const p = document.createElement("div");
    p.className = "note";
    p.textContent = note;
    root.appendChild(p);
  }
  const grid = document.createElement("div");
  grid.className = "plot-grid";
  root.appendChild(grid);
  const units = keys.filter((k) => state.waveforms[k]).map((k) => ({
    key: k, wf: state.waveforms[k], color: unitColor(state.unitIds.findIndex((u) => unitKey(u) === k)),
  }));
  if (state.overlay && units.length > 1) {
    addPanel(grid, "overlay").dataset.units = units.map((u) => u.key).join(",");
    drawPanel(grid.lastChild.firstChild, `Units ${units.map((u) => u.key).join(", ")}`, units, PANEL_W * 1.6);
    legend(grid.lastChild, units);
  } else {
    for (const u of units) drawPanel(addPanel(grid, u.key).firstChild, `Unit ${u.key}`, [u], PANEL_W);
  }
  root.dataset.drawn = String(units.length);
}

function addPanel(grid, unit) {
  const cell = document.createElement("div");
  cell.className = "plot-cell waveform-cell";
  cell.dataset.unit = unit;
  const canvas = document.createElement("canvas");
  canvas.className = "waveform";
  cell.appendChild(canvas);
  grid.appendChild(cell);
  return cell;
}

function legend(cell, units) {
  const div = document.createElement("div");
  div.className = "legend";
  div.innerHTML = units.map((u) => `<span><i style="background:${u.color}"></i>unit ${u.key}</span>`).join("");
  cell.appendChild(div);
}

function channelPositions(channelIds) {
  const info = state.recordingInfo;
  const ids = info.channelIds.map(String);
  const locs = info.channelLocations;
  return channelIds.map((c) => {
    const i = ids.indexOf(String(c));
    if (i < 0 || !locs) return [0, 0];
    return locs.shape ? [locs.get(i, 0), locs.get(i, 1)] : [locs[i][0], locs[i][1]];
  });
}

function pitch(values, fallback) {
  const u = [...new Set(values)].sort((a, b) => a - b);
  let best = Infinity;
  for (let i = 1; i < u.length; i++) best = Math.min(best, u[i] - u[i - 1]);
  return Number.isFinite(best) && best > 0 ? best : fallback;
}

// one panel: the waveforms of one unit, or of several overlaid (each in its colour) on the union of their channels
function drawPanel(canvas, title, units, width) {
  const ctx = setupCanvas(canvas, width, PANEL_H);
  const chanIds = [...new Set(units.flatMap((u) => u.wf.channelIds.map(String)))];
  const locs = channelPositions(chanIds);
  const pos = new Map(chanIds.map((c, i) => [c, locs[i]]));
  const xs = [...pos.values()].map((p) => p[0]);
  const ys = [...pos.values()].map((p) => p[1]);
  const px = pitch(xs, 20);
  const py = pitch(ys, 20);
  const area = { left: 10, right: width - 10, top: 34, bottom: PANEL_H - 44 };
  const minX = Math.min(...xs) - px / 2;
  const minY = Math.min(...ys) - py;
  const sx = (area.right - area.left) / (Math.max(...xs) + px / 2 - minX);
  const sy = (area.bottom - area.top) / (Math.max(...ys) + py - minY);
  const boxW = Math.min(px * sx * 0.9, 110);
  const boxH = py * sy;
  let maxAbs = 0;
  for (const { wf } of units) for (const v of wf.waveform.data) maxAbs = Math.max(maxAbs, Math.abs(v));
  const amp = maxAbs > 0 ? (boxH * 1.1) / maxAbs : 1;  // the largest deflection spans about one channel pitch
  const geom = { area, minX, minY, sx, sy, boxW, amp };
  for (const { wf, color } of units) drawUnitTraces(ctx, wf, color, pos, geom);
  const peaks = new Set(units.map((u) => String(u.wf.peakChannelId)));
  for (const [c, [x, y]] of pos) {
    const cx = area.left + (x - minX) * sx;
    const cy = area.bottom - (y - minY) * sy;
    ctx.fillStyle = peaks.has(c) ? "#000" : "#999";
    ctx.font = peaks.has(c) ? "600 10px system-ui, sans-serif" : "10px system-ui, sans-serif";
    ctx.textAlign = "left";
    ctx.textBaseline = "bottom";
    ctx.fillText(c, cx - boxW / 2, cy - boxH * 0.25);
  }
  const nFrames = units[0].wf.waveform.shape[0];
  drawScaleBars(ctx, maxAbs, amp, boxW / ((nFrames - 1) / state.recordingInfo.samplingFrequency * 1000));
  ctx.fillStyle = "#222";
  ctx.font = "600 12px system-ui, sans-serif";
  ctx.textAlign = "left";
  ctx.textBaseline = "top";
  ctx.fillText(title, 8, 6);
  if (units.length === 1) {
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillStyle = "#666";
    ctx.textAlign = "right";
    ctx.fillText(`peak ch. ${units[0].wf.peakChannelId}`, width - 8, 7);
  }
}

function drawUnitTraces(ctx, wf, color, pos, g) {
  const [nFrames, nCh] = wf.waveform.shape;
  const peak = String(wf.peakChannelId);
  for (let c = 0; c < nCh; c++) {
    const [x, y] = pos.get(String(wf.channelIds[c]));
    const cx = g.area.left + (x - g.minX) * g.sx;
    const cy = g.area.bottom - (y - g.minY) * g.sy;  // probe depth grows upwards
    const T = (f) => cx - g.boxW / 2 + (f / (nFrames - 1)) * g.boxW;
    const mean = (f) => wf.waveform.get(f, c);
    const sd = (f) => (wf.waveformStdDev ? wf.waveformStdDev.get(f, c) : 0);
    ctx.fillStyle = color + "33";
    ctx.beginPath();
    for (let f = 0; f < nFrames; f++) ctx.lineTo(T(f), cy - (mean(f) + sd(f)) * g.amp);
    for (let f = nFrames - 1; f >= 0; f--) ctx.lineTo(T(f), cy - (mean(f) - sd(f)) * g.amp);
    ctx.closePath();
    ctx.fill();
    ctx.strokeStyle = color;
    ctx.lineWidth = String(wf.channelIds[c]) === peak ? 2 : 1.2;
    ctx.beginPath();
    for (let f = 0; f < nFrames; f++) ctx.lineTo(T(f), cy - mean(f) * g.amp);
    ctx.stroke();
  }
}

function drawScaleBars(ctx, maxAbs, amp, pxPerMs) {
  const x = 14;
  const y = PANEL_H - 10;
  const v = niceStep(maxAbs, 2);
  ctx.strokeStyle = AXIS;
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  ctx.moveTo(x, y - v * amp); ctx.lineTo(x, y); ctx.lineTo(x + pxPerMs, y);
  ctx.stroke();
  ctx.fillStyle = AXIS;
  ctx.font = "10px system-ui, sans-serif";
  ctx.textAlign = "left";
  ctx.textBaseline = "middle";
  ctx.fillText(`${v} µV`, x + 4, y - Math.min(v * amp, 40) / 2 - 4);
  ctx.textBaseline = "bottom";
  ctx.fillText("1 ms", x + pxPerMs + 4, y + 2);
}
