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

export function render(root, data, ctx) {
  const units = unitsToDraw(data, ctx);
  const width = Math.max(320, (ctx.width || 640) - 20);
  const height = Math.max(220, Math.min(480, (ctx.height || 400) - 60));
  const canvas = el("canvas", { class: "amplitudes", title: "click: the 100 ms around this time" });
  const colors = ctx.unitColors(units.map((u) => u.key));
  const legend = el("div", { class: "legend" }, units.map((u) => el("span", {}, el("i", { style: `background:${colors.get(u.key)}` }),
    `unit ${u.key} (${values(u.spikeTimesSec).length} spikes${u.peakChannelId !== undefined ? `, peak ch. ${u.peakChannelId ?? "–"}` : ""})`)));
  root.replaceChildren(canvas, legend);
  const c2d = setupCanvas(canvas, width, height);
  const times = units.map((u) => values(u.spikeTimesSec));
  const amps = units.map((u) => values(u.spikeAmplitudes));
  const t0 = data.startTimeSec ?? 0;
  const t1 = data.endTimeSec ?? extent(times, 0)[1];
  const area = { left: 58, top: 10, width: width - 70, height: height - 50 };
  const scales = drawAxes(c2d, area, [t0, t1], extent(amps), "time (s)", data.amplitudeLabel || "amplitude");
  const range = data.allUnits ? null : ctx.state.timeRange;
  const points = drawPoints(c2d, area, scales, { units, times, amps, colors, range });
  canvas.dataset.points = String(points);
  root.dataset.drawn = String(units.length);
  canvas.addEventListener("click", (ev) => {
    const t = t0 + ((ev.offsetX - area.left) / area.width) * (t1 - t0);
    if (t >= t0 && t <= t1) ctx.setTimeRange([Math.max(t0, t - 0.05), Math.min(t1, t + 0.05)]);
  });
}

// the spikes as dots, clipped to the plot area, over the figure's time range (shaded); returns how many
function drawPoints(c2d, area, { X, Y }, { units, times, amps, colors, range }) {
  c2d.save();
  c2d.beginPath();
  c2d.rect(area.left, area.top, area.width, area.height);
  c2d.clip();
  if (range) {
    c2d.fillStyle = "#fff3bf";
    c2d.fillRect(X(range[0]), area.top, Math.max(2, X(range[1]) - X(range[0])), area.height);
  }
  let points = 0;
  units.forEach((u, i) => {
    c2d.fillStyle = colors.get(u.key);
    c2d.globalAlpha = times[i].length > 5000 ? 0.45 : 0.8;  // many spikes: translucent dots show where they pile up
    for (let j = 0; j < times[i].length; j++) c2d.fillRect(X(times[i][j]) - 1, Y(amps[i][j]) - 1, 2.2, 2.2);
    points += times[i].length;
  });
  c2d.restore();
  return points;
}
