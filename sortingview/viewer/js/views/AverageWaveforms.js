// AverageWaveforms: each unit's mean waveform on every channel of its neighbourhood, drawn at the channel's
// position on the probe, with a ±1 SD band (or the percentile bands), the peak channel in bold and scale bars.
// Shows the selected units (up to 12; the first 6 of the table when none is selected); with state.overlay, the
// selected units in one panel on the union of their channels. Waveforms are (channels x samples), as the
// original GUI and SpikeInterface write them. Extensions: peakChannelId, samplingFrequency.
import { AXIS, fitText, niceStep, note, setupCanvas } from "../plot.js";
import { NDArray } from "../api.js";
import { checkList, el, is2d, isUnitId, selectedInOrder, unitKey, values } from "./common.js";

export const type = "AverageWaveforms";
export const uses = ["selection", "order", "overlay"];
const PANEL_W = 250;
const PANEL_H = 330;
const MAX_UNITS = 12;
const DEFAULT_UNITS = 6;

export function check(data) {
  const problem = checkList(data, "averageWaveforms", (w) => {
    if (!isUnitId(w.unitId)) return "unitId must be a number or a non-empty string";
    if (!Array.isArray(w.channelIds)) return "channelIds must be a list";
    if (!is2d(w.waveform) || w.waveform.shape[0] !== w.channelIds.length) return "waveform must be an array (channels x samples), one row per channel id";
    const same = (a) => is2d(a) && a.shape.join() === w.waveform.shape.join();
    if (w.waveformStdDev !== undefined && !same(w.waveformStdDev)) return "waveformStdDev must have the waveform's shape";
    const p = w.waveformPercentiles;
    if (p !== undefined && !(Array.isArray(p) && (p.length === 2 || p.length === 4) && p.every(same))) {
      return "waveformPercentiles must be 2 or 4 arrays of the waveform's shape";
    }
    return null;
  });
  if (problem) return problem;
  const locs = data.channelLocations;
  const isPoint = (p) => (Array.isArray(p) || p instanceof NDArray) && values(p).length >= 2;
  if (locs !== undefined && (typeof locs !== "object" || Array.isArray(locs) || !Object.values(locs).every(isPoint))) {
    return "channelLocations must map channel ids to [x, y]";
  }
  return null;
}

export function unitIds(data) { return data.averageWaveforms.map((w) => w.unitId); }

export function render(root, data, ctx) {
  const byUnit = new Map(data.averageWaveforms.map((w) => [unitKey(w.unitId), w]));
  const order = (ctx.state.order.length ? ctx.state.order : [...byUnit.keys()]).filter((k) => byUnit.has(k));
  const sel = selectedInOrder(ctx).filter((k) => byUnit.has(k));
  const keys = sel.length ? sel.slice(0, MAX_UNITS) : order.slice(0, DEFAULT_UNITS);
  const msg = sel.length > MAX_UNITS ? `Showing ${MAX_UNITS} of ${sel.length} selected units.`
    : sel.length ? "" : "No units selected: showing the first units of the table.";
  const grid = el("div", { class: "plot-grid" });
  root.replaceChildren(...(msg ? [note(msg)] : []), grid);
  const colors = ctx.unitColors(keys);
  const units = keys.map((k) => ({ key: k, wf: byUnit.get(k), color: colors.get(k) }));
  const geo = geometry(data);
  if (ctx.state.overlay && units.length > 1) {
    const cell = addPanel(grid, "overlay");
    cell.dataset.units = keys.join(",");
    drawPanel(cell.firstChild, `Units ${keys.join(", ")}`, units, PANEL_W * 1.6, geo, data.samplingFrequency);
    cell.appendChild(el("div", { class: "legend" }, units.map((u) => el("span", {}, el("i", { style: `background:${u.color}` }), `unit ${u.key}`))));
  } else {
    for (const u of units) drawPanel(addPanel(grid, u.key).firstChild, `Unit ${u.key}`, [u], PANEL_W, geo, data.samplingFrequency);
  }
  grid.addEventListener("click", (ev) => {
    const cell = ev.target.closest(".plot-cell");
    if (cell && cell.dataset.unit !== "overlay") ctx.clickUnit(cell.dataset.unit, ev);
  });
  root.dataset.drawn = String(units.length);
}

function addPanel(grid, unit) {
  const cell = el("div", { class: "plot-cell waveform-cell", dataset: { unit } }, el("canvas", { class: "waveform" }));
  grid.appendChild(cell);
  return cell;
}

// channel id -> [x, y] on the probe; without locations, the channels stacked in their order
function geometry(data) {
  const locs = data.channelLocations || {};
  return (ids) => ids.map((c, i) => {
    const p = locs[String(c)];
    return p ? [Number(values(p)[0]), Number(values(p)[1])] : [0, i * 20];
  });
}

function pitch(v, fallback) {
  const u = [...new Set(v)].sort((a, b) => a - b);
  let best = Infinity;
  for (let i = 1; i < u.length; i++) best = Math.min(best, u[i] - u[i - 1]);
  return Number.isFinite(best) && best > 0 ? best : fallback;
}

function peakChannel(wf) {
  if (wf.peakChannelId !== undefined && wf.peakChannelId !== null) return String(wf.peakChannelId);
  const [nC, nF] = wf.waveform.shape;
  let best = 0;
  let bestC = 0;
  for (let c = 0; c < nC; c++) {
    let lo = Infinity; let hi = -Infinity;
    for (let f = 0; f < nF; f++) { const v = wf.waveform.get(c, f); lo = Math.min(lo, v); hi = Math.max(hi, v); }
    if (hi - lo > best) { best = hi - lo; bestC = c; }
  }
  return String(wf.channelIds[bestC]);
}

// where each channel's box goes in a panel of this width: the probe layout scaled into the plot area
function panelGeometry(units, width, geo) {
  const chanIds = [...new Set(units.flatMap((u) => u.wf.channelIds.map(String)))];
  const locs = geo(chanIds);
  const pos = new Map(chanIds.map((c, i) => [c, locs[i]]));
  const xs = locs.map((p) => p[0]);
  const ys = locs.map((p) => p[1]);
  const px = pitch(xs, 20);
  const py = pitch(ys, 20);
  const area = { left: 6, right: width - 6, top: 26, bottom: PANEL_H - 30 };
  const minX = Math.min(...xs) - px / 2;
  const minY = Math.min(...ys) - py;
  const sx = (area.right - area.left) / (Math.max(...xs) + px / 2 - minX);
  const sy = (area.bottom - area.top) / (Math.max(...ys) + py - minY);
  let maxAbs = 0;
  for (const { wf } of units) {
    const base = channelMeans(wf.waveform);
    const n = wf.waveform.shape[1];
    wf.waveform.data.forEach((v, i) => { maxAbs = Math.max(maxAbs, Math.abs(v - base[Math.floor(i / n)])); });
  }
  const boxW = Math.min(px * sx * 0.9, 110);
  const boxH = py * sy;
  const amp = maxAbs > 0 ? (boxH * 0.9) / maxAbs : 1;  // the largest deflection spans most of a channel pitch
  return { pos, area, minX, minY, sx, sy, boxW, boxH, amp, maxAbs };
}

// one panel: one unit, or several overlaid on the union of their channels. Everything of a unit is clipped to
// the plot area, so a wide ±SD band of a noisy unit never runs over the title, the scale bars or the card.
function drawPanel(canvas, title, units, width, geo, fs) {
  const ctx = setupCanvas(canvas, width, PANEL_H);
  const g = panelGeometry(units, width, geo);
  const { area } = g;
  ctx.save();
  ctx.beginPath();
  ctx.rect(area.left, area.top, area.right - area.left, area.bottom - area.top);
  ctx.clip();
  for (const { wf, color } of units) drawUnitTraces(ctx, wf, color, g.pos, g);
  ctx.restore();
  canvas.dataset.area = JSON.stringify([area.left, area.top, area.right, area.bottom]);
  const peaks = new Set(units.map((u) => peakChannel(u.wf)));
  ctx.textAlign = "left";
  ctx.textBaseline = "bottom";
  for (const [c, [x, y]] of g.pos) {
    ctx.fillStyle = peaks.has(c) ? "#000" : "#999";
    ctx.font = peaks.has(c) ? "600 10px system-ui, sans-serif" : "10px system-ui, sans-serif";
    ctx.fillText(c, area.left + (x - g.minX) * g.sx - g.boxW / 2, Math.max(area.top + 10, area.bottom - (y - g.minY) * g.sy - g.boxH * 0.25));
  }
  const nFrames = units[0].wf.waveform.shape[1];
  drawScaleBars(ctx, g.maxAbs, g.amp, fs ? g.boxW / (((nFrames - 1) / fs) * 1000) : null);
  drawTitle(ctx, title, units.length === 1 ? `peak ch. ${peakChannel(units[0].wf)}` : "", width);
  canvas.title = title;
}

// the title, cut to leave room for the peak channel on the right (the full title is the canvas's tooltip)
function drawTitle(ctx, title, peakText, width) {
  ctx.font = "11px system-ui, sans-serif";
  const peakW = peakText ? ctx.measureText(peakText).width + 10 : 0;
  ctx.fillStyle = "#666";
  ctx.textAlign = "right";
  ctx.textBaseline = "top";
  if (peakText) ctx.fillText(peakText, width - 8, 7);
  ctx.fillStyle = "#222";
  ctx.font = "600 12px system-ui, sans-serif";
  ctx.textAlign = "left";
  ctx.fillText(fitText(ctx, title, width - 16 - peakW), 8, 6);
}

// the mean of each channel's row: subtracted from the waveform and its bands, as the original
function channelMeans(a) {
  const [nC, nF] = a.shape;
  const out = new Float64Array(nC);
  for (let c = 0; c < nC; c++) { let sum = 0; for (let f = 0; f < nF; f++) sum += a.get(c, f); out[c] = nF ? sum / nF : 0; }
  return out;
}

// a band between two curves lo(f) and hi(f) of one channel
function band(ctx, T, Y, n, lo, hi, fill) {
  ctx.fillStyle = fill;
  ctx.beginPath();
  for (let f = 0; f < n; f++) ctx.lineTo(T(f), Y(hi(f)));
  for (let f = n - 1; f >= 0; f--) ctx.lineTo(T(f), Y(lo(f)));
  ctx.closePath();
  ctx.fill();
}

function drawUnitTraces(ctx, wf, color, pos, g) {
  const [nCh, nFrames] = wf.waveform.shape;
  const peak = peakChannel(wf);
  const base = channelMeans(wf.waveform);
  const pct = wf.waveformPercentiles;
  for (let c = 0; c < nCh; c++) {
    const [x, y] = pos.get(String(wf.channelIds[c]));
    const cx = g.area.left + (x - g.minX) * g.sx;
    const cy = g.area.bottom - (y - g.minY) * g.sy;  // probe depth grows upwards
    const T = (f) => cx - g.boxW / 2 + (f / (nFrames - 1)) * g.boxW;
    const Y = (v) => cy - v * g.amp;
    const mean = (f) => wf.waveform.get(c, f) - base[c];
    if (wf.waveformStdDev) {
      const sd = (f) => wf.waveformStdDev.get(c, f);
      band(ctx, T, Y, nFrames, (f) => mean(f) - sd(f), (f) => mean(f) + sd(f), `${color}33`);
    } else if (pct) {
      const p = (k) => (f) => pct[k].get(c, f) - base[c];
      band(ctx, T, Y, nFrames, p(0), p(pct.length - 1), `${color}26`);
      if (pct.length === 4) band(ctx, T, Y, nFrames, p(1), p(2), `${color}4d`);
    }
    ctx.strokeStyle = color;
    ctx.lineWidth = String(wf.channelIds[c]) === peak ? 2 : 1.2;
    ctx.beginPath();
    for (let f = 0; f < nFrames; f++) ctx.lineTo(T(f), Y(mean(f)));
    ctx.stroke();
  }
}

function drawScaleBars(ctx, maxAbs, amp, pxPerMs) {
  const x = 14;
  const y = PANEL_H - 8;
  const v = niceStep(maxAbs || 1, 2);
  const barH = Math.min(v * amp, 22);  // the bar stays in the bottom strip; its label says what it measures
  const shownV = (barH / amp);
  ctx.strokeStyle = AXIS;
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  ctx.moveTo(x, y - barH); ctx.lineTo(x, y);
  if (pxPerMs) ctx.lineTo(x + pxPerMs, y);
  ctx.stroke();
  ctx.fillStyle = AXIS;
  ctx.font = "10px system-ui, sans-serif";
  ctx.textAlign = "left";
  ctx.textBaseline = "middle";
  ctx.fillText(`${Number(shownV.toPrecision(2))} µV`, x + 4, y - barH / 2 - 3);
  if (!pxPerMs) return;
  ctx.textBaseline = "bottom";
  ctx.fillText("1 ms", x + pxPerMs + 4, y + 2);
}
