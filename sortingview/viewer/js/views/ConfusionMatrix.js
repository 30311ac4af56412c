// ConfusionMatrix: sorting 1's units along x, sorting 2's along y (both sorted by id), each cell the
// agreement of the pair, matching / (count1 + count2 - matching), as grey level in [0, 1]; no matching count
// is dark brown. Click a cell selects the pair; hovering shows the pair and its value.
import { checkList, el, isUnitId, unitKey } from "./common.js";
import { sortIds } from "../draw/matrix.js";
import { isNum, localState, wheelZoom } from "../draw/widgets.js";
import { matrixPlot } from "./UnitSimilarityMatrix.js";

export const type = "ConfusionMatrix";
export const uses = ["selection"];
const BAR_HEIGHT = 30;

export function unitIds(data) { return [...data.sorting1UnitIds, ...data.sorting2UnitIds]; }

export function check(data) {
  for (const f of ["sorting1UnitIds", "sorting2UnitIds"]) {
    if (!Array.isArray(data[f]) || !data[f].every(isUnitId)) return `${f} must be a list of unit ids`;
  }
  const counts = checkList(data, "unitEventCounts", (c) => {
    if (!isUnitId(c.unitId)) return "unitId must be a number or a string";
    return isNum(c.count) ? null : "count must be a number";
  });
  if (counts) return counts;
  return checkList(data, "matchingUnitEventCounts", (c) => {
    if (!isUnitId(c.unitId1)) return "unitId1 must be a number or a string";
    if (!isUnitId(c.unitId2)) return "unitId2 must be a number or a string";
    return isNum(c.count) ? null : "count must be a number";
  });
}

// matrix[i1][i2] = matching / (count1 + count2 - matching), NaN when unknown
export function agreementMatrix(ids1, ids2, unitEventCounts, matchingUnitEventCounts) {
  const count = new Map(unitEventCounts.map((c) => [unitKey(c.unitId), c.count]));
  const matching = new Map(matchingUnitEventCounts.map((c) => [`${unitKey(c.unitId1)}/${unitKey(c.unitId2)}`, c.count]));
  return ids1.map((a) => ids2.map((b) => {
    const x = matching.get(`${unitKey(a)}/${unitKey(b)}`);
    const c1 = count.get(unitKey(a));
    const c2 = count.get(unitKey(b));
    if (x === undefined || c1 === undefined || c2 === undefined || !(c1 + c2 - x > 0)) return NaN;
    return x / (c1 + c2 - x);
  }));
}

export function render(elem, data, ctx) {
  const ids1 = sortIds(data.sorting1UnitIds);
  const ids2 = sortIds(data.sorting2UnitIds);
  const m = agreementMatrix(ids1, ids2, data.unitEventCounts, data.matchingUnitEventCounts);
  const hoverText = el("span", { class: "hover-info" });
  const zoom = localState(elem, "matrixZoom", { s: 1, tx: 0, ty: 0 });
  const plot = matrixPlot(ids1, ids2, m, [0, 1], ctx, hoverText, BAR_HEIGHT, zoom);
  wheelZoom(plot, zoom, () => render(elem, data, ctx));
  elem.replaceChildren(el("div", { class: "sv-confusion-matrix" }, plot, el("div", { class: "sv-bottom-bar" }, hoverText)));
}
