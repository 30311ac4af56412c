// UnitLocations: the probe's electrodes (blue dots) and one marker per unit at its estimated location, in the
// unit's colour (light grey when other units are selected; selected units drawn on top). Click a marker
// selects its unit (ctrl-click toggles), click elsewhere clears the selection, drag a rectangle selects the
// units inside (ctrl adds). "only show selected" hides the others, as the original's bottom toolbar.
import { checkList, el, isUnitId, unitKey } from "./common.js";
import { paintElectrodes } from "../draw/electrodes.js";
import { attachDragSelect, rectContains } from "../draw/dragselect.js";
import { checkChannelLocations, isNum, localState, optionBar, probeLayout, sizedCanvas, wheelZoom } from "../draw/widgets.js";

export const type = "UnitLocations";
export const uses = ["selection"];
const MARKER_RADIUS = 8;
const BAR_HEIGHT = 30;
export const UNSELECTED = "rgb(220, 220, 220)";

export function unitIds(data) { return data.units.map((u) => u.unitId); }

export function check(data) {
  const loc = checkChannelLocations(data.channelLocations);
  if (loc) return loc;
  if (data.disableAutoRotate !== undefined && typeof data.disableAutoRotate !== "boolean") {
    return "disableAutoRotate must be true or false";
  }
  return checkList(data, "units", (u) => {
    if (!isUnitId(u.unitId)) return "unitId must be a number or a string";
    if (!isNum(u.x)) return "x must be a number";
    if (!isNum(u.y)) return "y must be a number";
    return null;
  });
}

// units in drawing order: selected last (on top), else by id
export function drawingOrder(units, selection, onlySelected) {
  const shown = onlySelected ? units.filter((u) => selection.has(unitKey(u.unitId))) : units;
  const rank = (u) => (selection.has(unitKey(u.unitId)) ? 1 : 0);
  return [...shown].sort((a, b) => rank(a) - rank(b));
}

export function markerColor(key, ctx) {
  const sel = ctx.state.selection;
  return sel.size === 0 || sel.has(key) ? ctx.unitColor(key) : UNSELECTED;
}

export function render(elem, data, ctx) {
  const local = localState(elem, "unitLocations", { onlySelected: false, zoom: { s: 1, tx: 0, ty: 0 } });
  const width = ctx.width;
  const height = Math.max(1, ctx.height - BAR_HEIGHT);
  const layout = probeLayout(width, height, data, local.zoom);
  const { canvas, ctx2d } = sizedCanvas(width, height, "unit-locations");
  paintElectrodes(ctx2d, layout, { outline: true, labels: false });
  const units = drawingOrder(data.units, ctx.state.selection, local.onlySelected);
  const points = units.map((u) => ({ key: unitKey(u.unitId), xy: layout.toPixel(u.x, u.y) }));
  for (const p of points) {
    ctx2d.fillStyle = markerColor(p.key, ctx);
    ctx2d.strokeStyle = "black";
    ctx2d.beginPath();
    ctx2d.ellipse(p.xy[0], p.xy[1], MARKER_RADIUS, MARKER_RADIUS, 0, 0, 2 * Math.PI);
    ctx2d.fill();
    ctx2d.stroke();
  }
  const plot = el("div", { class: "sv-plot", style: `width:${width}px;height:${height}px` }, canvas);
  const bar = optionBar("only show selected", local.onlySelected, (v) => { local.onlySelected = v; render(elem, data, ctx); });
  elem.replaceChildren(el("div", { class: "sv-unit-locations" }, plot, bar));
  wheelZoom(plot, local.zoom, () => render(elem, data, ctx));
  attachDragSelect(plot, width, height, {
    onRect: (r, mods) => selectInRect(ctx, points.filter((p) => rectContains(r, p.xy[0], p.xy[1], MARKER_RADIUS)), mods),
    onClick: ([x, y], mods) => {
      const hit = [...points].reverse().find((p) => Math.hypot(p.xy[0] - x, p.xy[1] - y) <= MARKER_RADIUS);
      if (hit) ctx.clickUnit(hit.key, { ctrlKey: mods.ctrlKey });
      else ctx.select([], null);
    },
  });
}

// a rectangle selects the units of `hits`; with ctrl each of them is toggled instead
export function selectInRect(ctx, hits, mods) {
  const keys = [...new Set(hits.map((p) => p.key))];
  if (!mods.ctrlKey) { ctx.select(keys, keys[0] ?? null); return; }
  const sel = new Set(ctx.state.selection);
  for (const k of keys) { if (sel.has(k)) sel.delete(k); else sel.add(k); }
  ctx.select([...sel], ctx.state.anchor);
}
