// SortingAgreement: agreement between 2 to 8 sortings of one recording, without ground truth (the result of
// the task sortingview.sorting_agreement.1). For the chosen pair: the matched units with their agreement score
// (sortable; a click selects the unit pair), and the units each sorting of the pair found alone; then the units
// no other sorting matched, and with three or more sortings the groups of the multi-sorting comparison.
// Units of sorting i are the keys `${sortings[i].unitPrefix}${unitId}` in the figure's selection.
import { checkList, compareValues, el, isUnitId, unitKey } from "./common.js";
import { isNum, localState } from "../draw/widgets.js";

export const type = "SortingAgreement";
export const uses = ["selection"];
const MAX_SORTINGS = 8;

const keyOf = (data, i, id) => `${data.sortings[i].unitPrefix}${unitKey(id)}`;

export function unitIds(data) {
  return data.sortings.flatMap((s, i) => s.unitIds.map((u) => keyOf(data, i, u)));
}

const isIdList = (v) => Array.isArray(v) && v.every(isUnitId);

function checkSortings(data) {
  const n = Array.isArray(data.sortings) ? data.sortings.length : 0;
  if (n < 2 || n > MAX_SORTINGS) return `sortings must list 2 to ${MAX_SORTINGS} sortings`;
  return checkList(data, "sortings", (s) => (typeof s.label !== "string" ? "label must be a string"
    : typeof s.unitPrefix !== "string" ? "unitPrefix must be a string"
      : !isIdList(s.unitIds) ? "unitIds must be a list of unit ids" : null));
}

function checkPair(p, n) {
  const okIndex = (i) => Number.isInteger(i) && i >= 0 && i < n;
  if (!okIndex(p.sorting1) || !okIndex(p.sorting2) || p.sorting1 === p.sorting2) {
    return `sorting1 and sorting2 must be two indices of sortings (0 to ${n - 1})`;
  }
  if (!isIdList(p.onlyIn1) || !isIdList(p.onlyIn2)) return "onlyIn1 and onlyIn2 must be lists of unit ids";
  return checkList(p, "matches", (m) => (!isUnitId(m.unitId1) || !isUnitId(m.unitId2) ? "unitId1 and unitId2 must be unit ids"
    : isNum(m.agreement) ? null : "agreement must be a number"));
}

export function check(data) {
  const n = Array.isArray(data.sortings) ? data.sortings.length : 0;
  const problem = checkSortings(data) || checkList(data, "pairs", (p) => checkPair(p, n));
  if (problem) return problem;
  if (!data.pairs.length) return "pairs must list at least one pair of sortings";
  if (!Array.isArray(data.foundByOneOnly) || data.foundByOneOnly.length !== n || !data.foundByOneOnly.every(isIdList)) {
    return "foundByOneOnly must be a list of unit ids per sorting";
  }
  if (data.groups === undefined) return null;
  return checkList(data, "groups", (g) => (!Array.isArray(g.units) || g.units.length !== n
    || !g.units.every((u) => u === null || isUnitId(u)) ? `units must list a unit id or null for each of the ${n} sortings`
    : Number.isInteger(g.numSortings) ? null : "numSortings must be an integer"));
}

// the rows of a table sorted by column `col` of `values(row)` (ascending or not; missing values last)
function sortedRows(rows, values, sort) {
  if (sort.col === null) return rows;
  const sign = sort.asc ? 1 : -1;
  return [...rows].sort((a, b) => {
    const x = values(a)[sort.col];
    const y = values(b)[sort.col];
    const d = compareValues(x, y);
    return x === null || x === undefined || y === null || y === undefined ? d : sign * d;
  });
}

// a sortable table: `columns` [{label, tooltip, num (right-aligned)}], `rows` [{cells: [...], values: [...], keys: [unit keys]}]
function table(cls, columns, rows, sort, rerender, ctx) {
  const head = el("tr", {}, columns.map((c, i) => el("th", { dataset: { col: String(i) }, title: c.tooltip || c.label,
    style: c.num ? "text-align:right" : "text-align:left" },
    `${c.label}${sort.col === i ? (sort.asc ? " ▲" : " ▼") : ""}`)));
  const body = sortedRows(rows, (r) => r.values, sort).map((r) => el("tr", { dataset: { units: r.keys.join(" ") } },
    r.cells.map((c, i) => el("td", { class: columns[i].num ? "num" : "text" }, c))));
  const t = el("table", { class: `units ${cls}` }, el("thead", {}, head), el("tbody", {}, body));
  t.addEventListener("click", (ev) => {
    const th = ev.target.closest("th");
    if (th && th.dataset.col !== undefined) {
      const col = Number(th.dataset.col);
      Object.assign(sort, { col, asc: sort.col === col ? !sort.asc : true });
      rerender();
      return;
    }
    const tr = ev.target.closest("tbody tr");
    if (tr && tr.dataset.units) {
      const keys = tr.dataset.units.split(" ");
      ctx.select(keys, keys[0]);
    }
  });
  return t;
}

const fmtAgreement = (v) => v.toFixed(3);

function unitChips(data, i, ids, ctx) {
  if (!ids.length) return el("span", { class: "sv-agreement-none" }, "none");
  return ids.map((u) => el("button", { type: "button", class: "sv-agreement-unit", dataset: { units: keyOf(data, i, u) },
    title: keyOf(data, i, u), onclick: (ev) => ctx.clickUnit(keyOf(data, i, u), ev) }, String(u)));
}

function pairSection(elem, data, ctx, local) {
  const pair = data.pairs[Math.min(local.pair, data.pairs.length - 1)];
  const [a, b] = [data.sortings[pair.sorting1], data.sortings[pair.sorting2]];
  const rows = pair.matches.map((m) => ({
    keys: [keyOf(data, pair.sorting1, m.unitId1), keyOf(data, pair.sorting2, m.unitId2)],
    values: [m.unitId1, m.unitId2, m.agreement],
    cells: [String(m.unitId1), String(m.unitId2), fmtAgreement(m.agreement)],
  }));
  const columns = [{ label: `${a.label} unit` }, { label: `${b.label} unit` },
    { label: "Agreement", tooltip: "matching events / (events 1 + events 2 − matching events)", num: true }];
  const select = data.pairs.length < 2 ? null : el("select", { class: "sv-agreement-pair",
    onchange: (ev) => { local.pair = Number(ev.target.value); render(elem, data, ctx); } },
  data.pairs.map((p, i) => el("option", { value: String(i), selected: i === local.pair || null },
    `${data.sortings[p.sorting1].label} ~ ${data.sortings[p.sorting2].label} (${p.matches.length} matched)`)));
  return el("section", { class: "sv-agreement-pair-section" },
    el("h3", {}, `${a.label} ~ ${b.label}: ${pair.matches.length} matched units`), select,
    table("sv-agreement-matches", columns, rows, local.matchSort, () => render(elem, data, ctx), ctx),
    el("p", { class: "sv-agreement-only1" }, `Only in ${a.label} (no match in ${b.label}): `,
      unitChips(data, pair.sorting1, pair.onlyIn1, ctx)),
    el("p", { class: "sv-agreement-only2" }, `Only in ${b.label} (no match in ${a.label}): `,
      unitChips(data, pair.sorting2, pair.onlyIn2, ctx)));
}

function groupsSection(elem, data, ctx, local) {
  const columns = [...data.sortings.map((s) => ({ label: s.label })),
    { label: "Sortings", tooltip: "how many sortings found the unit", num: true }];
  const rows = data.groups.map((g) => ({
    keys: g.units.flatMap((u, i) => (u === null ? [] : [keyOf(data, i, u)])),
    values: [...g.units, g.numSortings],
    cells: [...g.units.map((u) => (u === null ? "–" : String(u))), String(g.numSortings)],
  }));
  return el("section", { class: "sv-agreement-groups-section" },
    el("h3", {}, `Units across all ${data.sortings.length} sortings (multi-sorting comparison): ${rows.length}`),
    table("sv-agreement-groups", columns, rows, local.groupSort, () => render(elem, data, ctx), ctx));
}

export function render(elem, data, ctx) {
  const local = localState(elem, "agreement", { pair: 0, matchSort: { col: 2, asc: false },
    groupSort: { col: data.sortings.length, asc: false } });
  const legend = el("p", { class: "sv-agreement-legend" }, data.sortings.map((s, i) => el("span", { class: "sv-agreement-sorting" },
    `${s.label}: ${s.unitIds.length} units${s.unitPrefix ? ` (unit keys ${s.unitPrefix}<id>)` : ""}${i + 1 < data.sortings.length ? "; " : ""}`)));
  const alone = el("section", { class: "sv-agreement-alone-section" }, el("h3", {}, "Found by one sorting only"),
    data.sortings.map((s, i) => el("p", { class: "sv-agreement-alone", dataset: { sorting: String(i) } },
      `${s.label}: `, unitChips(data, i, data.foundByOneOnly[i], ctx))));
  elem.replaceChildren(el("div", { class: "sv-agreement", style: "overflow:auto;height:100%;padding:4px 8px" },
    legend, pairSection(elem, data, ctx, local), alone, data.groups ? groupsSection(elem, data, ctx, local) : null));
  paint(elem, data, ctx);
}

// a row or unit button is selected when all its units are
export function paint(elem, data, ctx) {
  const sel = ctx.state.selection;
  for (const node of elem.querySelectorAll("[data-units]")) {
    const keys = node.dataset.units.split(" ").filter((k) => k);
    const on = keys.length > 0 && keys.every((k) => sel.has(k));
    node.classList.toggle("selected", on);
    if (node.tagName === "BUTTON") node.style.background = on ? "var(--sel, #d6e6fb)" : "";  // rows: style.css
  }
}
