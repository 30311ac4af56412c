// UnitMetricsGraph: a list of the metrics on the left; with none chosen, a histogram of every metric (grey
// bars, a line in the unit's colour per selected unit); with some chosen (click toggles), a matrix of them:
// histograms on the diagonal, scatter plots of each pair elsewhere (selected units in their colour, the others
// light grey). Dragging over a plot selects the units in it (ctrl adds), shift-drag zooms to it, a click on a
// scatter marker selects its unit; the toolbar changes box size and number of bins and resets the zoom.
import { checkList, el, isUnitId, unitKey } from "./common.js";
import { drawHistogram, drawScatter, histogramBars } from "../draw/metricplots.js";
import { attachDragSelect, rectContains } from "../draw/dragselect.js";
import { localState, sizedCanvas } from "../draw/widgets.js";

export const type = "UnitMetricsGraph";
export const uses = ["selection"];
const LIST_WIDTH = 200;
const TOOLBAR_WIDTH = 36;
const LABEL = 30;
const MARKER_RADIUS = 6;

export function unitIds(data) { return data.units.map((u) => u.unitId); }

export function check(data) {
  const m = checkList(data, "metrics", (x) => {
    for (const f of ["key", "label", "dtype"]) if (typeof x[f] !== "string") return `${f} must be a string`;
    return null;
  });
  if (m) return m;
  return checkList(data, "units", (u) => {
    if (!isUnitId(u.unitId)) return "unitId must be a number or a string";
    const ok = u.values && typeof u.values === "object" && !Array.isArray(u.values);
    return ok ? null : "values must be an object {metricKey: value}";
  });
}

// the numeric values of a metric, with their unit keys
export function metricValues(units, key) {
  const out = [];
  for (const u of units) {
    const v = u.values[key];
    if (typeof v === "number" && Number.isFinite(v)) out.push({ key: unitKey(u.unitId), v });
  }
  return out;
}

export function render(elem, data, ctx) {
  const local = localState(elem, "metricsGraph", { chosen: [], scale: 1, bins: 10, ranges: {} });
  local.chosen = local.chosen.filter((k) => data.metrics.some((m) => m.key === k));
  const rerender = () => render(elem, data, ctx);
  const listWidth = Math.min(LIST_WIDTH, Math.floor(ctx.width / 4));
  const plotsWidth = ctx.width - listWidth - TOOLBAR_WIDTH;
  const grid = local.chosen.length === 0
    ? histogramGrid(data, ctx, local, rerender)
    : matrixGrid(data, ctx, local, rerender, plotsWidth);
  elem.replaceChildren(el("div", { class: "sv-metrics-graph", style: `display:flex;height:${ctx.height}px` },
    metricList(data, local, rerender, listWidth, ctx.height),
    toolbar(local, rerender),
    el("div", { class: "sv-plot-grid", style: `width:${plotsWidth}px;overflow:auto` }, grid)));
}

function metricList(data, local, rerender, width, height) {
  const rows = data.metrics.map((m) => el("tr", {
    class: local.chosen.includes(m.key) ? "selected" : null, dataset: { metric: m.key },
    onclick: () => {
      local.chosen = local.chosen.includes(m.key) ? local.chosen.filter((k) => k !== m.key) : [...local.chosen, m.key];
      rerender();
    },
  }, el("td", {}, m.key)));
  return el("div", { class: "sv-metric-list", style: `width:${width}px;height:${height}px;overflow-y:auto` },
    el("table", { class: "nice-table" }, el("thead", {}, el("tr", {}, el("th", {}, "Metric"))), el("tbody", {}, ...rows)));
}

function toolbar(local, rerender) {
  const b = (text, title, fn) => el("button", { title, onclick: () => { fn(); rerender(); } }, text);
  const size = local.chosen.length === 0
    ? [el("div", { class: "tool-text" }, "Size"), b("+", "Increase box size", () => { local.scale *= 1.3; }),
      b("−", "Decrease box size", () => { local.scale /= 1.3; })]
    : [];
  return el("div", { class: "sv-toolbar sv-toolbar-vertical", style: `width:${TOOLBAR_WIDTH}px` }, ...size,
    el("div", { class: "tool-text" }, "# bins"),
    b("+", "Increase num. histogram bins", () => { local.bins += 5; }),
    b("−", "Decrease num. histogram bins", () => { local.bins = Math.max(5, local.bins - 5); }),
    b("RZ", "Reset zoom", () => { local.ranges = {}; }));
}

function histogramGrid(data, ctx, local, rerender) {
  const s = Math.round(400 * local.scale);
  const box = (m) => el("div", { class: "sv-plot-box", dataset: { metric: m.key } },
    el("div", { class: "sv-plot-label" }, m.label), histogramPlot(data, ctx, local, rerender, m, s, s));
  return el("div", { class: "sv-plot-flow" }, ...data.metrics.map(box));
}

function matrixGrid(data, ctx, local, rerender, width) {
  const n = local.chosen.length;
  const size = Math.max(40, Math.floor(Math.min(width - LABEL - 10, ctx.height - LABEL - 10) / n) - 4);
  const byKey = new Map(data.metrics.map((m) => [m.key, m]));
  const cells = [];
  for (const k1 of local.chosen) {
    cells.push(el("div", { class: "sv-left-label", style: `height:${size}px` }, byKey.get(k1).label));
    for (const k2 of local.chosen) {
      cells.push(k1 === k2
        ? histogramPlot(data, ctx, local, rerender, byKey.get(k1), size, size)
        : scatterPlot(data, ctx, local, rerender, byKey.get(k2), byKey.get(k1), size));
    }
  }
  cells.push(el("div", {}));
  for (const k of local.chosen) cells.push(el("div", { class: "sv-bottom-label" }, byKey.get(k).label));
  const columns = `${LABEL}px repeat(${n}, ${size}px)`;
  return el("div", { class: "sv-metric-matrix", style: `display:grid;grid-template-columns:${columns};gap:4px` }, ...cells);
}

function histogramPlot(data, ctx, local, rerender, metric, w, h) {
  const vals = metricValues(data.units, metric.key);
  const { bars, ticks } = histogramBars(vals.map((x) => x.v), local.bins);
  const sel = ctx.state.selection;
  const lines = vals.filter((x) => sel.has(x.key)).map((x) => ({ x: x.v, color: ctx.unitColor(x.key) }));
  const { canvas, ctx2d } = sizedCanvas(w, h, "metric-histogram");
  const scale = drawHistogram(ctx2d, w, h, { bars, ticks, lines, range: local.ranges[metric.key] || null });
  const box = el("div", { class: "sv-plot", style: `width:${w}px;height:${h}px` }, canvas);
  attachDragSelect(box, w, h, {
    onRect: (r, mods) => {
      const lo = scale.toX(r.x);
      const hi = scale.toX(r.x + r.width);
      if (mods.shiftKey) { local.ranges[metric.key] = { min: lo, max: hi }; rerender(); return; }
      const hit = bars.filter((b) => b.xEnd >= lo && b.xStart <= hi);
      if (!hit.length) return;
      const x1 = Math.min(...hit.map((b) => b.xStart));
      const x2 = Math.max(...hit.map((b) => b.xEnd));
      const keys = vals.filter((x) => x.v >= x1 && x.v <= x2).map((x) => x.key);
      ctx.select(mods.ctrlKey ? [...new Set([...sel, ...keys])] : keys, keys[0] ?? null);
    },
  });
  return box;
}

function scatterPlot(data, ctx, local, rerender, mx, my, size) {
  const sel = ctx.state.selection;
  const units = [...data.units].sort((a, b) => Number(sel.has(unitKey(a.unitId))) - Number(sel.has(unitKey(b.unitId))));
  const markers = [];
  for (const u of units) {
    const x = u.values[mx.key];
    const y = u.values[my.key];
    if (typeof x !== "number" || typeof y !== "number") continue;
    const key = unitKey(u.unitId);
    markers.push({ key, x, y, radius: MARKER_RADIUS, color: sel.has(key) ? ctx.unitColor(key) : "lightgray" });
  }
  const { canvas, ctx2d } = sizedCanvas(size, size, "metric-scatter");
  const ranges = { xRange: local.ranges[mx.key] || null, yRange: local.ranges[my.key] || null };
  const sc = drawScatter(ctx2d, size, size, { markers, ...ranges });
  const box = el("div", { class: "sv-plot", style: `width:${size}px;height:${size}px` }, canvas);
  const inRect = (r) => markers.filter((m) => rectContains(r, ...sc.toPixel(m.x, m.y), m.radius));
  attachDragSelect(box, size, size, {
    onRect: (r, mods) => {
      if (mods.shiftKey) {
        const [x0, y1] = sc.toCoord(r.x, r.y);
        const [x1, y0] = sc.toCoord(r.x + r.width, r.y + r.height);
        local.ranges[mx.key] = { min: x0, max: x1 };
        local.ranges[my.key] = { min: y0, max: y1 };
        rerender();
        return;
      }
      const keys = inRect(r).map((m) => m.key);
      ctx.select(mods.ctrlKey ? [...new Set([...keys, ...sel])] : keys, keys[0] ?? null);
    },
    onClick: ([x, y], mods) => {
      const hit = inRect({ x, y, width: 1, height: 1 }).pop();
      if (!(mods.ctrlKey || mods.shiftKey)) ctx.select(hit ? [hit.key] : [], hit ? hit.key : null);
      else if (hit) ctx.clickUnit(hit.key, { ctrlKey: true });
    },
  });
  return box;
}
