// UnitSimilarityMatrix: a grey-level cell per pair of units (range [0, 1] unless the data gives `range`), only
// the units the figure is restricted to (SortingSelection) when it is,
// pairs of selected units outlined in blue. Click a cell selects its two units; hovering shows
// "Units a/b | value: v"; with one unit selected, "select similar units" adds its four most similar units.
import { checkList, el, isUnitId, unitKey } from "./common.js";
import { cellAt, matrixGeometry, paintMatrix } from "../draw/matrix.js";
import { isNum, isNumList, localState, sizedCanvas, wheelZoom } from "../draw/widgets.js";

export const type = "UnitSimilarityMatrix";
export const uses = ["selection", "visibleUnits"];
const BAR_HEIGHT = 24;

export function unitIds(data) { return data.unitIds; }

export function check(data) {
  if (!Array.isArray(data.unitIds) || !data.unitIds.every(isUnitId)) return "unitIds must be a list of unit ids";
  if (data.range !== undefined && !isNumList(data.range, 2)) return "range must be a list of two numbers";
  const known = new Set(data.unitIds.map(unitKey));
  return checkList(data, "similarityScores", (s) => {
    if (!isUnitId(s.unitId1) || !known.has(unitKey(s.unitId1))) return "unitId1 must be one of unitIds";
    if (!isUnitId(s.unitId2) || !known.has(unitKey(s.unitId2))) return "unitId2 must be one of unitIds";
    if (!isNum(s.similarity)) return "similarity must be a number";
    return null;
  });
}

// matrix[i1][i2] of the scores, NaN where a pair has none
export function similarityMatrix(ids, scores) {
  const index = new Map(ids.map((id, i) => [unitKey(id), i]));
  const m = ids.map(() => new Array(ids.length).fill(NaN));
  for (const s of scores) m[index.get(unitKey(s.unitId1))][index.get(unitKey(s.unitId2))] = s.similarity;
  return m;
}

// the unit and its four most similar others
export function similarUnits(ids, m, key) {
  const i0 = ids.findIndex((id) => unitKey(id) === key);
  if (i0 < 0) return [key];
  const others = ids.map((id, j) => ({ key: unitKey(id), v: m[i0][j] }))
    .filter((o, j) => j !== i0 && !Number.isNaN(o.v)).sort((a, b) => b.v - a.v);
  return [key, ...others.slice(0, 4).map((o) => o.key)];
}

export function render(elem, data, ctx) {
  const visible = ctx.state.visibleUnits;
  const ids = visible ? data.unitIds.filter((id) => visible.has(unitKey(id))) : data.unitIds;
  const shown = new Set(ids.map(unitKey));
  const scores = data.similarityScores.filter((s) => shown.has(unitKey(s.unitId1)) && shown.has(unitKey(s.unitId2)));
  const m = similarityMatrix(ids, scores);
  const sel = ctx.state.selection;
  const bar = el("div", { class: "sv-bottom-bar" });
  if (sel.size === 1) {
    const only = [...sel][0];
    bar.append(el("button", { class: "select-similar", title: "Select similar units",
      onclick: () => ctx.select(similarUnits(ids, m, only), only) }, "select similar units"), " ");
  }
  const hoverText = el("span", { class: "hover-info" });
  bar.append(hoverText);
  const zoom = localState(elem, "matrixZoom", { s: 1, tx: 0, ty: 0 });
  const plot = matrixPlot(ids, ids, m, data.range ? [...data.range] : [0, 1], ctx, hoverText, BAR_HEIGHT, zoom);
  wheelZoom(plot, zoom, () => render(elem, data, ctx));
  elem.replaceChildren(el("div", { class: "sv-similarity-matrix" }, plot, bar));
}

// The canvas of a unit-pair matrix with its click (select both units) and hover (text) behaviour.
export function matrixPlot(ids1, ids2, m, range, ctx, hoverText, barHeight, zoom) {
  const width = ctx.width;
  const height = Math.max(1, ctx.height - barHeight);
  const { canvas, ctx2d } = sizedCanvas(width, height, "unit-matrix");
  const g0 = matrixGeometry(width, height, ids1.length, ids2.length);
  const geom = { ...g0, x0: zoom.s * g0.x0 + zoom.tx, y0: zoom.s * g0.y0 + zoom.ty, size: zoom.s * g0.size };
  paintMatrix(ctx2d, geom, { ids1, ids2, matrix: m, range, selected: ctx.state.selection });
  const cell = (e) => { const b = canvas.getBoundingClientRect(); return cellAt(geom, e.clientX - b.left, e.clientY - b.top); };
  canvas.addEventListener("mousedown", (e) => {
    const c = cell(e);
    if (c) ctx.select([unitKey(ids1[c.i1]), unitKey(ids2[c.i2])], unitKey(ids1[c.i1]));
  });
  canvas.addEventListener("mousemove", (e) => {
    const c = cell(e);
    const v = c ? m[c.i1][c.i2] : undefined;
    hoverText.textContent = c ? `Units ${ids1[c.i1]}/${ids2[c.i2]} | ${Number.isNaN(v) ? "" : `value: ${v}`}` : "";
  });
  canvas.addEventListener("mouseleave", () => { hoverText.textContent = ""; });
  return canvas;
}
