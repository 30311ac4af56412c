// UnitImages: one image per unit (an embedded data: URL, as UnitImagesItem makes from a matplotlib figure),
// titled "Unit <id>" in the unit's colour, in the figure's unit order. Click selects (ctrl toggles, shift a
// range), selected boxes are outlined; +/- scale the boxes; "only show selected" hides the others.
import { checkList, el, isUnitId, unitKey } from "./common.js";
import { isNum, localState, optionBar } from "../draw/widgets.js";

export const type = "UnitImages";
export const uses = ["selection", "order"];
const BAR_HEIGHT = 30;
const TOOLS_HEIGHT = 30;
// only images embedded in the data: the figure never makes the browser fetch anything else
const IMAGE_URL = /^data:image\/(png|jpeg|jpg|gif|webp);base64,[A-Za-z0-9+/=\s]*$/;

export function unitIds(data) { return data.items.map((i) => i.unitId); }

export function check(data) {
  if (!isNum(data.itemWidth) || data.itemWidth <= 0) return "itemWidth must be a positive number";
  if (!isNum(data.itemHeight) || data.itemHeight <= 0) return "itemHeight must be a positive number";
  return checkList(data, "items", (it) => {
    if (!isUnitId(it.unitId)) return "unitId must be a number or a string";
    if (typeof it.url !== "string" || !IMAGE_URL.test(it.url)) {
      return "url must be an embedded image (data:image/png|jpeg|gif|webp;base64,...)";
    }
    return null;
  });
}

export function itemsInOrder(items, order) {
  const byKey = new Map(items.map((it) => [unitKey(it.unitId), it]));
  const ordered = order.filter((k) => byKey.has(k)).map((k) => byKey.get(k));
  return ordered.length === items.length ? ordered : items;
}

export function render(elem, data, ctx) {
  const local = localState(elem, "unitImages", { scale: 1, onlySelected: false });
  const sel = ctx.state.selection;
  const items = itemsInOrder(data.items, ctx.state.order)
    .filter((it) => !local.onlySelected || sel.has(unitKey(it.unitId)));
  const w = Math.round(data.itemWidth * local.scale);
  const h = Math.round(data.itemHeight * local.scale);
  const boxes = items.map((it) => {
    const key = unitKey(it.unitId);
    return el("div", {
      class: `sv-image-box${sel.has(key) ? " selected" : ""}`, dataset: { unit: key },
      onclick: local.onlySelected ? null : (e) => ctx.clickUnit(key, e),
    },
    el("div", { class: "sv-image-label", style: `color:${ctx.unitColor(key)}` }, `Unit ${it.unitId}`),
    el("img", { src: it.url, width: w, height: h, alt: `Unit ${it.unitId}` }));
  });
  const rerender = () => render(elem, data, ctx);
  const tools = el("div", { class: "sv-toolbar", style: `height:${TOOLS_HEIGHT}px` },
    el("button", { title: "Increase box size", onclick: () => { local.scale *= 1.3; rerender(); } }, "+"),
    el("button", { title: "Decrease box size", onclick: () => { local.scale /= 1.3; rerender(); } }, "−"));
  const gridHeight = Math.max(0, ctx.height - BAR_HEIGHT - TOOLS_HEIGHT);
  const grid = el("div", { class: "sv-plot-grid", style: `height:${gridHeight}px;overflow-y:auto` }, ...boxes);
  const bar = optionBar("only show selected", local.onlySelected, (v) => { local.onlySelected = v; rerender(); });
  elem.replaceChildren(el("div", { class: "sv-unit-images" }, tools, grid, bar));
}
