// Unit selection shared by every view of a page: click, shift-click range, ctrl-click, select all, keyboard moves.
// The displayed order is state.order (set by the units table, or the figure's unit ids when there is no table).
import { state, update, writeUrlState } from "./store.js";

export function displayedOrder() {
  return state.order.length ? state.order : state.unitIds.map(String);
}

export function selectKeys(keys, anchor) {
  update({ selection: new Set(keys), anchor: anchor ?? state.anchor });
  writeUrlState();
}

// the table's displayed order changed: views arranged by it redraw (only when it really changed)
export function setOrder(keys) {
  if (keys.length === state.order.length && keys.every((k, i) => k === state.order[i])) return;
  update({ order: keys });
}

// a click on a unit (a table row, a plot cell): plain selects it, ctrl/cmd toggles it, shift selects a range
export function clickUnit(key, ev = {}) {
  const order = displayedOrder();
  const toggle = ev.ctrlKey || ev.metaKey || (ev.target && ev.target.type === "checkbox");
  if (ev.shiftKey && state.anchor !== null && order.includes(state.anchor)) {
    const a = order.indexOf(state.anchor);
    const b = order.indexOf(key);
    const range = order.slice(Math.min(a, b), Math.max(a, b) + 1);
    selectKeys(toggle ? [...state.selection, ...range] : range, state.anchor);
  } else if (toggle) {
    const sel = new Set(state.selection);
    if (sel.has(key)) sel.delete(key); else sel.add(key);
    selectKeys([...sel], key);
  } else {
    selectKeys([key], key);
  }
}

export function toggleAll() {
  const order = displayedOrder();
  selectKeys(state.selection.size === order.length ? [] : order, null);
}

// keyboard navigation: move the (single) selection along the displayed order; shift extends it
export function moveSelection(step, extend) {
  const order = displayedOrder();
  if (!order.length) return;
  const cur = state.anchor !== null && order.includes(state.anchor) ? order.indexOf(state.anchor) : -1;
  const next = Math.min(order.length - 1, Math.max(0, cur < 0 ? 0 : cur + step));
  const key = order[next];
  if (extend) selectKeys([...state.selection, key], key);
  else selectKeys([key], key);
  const tr = document.querySelector(`tr[data-unit="${CSS.escape(key)}"]`);
  if (tr) tr.scrollIntoView({ block: "nearest" });
}

// restrict every view to these units (null: all units again), as the original SortingSelection
export function restrictTo(keys) {
  const visibleUnits = keys ? new Set(keys) : null;
  const base = state.unitIds.map(String);
  update({ visibleUnits, order: visibleUnits ? base.filter((k) => visibleUnits.has(k)) : base });
  writeUrlState();
}
