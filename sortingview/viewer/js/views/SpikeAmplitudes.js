// SpikeAmplitudes: one scatter of spike amplitudes against time, the selected units (or all when none of them
// is selected; every unit with our extension allUnits), each in its colour. A click sets the figure's time range
// (state.timeRange, shaded) to the 100 ms around that time.
import { drawAxes, extent, setupCanvas } from "../plot.js";
import { checkList, el, isNumbers, isUnitId, unitKey, values } from "./common.js";

export const type = "SpikeAmplitudes";
export const uses = ["selection", "order", "timeRange", "visibleUnits"];

export function check(data) {
  for (const k of ["startTimeSec", "endTimeSec"]) {
    if (data[k] !== undefined && !(typeof data[k] === "number" && Number.isFinite(data[k]))) return `${k} must be a number`;
  }
  return checkList(data, "units", (u) => (!isUnitId(u.unitId) ? "unitId must be a number or a non-empty string"
    : !isNumbers(u.spikeTimesSec) ? "spikeTimesSec must be an array of numbers"
      : !isNumbers(u.spikeAmplitudes) ? "spikeAmplitudes must be an array of numbers"
        : values(u.spikeTimesSec).length !== values(u.spikeAmplitudes).length ? "spikeAmplitudes must have one value per spike time" : null));
}

export function unitIds(data) { return data.units.map((u) => u.unitId); }

// the units drawn, in the table's order: the selected ones of the data (all when none is selected, or with
// allUnits), within the figure's unit restriction
function unitsToDraw(data, ctx) {
  const order = ctx.state.order;
  const rank = (k) => { const i = order.indexOf(k); return i < 0 ? order.length : i; };
  const visible = ctx.state.visibleUnits;
  const all = data.units.map((u) => ({ ...u, key: unitKey(u.unitId) })).filter((u) => !visible || visible.has(u.key))
    .sort((a, b) => rank(a.key) - rank(b.key));
  const selected = all.filter((u) => ctx.state.selection.has(u.key));
  return data.allUnits || !selected.length ? all : selected;
}

const MAX_POINTS = 150000;  // more spikes than this in the window: a density image (one cell per pixel) instead of dots

export function render(root, data, ctx) {
  const units = unitsToDraw(data, ctx);
  const width = Math.max(320, (ctx.width || 640) - 20);
  const height = Math.max(220, Math.min(480, (ctx.height || 400) - 60));
  const canvas = el("canvas", { class: "amplitudes", title: "click: the 100 ms around this time; wheel: zoom in time; double-click: all" });
  const colors = ctx.unitColors(units.map((u) => u.key));
  const legend = el("div", { class: "legend" }, units.map((u) => el("span", {}, el("i", { style: `background:${colors.get(u.key)}` }),
    `unit ${u.key} (${values(u.spikeTimesSec).length} spikes${u.peakChannelId !== undefined ? `, peak ch. ${u.peakChannelId ?? "–"}` : ""})`)));
  root.replaceChildren(canvas, legend);
  const times = units.map((u) => values(u.spikeTimesSec));
  const amps = units.map((u) => values(u.spikeAmplitudes));
  const full = [data.startTimeSec ?? 0, data.endTimeSec ?? extent(times, 0)[1]];
  const plot = { canvas, width, height, units, times, amps, colors, yRange: extent(amps), label: data.amplitudeLabel || "amplitude",
    area: { left: 58, top: 10, width: width - 70, height: height - 50 }, range: data.allUnits ? null : ctx.state.timeRange };
  // the time zoom is kept on the element, so a redraw for a new selection keeps it
  const win = Array.isArray(root.ampWindow) && root.ampWindow[0] >= full[0] && root.ampWindow[1] <= full[1] ? root.ampWindow : full;
  drawPlot(plot, win);
  root.dataset.drawn = String(units.length);
  const timeAt = (ev) => plot.win[0] + ((ev.offsetX - plot.area.left) / plot.area.width) * (plot.win[1] - plot.win[0]);
  canvas.addEventListener("click", (ev) => {
    // the second click of a double-click (no dblclick event: the first click's new time range redrew the canvas)
    if (ev.detail === 2) { root.ampWindow = null; drawPlot(plot, full); return; }
    const t = timeAt(ev);
    if (t >= full[0] && t <= full[1]) ctx.setTimeRange([Math.max(full[0], t - 0.05), Math.min(full[1], t + 0.05)]);
  });
  canvas.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const [a, b] = plot.win;
    const at = Math.min(Math.max(timeAt(ev), a), b);
    const f = ev.deltaY < 0 ? 0.7 : 1 / 0.7;
    const len = Math.min(full[1] - full[0], Math.max((b - a) * f, 1e-3));
    const start = Math.min(Math.max(full[0], at - (at - a) * (len / (b - a))), full[1] - len);
    root.ampWindow = [start, start + len];
    drawPlot(plot, root.ampWindow);
  }, { passive: false });

}

// axes and spikes in the time window `win`: dots when few enough, else a density image
function drawPlot(plot, win) {
  plot.win = win;
  const { canvas, area } = plot;
  const c2d = setupCanvas(canvas, plot.width, plot.height);
  const scales = drawAxes(c2d, area, win, plot.yRange, "time (s)", plot.label);
  c2d.save();
  c2d.beginPath();
  c2d.rect(area.left, area.top, area.width, area.height);
  c2d.clip();
  if (plot.range) {
    c2d.fillStyle = "#fff3bf";
    c2d.fillRect(scales.X(plot.range[0]), area.top, Math.max(2, scales.X(plot.range[1]) - scales.X(plot.range[0])), area.height);
  }
  const spans = plot.times.map((t) => windowSpan(t, win));
  const inWindow = spans.reduce((n, span, i) => n + countIn(plot.times[i], span, win), 0);
  const dense = inWindow > MAX_POINTS;
  if (dense) drawDensity(c2d, plot, win, spans); else drawPoints(c2d, scales, plot, spans);
  c2d.restore();
  canvas.dataset.points = String(inWindow);
  canvas.dataset.mode = dense ? "density" : "points";
  canvas.dataset.window = JSON.stringify(win);
  performance.mark("sv:amplitudes-drawn");
}

// [first, end) of the spikes in the window: a binary search when the times are sorted (as spike times are),
// else the whole array (filtered when drawn)
function windowSpan(t, [a, b]) {
  const n = t.length;
  if (!n || !(t[0] <= t[n - 1]) || !isSorted(t)) return [0, n];
  return [lowerBound(t, a), lowerBound(t, b + 1e-12)];
}

// the spikes of a span inside the window (all of a sorted span; unsorted times are counted one by one)
function countIn(t, [i0, i1], [a, b]) {
  if (i0 > 0 || i1 < t.length || !t.length || (t[0] >= a && t[t.length - 1] <= b && isSorted(t))) return i1 - i0;
  let n = 0;
  for (let j = i0; j < i1; j++) if (t[j] >= a && t[j] <= b) n++;
  return n;
}

function isSorted(t) {
  for (let i = 1; i < t.length; i++) if (t[i] < t[i - 1]) return false;
  return true;
}

function lowerBound(a, v) {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (a[mid] < v) lo = mid + 1; else hi = mid; }
  return lo;
}

// the spikes as dots (exact positions), each unit in its colour
function drawPoints(c2d, { X, Y }, { units, times, amps, colors }, spans) {
  units.forEach((u, i) => {
    const t = times[i];
    const a = amps[i];
    c2d.fillStyle = colors.get(u.key);
    c2d.globalAlpha = spans[i][1] - spans[i][0] > 5000 ? 0.45 : 0.8;  // many spikes: translucent dots show where they pile up
    for (let j = spans[i][0]; j < spans[i][1]; j++) c2d.fillRect(X(t[j]) - 1, Y(a[j]) - 1, 2.2, 2.2);
  });
  c2d.globalAlpha = 1;
}

// one cell per pixel: the spikes counted per cell and per colour, drawn as an image whose opacity grows with
// the log of the count (a lone spike stays visible, a dense band is not a solid block)
function drawDensity(c2d, { area, units, times, amps, colors, yRange }, win, spans) {
  const gw = Math.max(1, Math.round(area.width));
  const gh = Math.max(1, Math.round(area.height));
  const count = new Float32Array(gw * gh);
  const rgb = [new Float32Array(gw * gh), new Float32Array(gw * gh), new Float32Array(gw * gh)];
  const sx = gw / (win[1] - win[0]);
  const sy = gh / ((yRange[1] - yRange[0]) || 1);
  units.forEach((u, i) => {
    const [r, g, b] = rgbOf(colors.get(u.key));
    const t = times[i];
    const a = amps[i];
    for (let j = spans[i][0]; j < spans[i][1]; j++) {
      const x = Math.floor((t[j] - win[0]) * sx);
      const y = gh - 1 - Math.floor((a[j] - yRange[0]) * sy);
      if (x < 0 || x >= gw || y < 0 || y >= gh) continue;
      const k = y * gw + x;
      count[k]++; rgb[0][k] += r; rgb[1][k] += g; rgb[2][k] += b;
    }
  });
  let max = 1;
  for (let k = 0; k < count.length; k++) if (count[k] > max) max = count[k];
  const img = new ImageData(gw, gh);
  const px = img.data;
  const logMax = Math.log1p(max);
  for (let k = 0; k < count.length; k++) {
    const n = count[k];
    if (!n) continue;
    px[4 * k] = rgb[0][k] / n; px[4 * k + 1] = rgb[1][k] / n; px[4 * k + 2] = rgb[2][k] / n;
    px[4 * k + 3] = 255 * (0.35 + 0.65 * Math.log1p(n) / logMax);
  }
  const off = document.createElement("canvas");
  off.width = gw;
  off.height = gh;
  off.getContext("2d").putImageData(img, 0, 0);
  c2d.imageSmoothingEnabled = false;
  c2d.drawImage(off, area.left, area.top, area.width, area.height);
}

// [r, g, b] of a CSS colour (the canvas normalizes it to #rrggbb)
function rgbOf(css) {
  const c2d = document.createElement("canvas").getContext("2d");
  c2d.fillStyle = css;
  const hex = /^#([0-9a-f]{6})$/i.exec(c2d.fillStyle);
  if (!hex) return [100, 100, 100];
  const v = parseInt(hex[1], 16);
  return [v >> 16, (v >> 8) & 255, v & 255];
}
