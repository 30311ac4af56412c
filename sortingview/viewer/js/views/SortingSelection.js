// SortingSelection: the figure's unit selection as a control (as the original): the selected units, select or
// deselect the units that have (or lack) a label, clear the selection, restrict every view to the selected
// units and lift the restriction; a row of unit chips to click through (shift and ctrl as in the table).
import { el, labelsOf, selectedInOrder } from "./common.js";

export const type = "SortingSelection";
export const uses = ["selection", "order", "unitIds", "curation", "visibleUnits"];
export const control = true;

export function check() { return null; }

function abbreviated(keys, max = 50) {
  return keys.length > max ? `${keys.slice(0, max).join(", ")}, … (${keys.length})` : keys.join(", ") || "none";
}

// the units a label row stands for: those with the label, or with "not:" those without it
function unitsOf(label, ctx, all) {
  const [not, l] = label.startsWith("not:") ? [true, label.slice(4)] : [false, label];
  return all.filter((k) => labelsOf(ctx.state, k).includes(l) !== not);
}

function labelBox(label, ctx, all) {
  const units = unitsOf(label, ctx, all);
  const sel = ctx.state.selection;
  const n = units.filter((k) => sel.has(k)).length;
  const box = el("input", { type: "checkbox", dataset: { label }, disabled: !units.length || units.length === all.length && label.startsWith("not:") });
  box.checked = n > 0;
  box.indeterminate = n > 0 && n < units.length;
  box.addEventListener("change", () => {
    const these = new Set(units);
    const next = n === units.length ? [...sel].filter((k) => !these.has(k)) : [...new Set([...sel, ...units])];
    ctx.select(all.filter((k) => next.includes(k)), null);
  });
  return el("label", { class: "label-row" }, box, label);
}

export function render(root, data, ctx) {
  const order = ctx.state.order.length ? ctx.state.order : ctx.state.unitIds.map(String);
  const all = ctx.state.unitIds.map(String);
  const sel = selectedInOrder(ctx);
  const c = ctx.state.curation;
  const labels = [...new Set(Object.values((c && c.curation && c.curation.labelsByUnit) || {}).flat())].sort();
  const restricted = ctx.state.visibleUnits;
  const chips = el("div", { class: "unit-chips" }, order.map((k) => el("button", {
    class: `unit-chip${ctx.state.selection.has(k) ? " selected" : ""}`, dataset: { unit: k },
    style: `border-left: 4px solid ${ctx.unitColor(k)}`, onclick: (ev) => ctx.clickUnit(k, ev),
  }, k)));
  root.replaceChildren(el("div", { class: "selection-view" },
    el("div", { class: "selection-summary" }, `${sel.length} of ${order.length} units selected: ${abbreviated(sel)}`),
    labels.length ? el("div", { class: "label-select" }, el("div", {}, labels.map((l) => labelBox(l, ctx, order))),
      el("div", {}, labels.map((l) => labelBox(`not:${l}`, ctx, order)))) : null,
    el("div", { class: "section" },
      el("button", { class: "select-all", onclick: () => ctx.select(order, null) }, "Select all"),
      el("button", { class: "select-none", onclick: () => ctx.select([], null) }, "Clear selected units")),
    el("div", { class: "restriction" }, restricted ? `Restricted to ${order.length} / ${all.length} units` : "No unit restriction"),
    el("div", { class: "section" },
      el("button", { class: "restrict", disabled: !sel.length, onclick: () => ctx.restrict(sel) }, "Restrict to selected units"),
      el("button", { class: "unrestrict", disabled: !restricted, onclick: () => ctx.restrict(null) }, "Clear unit restriction")),
    chips));
}
