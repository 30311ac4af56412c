// UnitsTable: one row per unit, a column per metric (sortable), curation labels and merge groups; the selection
// is the figure's (click, shift-click range, ctrl-click, the header checkbox selects all or none).
import { checkList, columnFormatter, compareValues, el, formatCell, isUnitId, labelsOf, mergeGroupsOf, unitKey } from "./common.js";

export const type = "UnitsTable";
export const uses = ["selection", "curation", "sort", "visibleUnits"];
export const resizes = false;  // the table lays itself out: a new pane size is no reason to rebuild its rows

export function check(data) {
  const cols = checkList(data, "columns", (c) => (typeof c.key !== "string" ? "key must be a string"
    : c.label !== undefined && typeof c.label !== "string" ? "label must be a string" : null));
  if (cols) return cols;
  return checkList(data, "rows", (r) => (!isUnitId(r.unitId) ? "unitId must be a number or a non-empty string"
    : !r.values || typeof r.values !== "object" ? "values must be an object {columnKey: value}" : null))
    || (data.similarityScores !== undefined ? checkList(data, "similarityScores", (x) => (
      !isUnitId(x.unitId1) || !isUnitId(x.unitId2) ? "unitId1 and unitId2 must be unit ids"
        : typeof x.similarity !== "number" ? "similarity must be a number" : null)) : null);
}

export function unitIds(data) { return data.rows.map((r) => r.unitId); }

// columns shown: the unit id, the curation labels (when the figure has a curation), then the data's columns
function columns(data, ctx) {
  const cols = [{ key: "unit", label: "Unit", tooltip: "Unit id" }];
  if (ctx.state.curation) cols.push({ key: "labels", label: "Labels", tooltip: "Curation labels" });
  if (data.similarityScores) {
    cols.push({ key: "_similarity", label: "Similarity", tooltip: "Similarity with the current unit (the last clicked)" });
  }
  for (const c of data.columns) {
    cols.push({ key: c.key, label: c.label ?? c.key, tooltip: c.tooltip || c.label || c.key, external: !!c.external,
      dtype: c.dtype });
  }
  return cols;
}

// the value of a cell; `lookup` = {byUnit: unit key -> row, similarity: similarityIndex of the data}
function cellValue(col, key, lookup, ctx) {
  if (col.key === "unit") { const n = Number(key); return Number.isFinite(n) && key.trim() !== "" ? n : key; }
  if (col.key === "labels") return labelsOf(ctx.state, key).join(", ");
  if (col.key === "_similarity") return similarityTo(ctx.state.anchor, key, lookup.similarity);
  const row = lookup.byUnit.get(key);
  const v = row ? row.values[col.key] : undefined;
  if (v === undefined) return null;
  // a number column whose values came as text ("15.", as SpikeInterface's widgets write them) sorts and
  // formats as numbers
  if (typeof v === "string" && (col.dtype === "int" || col.dtype === "float") && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v);
  return v;
}

// displayed order: sorted by the chosen column (missing values at the bottom), members of a merge group together
export function displayOrder(data, ctx) {
  const byUnit = new Map(data.rows.map((r) => [unitKey(r.unitId), r]));
  const lookup = { byUnit, similarity: similarityIndex(data.similarityScores) };
  const visible = ctx.state.visibleUnits;  // restricted by SortingSelection
  const keys = [...byUnit.keys()].filter((k) => !visible || visible.has(k));
  const col = columns(data, ctx).find((c) => c.key === ctx.state.sort.column);
  if (col) {
    const sign = ctx.state.sort.ascending ? 1 : -1;
    const val = new Map(keys.map((k) => [k, cellValue(col, k, lookup, ctx)]));
    keys.sort((x, y) => {
      const d = compareValues(val.get(x), val.get(y));
      const nullish = val.get(x) === null || val.get(y) === null;
      return nullish ? d : sign * d;
    });
  }
  const groups = mergeGroupsOf(ctx.state);
  const groupOf = new Map();
  groups.forEach((g, i) => g.forEach((k) => groupOf.set(k, i)));
  const out = [];
  const seen = new Set();
  for (const k of keys) {
    if (seen.has(k)) continue;
    const g = groupOf.get(k);
    const members = g === undefined ? [k] : keys.filter((x) => groupOf.get(x) === g);
    members.forEach((m) => { seen.add(m); out.push(m); });
  }
  return { order: out, groupOf, groups, lookup };
}

// a header wraps only at spaces, and inside long identifiers after "_" (a <wbr> element, never innerHTML)
function headerText(label) {
  const nodes = [];
  label.split(/(?<=_)/).forEach((part, i) => {
    if (i) nodes.push(document.createElement("wbr"));
    nodes.push(document.createTextNode(part));
  });
  return nodes;
}

export function render(root, data, ctx) {
  const cols = columns(data, ctx);
  const { order, groupOf, groups, lookup } = displayOrder(data, ctx);
  const formats = new Map(cols.map((c) => [c.key, columnFormatter(order.map((k) => cellValue(c, k, lookup, ctx)))]));
  const head = el("tr", {}, el("th", { class: "sel" }, el("input", { type: "checkbox", id: "select-all", title: "Select all units" })),
    cols.map((c) => {
      const mark = ctx.state.sort.column === c.key ? (ctx.state.sort.ascending ? " ▲" : " ▼") : "";
      return el("th", { dataset: { col: c.key }, title: c.tooltip, class: [c.external ? "external" : "", c.key === "unit" ? "unit" : ""].join(" ").trim() || null }, headerText(`${c.label}${mark}`));
    }));
  const rows = order.map((k) => {
    const g = groupOf.get(k);
    const cells = cols.map((c) => {
      if (c.key === "labels") return el("td", { class: "labels" }, labelsOf(ctx.state, k).map((l) => el("span", { class: "label-chip" }, l)));
      if (c.key === "unit") {
        if (g === undefined) return el("td", { class: "unit", title: k }, k);
        const members = groups[g].join("+");
        return el("td", { class: "unit", title: `${k} ⊂ ${members}` }, el("span", { class: "group-bar" }), k,
          el("span", { class: "merge-tag", title: `merged with ${members}` }, `⊂ ${members}`));
      }
      const v = cellValue(c, k, lookup, ctx);
      return el("td", { class: typeof v === "number" ? "num" : "text" }, formatCell(v, formats.get(c.key)));
    });
    return el("tr", { dataset: { unit: k }, class: g === undefined ? null : `merged group-${g % 6}` },
      el("td", { class: "sel" }, el("input", { type: "checkbox", tabindex: "-1" })), cells);
  });
  const table = el("table", { class: "units" }, el("thead", {}, head), el("tbody", {}, rows));
  table.addEventListener("click", (ev) => onClick(ev, ctx, order));
  root.replaceChildren(table);
  ctx.setOrder(order);
  paintSelection(root, ctx);
}

// {unitKey: {unitKey: score}} of the data's similarityScores (both directions)
function similarityIndex(scores) {
  const out = new Map();
  for (const s of scores || []) {
    const a = unitKey(s.unitId1);
    const b = unitKey(s.unitId2);
    if (!out.has(a)) out.set(a, new Map());
    if (!out.has(b)) out.set(b, new Map());
    out.get(a).set(b, s.similarity);
    out.get(b).set(a, s.similarity);
  }
  return out;
}

// the similarity of a row to the current unit, as the original: the current unit itself is 1
function similarityTo(current, key, index) {
  if (current === null || current === undefined) return null;
  if (current === key) return 1;
  const v = index.get(current) && index.get(current).get(key);
  return typeof v === "number" ? v : null;
}

export function paint(root, data, ctx) {
  if (data.similarityScores) render(root, data, ctx);  // the similarity column follows the current unit
  else paintSelection(root, ctx);
}

function paintSelection(root, ctx) {
  const sel = ctx.state.selection;
  let n = 0;
  for (const tr of root.querySelectorAll("tbody tr")) {
    const on = sel.has(tr.dataset.unit);
    tr.classList.toggle("selected", on);
    tr.querySelector("input").checked = on;
    n++;
  }
  const all = root.querySelector("#select-all");
  if (all) {
    all.checked = sel.size > 0 && sel.size === n;
    all.indeterminate = sel.size > 0 && sel.size < n;
  }
}

function onClick(ev, ctx, order) {
  if (ev.target.id === "select-all") {
    ctx.select(ctx.state.selection.size === order.length ? [] : order, null);
    return;
  }
  const th = ev.target.closest("th");
  if (th && th.dataset.col) {
    const same = ctx.state.sort.column === th.dataset.col;
    ctx.setSort({ column: th.dataset.col, ascending: same ? !ctx.state.sort.ascending : true });
    return;
  }
  const tr = ev.target.closest("tbody tr");
  if (tr) ctx.clickUnit(tr.dataset.unit, ev);
}
