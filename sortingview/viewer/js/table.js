// The units table: one row per unit, metrics as sortable columns, selection by click/shift/ctrl.
import { errorBox } from "./plot.js";
import { state, subscribe, unitKey, update, writeUrlState } from "./store.js";

const CORE = ["numEvents", "firingRateHz", "snr", "isiViolationFraction"];
const FIXED = [
  { key: "unit", label: "Unit", tooltip: "Unit id" },
  { key: "labels", label: "Labels", tooltip: "Curation labels" },
];

let root;
let order = [];   // unit keys in displayed order

export function mountTable(el) {
  root = el;
  root.addEventListener("click", onClick);
  subscribe((keys) => {
    if (["unitIds", "metrics", "peakChannels", "curation", "sort", "figure", "errors"].some((k) => keys.has(k))) render();
    else if (keys.has("selection")) paintSelection();
  });
  render();
}

function columns() {
  const metrics = [...state.metrics];
  metrics.sort((a, b) => rank(a.name) - rank(b.name));
  const cols = [...FIXED];
  for (const m of metrics) {
    cols.push({ key: `m:${m.name}`, label: m.label || m.name, tooltip: m.tooltip || m.name, metric: m });
  }
  // the peak channel sits right after the core quality metrics
  const peakAt = cols.findIndex((c) => c.key === "m:isiViolationFraction");
  cols.splice(peakAt >= 0 ? peakAt + 1 : cols.length, 0,
    { key: "peak", label: "Peak ch.", tooltip: "Channel with the largest average waveform amplitude" });
  for (const m of (state.figure && state.figure.externalUnitMetrics) || []) {
    cols.push({ key: `x:${m.name}`, label: m.label || m.name, tooltip: m.tooltip || `${m.name} (external)`,
      metric: m, external: true });
  }
  return cols;
}

function rank(name) {
  const i = CORE.indexOf(name);
  return i < 0 ? CORE.length : i;
}

function labelsOf(key) {
  const c = state.curation && state.curation.curation;
  return (c && c.labelsByUnit && c.labelsByUnit[key]) || [];
}

function cellValue(col, key) {
  if (col.key === "unit") return Number.isFinite(Number(key)) ? Number(key) : key;
  if (col.key === "labels") return labelsOf(key).join(", ");
  if (col.key === "peak") return state.peakChannels[key] ?? null;
  const v = col.metric.data ? col.metric.data[key] : undefined;
  return v === undefined ? null : v;
}

function formatValue(col, v) {
  if (v === null || v === undefined || v === "") return col.key === "labels" ? "" : "–";
  if (typeof v !== "number") return escapeHtml(String(v));
  if (col.key === "unit" || col.key === "peak" || Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 0.001 || a >= 1e5)) return v.toExponential(2);
  return v.toFixed(a < 1 ? 4 : 2);
}

function compare(a, b) {
  if (a === null || a === undefined) return b === null || b === undefined ? 0 : 1;
  if (b === null || b === undefined) return -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

function mergeGroups() {
  const c = state.curation && state.curation.curation;
  return ((c && c.mergeGroups) || []).map((g) => g.map(unitKey));
}

// displayed order: sorted by the chosen column, with the members of a merge group kept together
function computeOrder(cols) {
  const keys = state.unitIds.map(unitKey);
  const col = cols.find((c) => c.key === state.sort.column);
  if (col) {
    const sign = state.sort.ascending ? 1 : -1;
    keys.sort((x, y) => {
      const d = compare(cellValue(col, x), cellValue(col, y));
      if (d === 0) return 0;
      const nullish = cellValue(col, x) === null || cellValue(col, y) === null;
      return nullish ? d : sign * d;  // missing values stay at the bottom either way
    });
  }
  const groupOf = new Map();
  mergeGroups().forEach((g, i) => g.forEach((k) => groupOf.set(k, i)));
  const out = [];
  const seen = new Set();
  for (const k of keys) {
    if (seen.has(k)) continue;
    const g = groupOf.get(k);
    const members = g === undefined ? [k] : keys.filter((x) => groupOf.get(x) === g);
    members.forEach((m) => { seen.add(m); out.push(m); });
  }
  return { order: out, groupOf };
}

function renderErrors() {
  const box = document.querySelector("#units-errors");
  if (!box) return;
  box.innerHTML = "";
  for (const view of ["units", "metrics"]) if (state.errors[view]) box.appendChild(errorBox(state.errors[view]));
}

function render() {
  if (!root) return;
  renderErrors();
  if (!state.unitIds.length) {
    root.innerHTML = `<div class="placeholder">Loading units…</div>`;
    return;
  }
  const cols = columns();
  const computed = computeOrder(cols);
  order = computed.order;
  const head = cols.map((c) => {
    const sorted = state.sort.column === c.key ? (state.sort.ascending ? " ▲" : " ▼") : "";
    return `<th data-col="${c.key}" title="${escapeHtml(c.tooltip)}" class="${c.external ? "external" : ""}">` +
      `${escapeHtml(c.label)}${sorted}</th>`;
  }).join("");
  const rows = order.map((k) => {
    const g = computed.groupOf.get(k);
    const cls = g === undefined ? "" : ` merged group-${g % 6}`;
    const cells = cols.map((c) => {
      if (c.key === "labels") {
        return `<td class="labels">${labelsOf(k).map((l) => `<span class="label-chip">${escapeHtml(l)}</span>`).join("")}</td>`;
      }
      if (c.key === "unit" && g !== undefined) {
        const members = mergeGroups()[g].join("+");
        return `<td class="unit"><span class="group-bar"></span>${escapeHtml(k)}<span class="merge-tag" title="merged with ${members}">⊂ ${members}</span></td>`;
      }
      return `<td class="${c.key === "unit" ? "unit" : "num"}">${formatValue(c, cellValue(c, k))}</td>`;
    }).join("");
    return `<tr data-unit="${escapeHtml(k)}" class="${cls}"><td class="sel"><input type="checkbox" tabindex="-1"></td>${cells}</tr>`;
  }).join("");
  root.innerHTML = `<table class="units"><thead><tr><th class="sel"><input type="checkbox" id="select-all" title="Select all units"></th>${head}</tr></thead><tbody>${rows}</tbody></table>`;
  paintSelection();
}

function paintSelection() {
  if (!root) return;
  for (const tr of root.querySelectorAll("tbody tr")) {
    const on = state.selection.has(tr.dataset.unit);
    tr.classList.toggle("selected", on);
    tr.querySelector("input").checked = on;
  }
  const all = root.querySelector("#select-all");
  if (all) {
    all.checked = state.selection.size > 0 && state.selection.size === order.length;
    all.indeterminate = state.selection.size > 0 && state.selection.size < order.length;
  }
}

function onClick(ev) {
  const th = ev.target.closest("th");
  if (th && th.id !== "select-all" && th.dataset.col) {
    const same = state.sort.column === th.dataset.col;
    update({ sort: { column: th.dataset.col, ascending: same ? !state.sort.ascending : true } });
    writeUrlState();
    return;
  }
  if (ev.target.id === "select-all") {
    selectKeys(state.selection.size === order.length ? [] : order, null);
    return;
  }
  const tr = ev.target.closest("tbody tr");
  if (!tr) return;
  const key = tr.dataset.unit;
  const toggle = ev.ctrlKey || ev.metaKey || ev.target.type === "checkbox";
  if (ev.shiftKey && state.anchor !== null) {
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

export function selectKeys(keys, anchor) {
  update({ selection: new Set(keys), anchor: anchor ?? state.anchor });
  writeUrlState();
}

// keyboard navigation: move the (single) selection along the displayed order
export function moveSelection(step, extend) {
  if (!order.length) return;
  const cur = state.anchor !== null && order.includes(state.anchor) ? order.indexOf(state.anchor) : -1;
  const next = Math.min(order.length - 1, Math.max(0, cur < 0 ? 0 : cur + step));
  const key = order[next];
  if (extend) selectKeys([...state.selection, key], key);
  else selectKeys([key], key);
  const tr = root.querySelector(`tr[data-unit="${CSS.escape(key)}"]`);
  if (tr) tr.scrollIntoView({ block: "nearest" });
}

export function displayedOrder() { return order; }

export function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}
