// CrossCorrelograms: the matrix of every ordered pair of the selected units (at most 8, in the table's order);
// the diagonal holds the autocorrelograms in the units' colours. Our extension `unitIds` fixes the units shown.
import { AXIS, drawCorrelogramBars, formatCount, note, setupCanvas } from "../plot.js";
import { checkCorrelogram } from "./Autocorrelograms.js";
import { checkList, el, isUnitId, selectedInOrder, unitKey, values } from "./common.js";

export const type = "CrossCorrelograms";
export const uses = ["selection", "order"];
export const MAX_UNITS = 8;
const PAD_LARGE = { left: 30, right: 4, top: 4, bottom: 16 };
const PAD_SMALL = { left: 4, right: 3, top: 12, bottom: 14 };  // cells under 90 px: the max count on top

export function check(data) {
  if (data.unitIds !== undefined && !(Array.isArray(data.unitIds) && data.unitIds.every(isUnitId))) return "unitIds must be a list of unit ids";
  return checkList(data, "crossCorrelograms", (c) => (!isUnitId(c.unitId1) ? "unitId1 must be a number or a non-empty string"
    : !isUnitId(c.unitId2) ? "unitId2 must be a number or a non-empty string" : checkCorrelogram(c)));
}

export function unitIds(data) { return [...new Set(data.crossCorrelograms.map((c) => c.unitId1))]; }

export function render(root, data, ctx) {
  const byPair = new Map(data.crossCorrelograms.map((c) => [`${unitKey(c.unitId1)}|${unitKey(c.unitId2)}`, c]));
  const inData = new Set(data.crossCorrelograms.map((c) => unitKey(c.unitId1)));
  const all = data.unitIds ? data.unitIds.map(unitKey) : selectedInOrder(ctx).filter((k) => inData.has(k));
  root.replaceChildren();
  delete root.dataset.drawn;
  if (!all.length) {
    root.appendChild(note("Select units (ctrl-click or shift-click for several) to see their cross-correlograms.", "placeholder"));
    return;
  }
  const keys = all.slice(0, MAX_UNITS);
  if (all.length > keys.length) {
    root.appendChild(note(`Showing the first ${keys.length} of ${all.length} selected units `
      + `(at most ${MAX_UNITS}: the matrix grows with the square of the number of units).`));
  }
  const edges = values(data.crossCorrelograms[0].binEdgesSec);
  root.appendChild(note(`Row unit's spikes at lag 0; bars count the column unit's spikes at each lag `
    + `(t_column − t_row), ${Math.round(edges[0] * 1000)} to ${Math.round(edges[edges.length - 1] * 1000)} ms, `
    + `${Math.round((edges[1] - edges[0]) * 1e4) / 10} ms bins; ±1.5 ms shaded.`));
  const colors = ctx.unitColors(keys);
  const n = keys.length;
  const size = Math.max(56, Math.min(160, Math.floor(((ctx.width || 600) - 80) / n) - 4));
  const grid = el("div", { class: "ccg-grid", style: `grid-template-columns: auto repeat(${n}, ${size}px)` }, el("div"));
  for (const k of keys) grid.appendChild(header(k, "ccg-col", colors.get(k)));
  let drawn = 0;
  for (const a of keys) {
    grid.appendChild(header(a, "ccg-row", colors.get(a)));
    for (const b of keys) {
      const item = byPair.get(`${a}|${b}`);
      const canvas = el("canvas", { class: "ccg", dataset: { pair: `${a}|${b}` },
        title: a === b ? `autocorrelogram of unit ${a}` : `unit ${b} around the spikes of unit ${a}` });
      grid.appendChild(canvas);
      if (!item) continue;
      drawCell(canvas, size, item, a === b ? colors.get(a) : "#4a5568", a === keys[keys.length - 1]);
      drawn++;
    }
  }
  root.appendChild(grid);
  root.dataset.drawn = String(drawn);
}

function header(key, cls, color) {
  return el("div", { class: `ccg-head ${cls}` }, el("i", { style: `background:${color}` }), `Unit ${key}`);
}

function drawCell(canvas, size, item, color, lastRow) {
  const counts = values(item.binCounts);
  const edges = values(item.binEdgesSec);
  const small = size < 90;
  const PAD = small ? PAD_SMALL : PAD_LARGE;
  const h = Math.round(size * 0.75);
  const ctx = setupCanvas(canvas, size, h);
  const pw = size - PAD.left - PAD.right;
  const ph = h - PAD.top - PAD.bottom;
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  canvas.dataset.total = String(total);
  const { max, x0, x1, Y } = drawCorrelogramBars(ctx, { PAD, pw, ph, counts, edges, color, gap: 0.3 });
  ctx.fillStyle = AXIS;
  ctx.font = "10px system-ui, sans-serif";
  if (small) {
    ctx.textAlign = "right"; ctx.textBaseline = "top";
    ctx.fillText(formatCount(max), size - PAD.right, 1);
  } else {
    ctx.textAlign = "right"; ctx.textBaseline = "middle";
    ctx.fillText(formatCount(max), PAD.left - 3, Y(max));
    ctx.fillText("0", PAD.left - 3, PAD.top + ph);
  }
  if (small && !lastRow) return;
  ctx.textBaseline = "top";
  ctx.textAlign = "left";
  ctx.fillText(`${Math.round(x0)}`, PAD.left, PAD.top + ph + 3);
  ctx.textAlign = "right";
  ctx.fillText(`${Math.round(x1)}`, PAD.left + pw, PAD.top + ph + 3);
}
