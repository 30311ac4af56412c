// SpikeLocations: the probe's electrodes (outlines) and a small dot per spike at its estimated location, in the
// unit's colour (light grey when other units are selected). A unit list with checkboxes sits on the left
// unless hideUnitSelector (only the units the figure is restricted to, if it is). At most 10 selected units are drawn, as in the original. Drag a rectangle selects
// the units with a spike inside (ctrl toggles them); a click clears the selection.
import { checkList, el, isUnitId, unitKey, values } from "./common.js";
import { paintElectrodes } from "../draw/electrodes.js";
import { attachDragSelect, rectContains } from "../draw/dragselect.js";
import { checkChannelLocations, isNumList, localState, optionBar, probeLayout, sizedCanvas, wheelZoom } from "../draw/widgets.js";
import { drawingOrder, markerColor, selectInRect } from "./UnitLocations.js";

export const type = "SpikeLocations";
export const uses = ["selection", "order", "visibleUnits"];
export const MAX_UNITS_SELECTED = 10;
const SELECTOR_WIDTH = 200;
const BAR_HEIGHT = 30;
const DOT_RADIUS = 2;

export function unitIds(data) { return data.units.map((u) => u.unitId); }

export function check(data) {
  const loc = checkChannelLocations(data.channelLocations);
  if (loc) return loc;
  if (!isNumList(data.xRange, 2)) return "xRange must be a list of two numbers";
  if (!isNumList(data.yRange, 2)) return "yRange must be a list of two numbers";
  for (const f of ["hideUnitSelector", "disableAutoRotate"]) {
    if (data[f] !== undefined && typeof data[f] !== "boolean") return `${f} must be true or false`;
  }
  return checkList(data, "units", (u) => {
    if (!isUnitId(u.unitId)) return "unitId must be a number or a string";
    for (const f of ["spikeTimesSec", "xLocations", "yLocations"]) {
      if (!isNumList(u[f])) return `${f} must be a list of numbers`;
    }
    if (values(u.xLocations).length !== values(u.yLocations).length) return "yLocations must have as many values as xLocations";
    return null;
  });
}

export function render(elem, data, ctx) {
  const local = localState(elem, "spikeLocations", { onlySelected: false, zoom: { s: 1, tx: 0, ty: 0 }, locked: null });
  const selectorWidth = data.hideUnitSelector ? 0 : Math.min(SELECTOR_WIDTH, Math.floor(ctx.width / 3));
  const width = Math.max(1, ctx.width - selectorWidth);
  const height = Math.max(1, ctx.height - BAR_HEIGHT);
  const parts = [];
  if (selectorWidth) parts.push(unitSelector(data, ctx, selectorWidth, local, () => render(elem, data, ctx)));
  let main;
  if ((local.locked || ctx.state.selection).size > MAX_UNITS_SELECTED) {
    main = el("div", { class: "note" },
      `Not showing spike locations. Too many units selected (max = ${MAX_UNITS_SELECTED}).`);
  } else {
    main = spikePlot(data, ctx, local, width, height);
    wheelZoom(main, local.zoom, () => render(elem, data, ctx));
  }
  const bar = optionBar("only show selected", local.onlySelected, (v) => { local.onlySelected = v; render(elem, data, ctx); });
  parts.push(el("div", { class: "sv-spike-locations-main", style: `width:${width}px` }, main, bar));
  elem.replaceChildren(el("div", { class: "sv-spike-locations", style: "display:flex" }, ...parts));
}

function spikePlot(data, ctx, local, width, height) {
  const layout = probeLayout(width, height, data, local.zoom);
  const { canvas, ctx2d } = sizedCanvas(width, height, "spike-locations");
  paintElectrodes(ctx2d, layout, { filled: false, outline: true, labels: false });
  const units = drawingOrder(data.units, ctx.state.selection, local.onlySelected);
  const pointsByUnit = units.map((u) => {
    const xs = values(u.xLocations);
    const ys = values(u.yLocations);
    const pts = new Float32Array(xs.length * 2);
    for (let i = 0; i < xs.length; i++) { const [px, py] = layout.toPixel(xs[i], ys[i]); pts[2 * i] = px; pts[2 * i + 1] = py; }
    return { key: unitKey(u.unitId), pts };
  });
  ctx2d.strokeStyle = "black";
  ctx2d.lineWidth = 0.5;
  for (const { key, pts } of pointsByUnit) {
    ctx2d.fillStyle = markerColor(key, ctx);
    ctx2d.beginPath();
    for (let i = 0; i < pts.length; i += 2) {
      ctx2d.moveTo(pts[i] + DOT_RADIUS, pts[i + 1]);
      ctx2d.arc(pts[i], pts[i + 1], DOT_RADIUS, 0, 2 * Math.PI);
    }
    ctx2d.fill();
    ctx2d.stroke();
  }
  const plot = el("div", { class: "sv-plot", style: `width:${width}px;height:${height}px` }, canvas);
  attachDragSelect(plot, width, height, {
    onRect: (r, mods) => {
      const hits = pointsByUnit.filter(({ pts }) => {
        for (let i = 0; i < pts.length; i += 2) if (rectContains(r, pts[i], pts[i + 1], DOT_RADIUS)) return true;
        return false;
      });
      selectInRect(ctx, hits, mods);
    },
    onClick: () => ctx.select([], null),
  });
  return plot;
}

// the original's unit selector: a checkbox per unit (in the figure's order), toggling it in the selection.
// "Lock selection" freezes the list on the units selected at that moment (its checkboxes disabled).
function unitSelector(data, ctx, width, local, rerender) {
  const visible = ctx.state.visibleUnits;
  const keys = data.units.map((u) => unitKey(u.unitId)).filter((k) => !visible || visible.has(k));
  const order = ctx.state.order.filter((k) => keys.includes(k));
  const shown = order.length === keys.length ? order : keys;
  const checked = local.locked || ctx.state.selection;
  const lock = el("label", { class: "sv-lock" }, el("input", { type: "checkbox", checked: !!local.locked || null,
    onchange: (e) => { local.locked = e.target.checked ? new Set(ctx.state.selection) : null; rerender(); } }),
  " Lock selection");
  const rows = shown.map((key) => el("label", { class: "sv-unit-choice", dataset: { unit: key } },
    el("input", { type: "checkbox", checked: checked.has(key) || null, disabled: !!local.locked || null,
      onchange: () => ctx.clickUnit(key, { ctrlKey: true }) }),
    el("span", { style: `color:${ctx.unitColor(key)}` }, ` ${key}`)));
  const style = `width:${width}px;height:${ctx.height}px;overflow-y:auto`;
  return el("div", { class: "sv-unit-selector", style }, lock, ...rows);
}
