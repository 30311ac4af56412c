// RasterPlot: one row per unit (first plot at the bottom), a short tick per spike in the unit's colour, over
// the figure's shared time range. Click a row selects its unit (ctrl/shift-click toggles); selected rows are
// underlined in light blue, the hovered row in yellow with its id on both sides. Wheel zooms around the
// pointer, dragging pans (both move the time range every time-based view of the figure shares).
import { AXIS, GRID, formatTick, ticks } from "../plot.js";
import { checkList, el, isUnitId, unitKey, values } from "./common.js";
import { isNum, isNumList, localState, sizedCanvas } from "../draw/widgets.js";

export const type = "RasterPlot";
export const uses = ["selection", "timeRange"];
const MARGINS = { left: 50, right: 50, top: 10, bottom: 40 };
const TOOLBAR_HEIGHT = 28;

export function unitIds(data) { return data.plots.map((p) => p.unitId); }

export function check(data) {
  if (!isNum(data.startTimeSec)) return "startTimeSec must be a number";
  if (!isNum(data.endTimeSec)) return "endTimeSec must be a number";
  if (!(data.endTimeSec > data.startTimeSec)) return "endTimeSec must be greater than startTimeSec";
  if (data.hideToolbar !== undefined && typeof data.hideToolbar !== "boolean") return "hideToolbar must be true or false";
  return checkList(data, "plots", (p) => {
    if (!isUnitId(p.unitId)) return "unitId must be a number or a string";
    if (!isNumList(p.spikeTimesSec)) return "spikeTimesSec must be a list of numbers";
    return null;
  });
}

// the shared time range when it overlaps the data's, else the data's whole range
export function visibleRange(data, shared) {
  if (shared && shared[1] > shared[0] && shared[1] > data.startTimeSec && shared[0] < data.endTimeSec) return shared;
  return [data.startTimeSec, data.endTimeSec];
}

export function render(elem, data, ctx) {
  const width = ctx.width;
  const height = Math.max(1, ctx.height - (data.hideToolbar ? 0 : TOOLBAR_HEIGHT));
  const local = localState(elem, "raster", { hovered: null });
  const [t0, t1] = visibleRange(data, ctx.state.timeRange);
  const { canvas, ctx2d } = sizedCanvas(width, height, "raster-plot");
  const geom = { width, height, t0, t1, n: data.plots.length, limits: [data.startTimeSec, data.endTimeSec] };
  const tools = data.hideToolbar ? null : timeToolbar(geom, ctx);
  elem.replaceChildren(el("div", { class: "sv-raster" }, tools, canvas));
  const draw = () => paintRaster(ctx2d, data, geom, ctx, local.hovered);
  draw();
  const rowAt = (y) => {
    const frac = 1 - (y - MARGINS.top) / (height - MARGINS.top - MARGINS.bottom);
    const i = Math.round(frac * geom.n - 0.5);
    return i >= 0 && i < geom.n ? unitKey(data.plots[i].unitId) : null;
  };
  wireTimeAxis(canvas, geom, ctx, {
    onClick: (e, y) => {
      const key = rowAt(y);
      if (key !== null) ctx.clickUnit(key, { ctrlKey: e.ctrlKey || e.metaKey || e.shiftKey });
    },
    onHover: (y) => { const key = rowAt(y); if (key !== local.hovered) { local.hovered = key; draw(); } },
  });
}

function paintRaster(c, data, g, ctx, hovered) {
  const { width, height, t0, t1, n } = g;
  const pw = width - MARGINS.left - MARGINS.right;
  const ph = height - MARGINS.top - MARGINS.bottom;
  const X = (t) => MARGINS.left + ((t - t0) / (t1 - t0)) * pw;
  const Y = (i) => height - MARGINS.bottom - ((i + 0.5) / n) * ph;
  c.clearRect(0, 0, width, height);
  drawTimeAxis(c, X, t0, t1, pw, height);
  const sel = ctx.state.selection;
  const rowPx = ph / Math.max(1, n);
  c.textBaseline = "middle";
  data.plots.forEach((p, i) => {
    const key = unitKey(p.unitId);
    const emphasis = sel.has(key) || key === hovered;
    if (rowPx < 10 && !emphasis) return;
    c.font = `${emphasis ? "bold " : ""}12px Arial`;
    c.fillStyle = sel.has(key) ? "black" : ctx.unitColor(key);
    c.textAlign = "right";
    c.fillText(String(p.unitId), MARGINS.left - 4, Y(i));
    if (key === hovered) { c.textAlign = "left"; c.fillText(String(p.unitId), width - MARGINS.right + 4, Y(i)); }
  });
  c.save();
  c.beginPath();
  c.rect(MARGINS.left, MARGINS.top, pw, ph);
  c.clip();
  data.plots.forEach((p, i) => {
    const key = unitKey(p.unitId);
    if (sel.has(key)) rowLine(c, Y(i), width, "lightblue", 3);
    if (key === hovered) { rowLine(c, Y(i), width, "yellow", 3); rowLine(c, Y(i), width, "gray", 1); }
  });
  c.lineWidth = Math.min(3, Math.max(1, rowPx * 0.6));
  data.plots.forEach((p, i) => {
    const times = values(p.spikeTimesSec);
    const y = Y(i);
    c.strokeStyle = ctx.unitColor(unitKey(p.unitId));
    c.beginPath();
    for (let k = 0; k < times.length; k++) {
      const t = times[k];
      if (t < t0 || t > t1) continue;
      const x = X(t);
      c.moveTo(x - 2, y); c.lineTo(x + 2, y);
    }
    c.stroke();
  });
  c.restore();
}

function rowLine(c, y, width, color, w) {
  c.strokeStyle = color; c.lineWidth = w;
  c.beginPath(); c.moveTo(0, y); c.lineTo(width, y); c.stroke();
}

function drawTimeAxis(c, X, t0, t1, pw, height) {
  const y = height - MARGINS.bottom;
  c.font = "11px Arial";
  c.textAlign = "center";
  c.textBaseline = "top";
  for (const t of ticks(t0, t1, Math.max(2, Math.floor(pw / 90)))) {
    c.strokeStyle = GRID; c.lineWidth = 1;
    c.beginPath(); c.moveTo(X(t), MARGINS.top); c.lineTo(X(t), y); c.stroke();
    c.fillStyle = AXIS;
    c.fillText(formatTick(t), X(t), y + 4);
  }
  c.fillText("time (s)", MARGINS.left + pw / 2, y + 20);
}

// Clicks, hover, wheel zoom and drag pan over a time axis; the range goes to the figure's shared state.
export function wireTimeAxis(canvas, g, ctx, { onClick, onHover }) {
  const pw = g.width - MARGINS.left - MARGINS.right;
  const toT = (x) => g.t0 + ((x - MARGINS.left) / pw) * (g.t1 - g.t0);
  const pos = (e) => { const b = canvas.getBoundingClientRect(); return [e.clientX - b.left, e.clientY - b.top]; };
  let drag = null;
  canvas.addEventListener("mousedown", (e) => { drag = { x: pos(e)[0], moved: false }; });
  canvas.addEventListener("mousemove", (e) => {
    const [x, y] = pos(e);
    if (drag && Math.abs(x - drag.x) > 4) drag.moved = true;
    if (!drag) onHover(y);
  });
  canvas.addEventListener("mouseup", (e) => {
    const [x, y] = pos(e);
    if (drag && drag.moved) {
      const dt = toT(drag.x) - toT(x);
      ctx.setTimeRange(clampRange([g.t0 + dt, g.t1 + dt], g.limits));
    } else if (drag) onClick(e, y);
    drag = null;
  });
  canvas.addEventListener("mouseleave", () => { drag = null; onHover(-1); });
  canvas.addEventListener("wheel", (e) => {
    e.preventDefault();
    const tc = toT(pos(e)[0]);
    const f = e.deltaY > 0 ? 1.3 : 1 / 1.3;
    ctx.setTimeRange(clampRange([tc - (tc - g.t0) * f, tc + (g.t1 - tc) * f], g.limits));
  }, { passive: false });
}

// zoom and pan buttons (the original's time-scroll toolbar): zoom by 1.3 around the middle, pan by a fifth
function timeToolbar(g, ctx) {
  const span = g.t1 - g.t0;
  const mid = (g.t0 + g.t1) / 2;
  const set = (a, b) => ctx.setTimeRange(clampRange([a, b], g.limits));
  const b = (text, title, fn) => el("button", { title, dataset: { act: title }, onclick: fn }, text);
  return el("div", { class: "sv-toolbar", style: `height:${TOOLBAR_HEIGHT}px` },
    b("+", "zoom in", () => set(mid - span / 2.6, mid + span / 2.6)),
    b("−", "zoom out", () => set(mid - span * 0.65, mid + span * 0.65)),
    b("←", "pan left", () => set(g.t0 - span / 5, g.t1 - span / 5)),
    b("→", "pan right", () => set(g.t0 + span / 5, g.t1 + span / 5)),
    el("span", { class: "tool-text" }, `${g.t0.toFixed(3)} – ${g.t1.toFixed(3)} s`));
}

// a range moved or zoomed no further than the data's limits
export function clampRange([a, b], [lo, hi]) {
  const w = Math.min(b - a, hi - lo);
  const start = Math.min(Math.max(a, lo), hi - w);
  return [start, start + w];
}
