// Helpers shared by the view modules: elements with text only, data checks, number formats, unit ids.
import { NDArray } from "../api.js";

// An element with attributes and children; strings become text nodes (never HTML)
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "dataset") Object.assign(e.dataset, v);
    else if (k === "style") e.style.cssText = v;  // CSSOM: allowed under a CSP without unsafe-inline styles
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) e.append(c instanceof Node ? c : String(c));
  return e;
}

export const unitKey = (id) => String(id);

export function isUnitId(v) { return (typeof v === "number" && Number.isFinite(v)) || (typeof v === "string" && v !== ""); }

export function isNumbers(v) {
  if (v instanceof NDArray) return v.shape.length === 1;
  if (ArrayBuffer.isView(v)) return true;  // a typed array (the workspace viewer's task results)
  return Array.isArray(v) && v.every((x) => typeof x === "number");
}

export function is2d(v) { return v instanceof NDArray && v.shape.length === 2; }

export function values(v) { return v instanceof NDArray ? v.data : v; }

// Checks of a list field: the first problem as "field[i].sub must be ..." or null
export function checkList(data, field, itemCheck) {
  const list = data[field];
  if (!Array.isArray(list)) return `${field} must be a list`;
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (!item || typeof item !== "object") return `${field}[${i}] must be an object`;
    const problem = itemCheck(item);
    if (problem) return `${field}[${i}].${problem}`;
  }
  return null;
}

// One number format per column: integers as integers, otherwise the decimals that give the column's largest
// value three significant digits (exponents for the whole column when it is tiny or huge)
export function columnFormatter(nums) {
  const finite = nums.filter((v) => typeof v === "number" && Number.isFinite(v));
  if (finite.every(Number.isInteger)) return (v) => String(v);
  const maxAbs = Math.max(...finite.map(Math.abs));
  if (maxAbs !== 0 && (maxAbs < 1e-3 || maxAbs >= 1e6)) return (v) => v.toExponential(2);
  const decimals = maxAbs === 0 ? 2 : Math.min(6, Math.max(0, 2 - Math.floor(Math.log10(maxAbs))));
  return (v) => v.toFixed(decimals);
}

export function formatCell(v, fmt) {
  if (v === null || v === undefined || v === "") return "–";
  if (typeof v === "number") return Number.isFinite(v) ? noNegativeZero(fmt(v)) : String(v);
  if (typeof v === "boolean") return v ? "yes" : "no";
  return String(v);
}

// "-0", "-0.00" or "-0.0e+0" (a small negative value rounded away) prints without its sign
export function noNegativeZero(text) {
  return /^-0(\.0*)?(e[+-]?\d+)?$/i.test(text) ? text.slice(1) : text;
}

export function compareValues(a, b) {
  if (a === null || a === undefined) return b === null || b === undefined ? 0 : 1;
  if (b === null || b === undefined) return -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

// merge groups of the shared curation, as unit keys
export function mergeGroupsOf(state) {
  const c = state.curation && state.curation.curation;
  return ((c && c.mergeGroups) || []).map((g) => g.map(unitKey));
}

export function labelsOf(state, key) {
  const c = state.curation && state.curation.curation;
  return (c && c.labelsByUnit && c.labelsByUnit[key]) || [];
}

// the selected keys in the displayed order, else the given fallback count of the first units
export function selectedInOrder(ctx) {
  const order = ctx.state.order.length ? ctx.state.order : ctx.state.unitIds.map(unitKey);
  return order.filter((k) => ctx.state.selection.has(k));
}

// For the few places that still build HTML strings: every value from data goes through this
export function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}
