// SortingSelection: the figure's unit selection as a control: which units are selected, select all / none,
// and a list to click through (shift-click ranges, ctrl-click toggles, as the units table).
import { el, selectedInOrder } from "./common.js";

export const type = "SortingSelection";
export const uses = ["selection", "order", "unitIds"];
export const control = true;

export function check() { return null; }

export function render(root, data, ctx) {
  const order = ctx.state.order.length ? ctx.state.order : ctx.state.unitIds.map(String);
  const sel = selectedInOrder(ctx);
  const list = el("div", { class: "unit-chips" }, order.map((k) => el("button", {
    class: `unit-chip${ctx.state.selection.has(k) ? " selected" : ""}`, dataset: { unit: k },
    style: `border-left: 4px solid ${ctx.unitColor(k)}`, onclick: (ev) => ctx.clickUnit(k, ev),
  }, k)));
  root.replaceChildren(el("div", { class: "selection-view" },
    el("div", { class: "selection-summary" }, `${sel.length} of ${order.length} units selected`),
    el("div", { class: "section" },
      el("button", { class: "select-all", onclick: () => ctx.select(order, null) }, "Select all"),
      el("button", { class: "select-none", onclick: () => ctx.select([], null) }, "Select none")),
    list));
}
