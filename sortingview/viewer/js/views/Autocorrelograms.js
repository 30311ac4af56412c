// Autocorrelograms: one small bar plot per unit in the table's order; a click selects the unit. Our extension
// `mergedAutocorrelograms: [{unitIds, binEdgesSec, binCounts}]` draws each merge group just before its first member.
import { AXIS, drawCorrelogramBars, fitText, formatCount, setupCanvas } from "../plot.js";
import { checkList, el, isNumbers, isUnitId, unitKey, values } from "./common.js";

export const type = "Autocorrelograms";
export const uses = ["order", "selection"];  // selection alone: paint()
export const resizes = false;  // a wrapping grid of fixed-size cells: nothing to redo when the pane resizes

const W = 168;
const H = 118;
const PAD = { left: 34, right: 6, top: 18, bottom: 20 };

export function checkCorrelogram(item) {
  if (!isNumbers(item.binEdgesSec)) return "binEdgesSec must be an array of numbers";
  if (!isNumbers(item.binCounts)) return "binCounts must be an array of numbers";
  if (values(item.binCounts).length !== values(item.binEdgesSec).length - 1) {
    return "binCounts must have one count fewer than binEdgesSec has edges";
  }
  return null;
}

export function check(data) {
  return checkList(data, "autocorrelograms", (a) => (!isUnitId(a.unitId) ? "unitId must be a number or a non-empty string"
    : checkCorrelogram(a)))
    || (data.mergedAutocorrelograms ? checkList(data, "mergedAutocorrelograms", (a) => (
      !Array.isArray(a.unitIds) ? "unitIds must be a list" : checkCorrelogram(a))) : null);
}

export function unitIds(data) { return data.autocorrelograms.map((a) => a.unitId); }

export function render(root, data, ctx) {
  const byUnit = new Map(data.autocorrelograms.map((a) => [unitKey(a.unitId), a]));
  const order = ctx.state.order.length ? ctx.state.order.filter((k) => byUnit.has(k)) : [...byUnit.keys()];
  const mergedBefore = mergedByFirstMember(data.mergedAutocorrelograms || [], order);
  const grid = el("div", { class: "plot-grid" });
  const plots = [];  // [cell, title, item, colour]: drawn when the cell is (nearly) on screen
  for (const k of order) {
    for (const m of mergedBefore.get(k) || []) {
      const group = m.unitIds.map(unitKey).join("+");
      const cell = addCell(grid, unitKey(m.unitIds[0]), "plot-cell merged-acg");
      cell.dataset.group = group;
      plots.push([cell, `Merged ${group}`, m, "#dd6b20"]);
    }
    plots.push([addCell(grid, k, "plot-cell"), `Unit ${k}`, byUnit.get(k), "#2b6cb0"]);
  }
  grid.addEventListener("click", (ev) => {
    const cell = ev.target.closest(".plot-cell");
    if (cell) ctx.clickUnit(cell.dataset.unit, ev);
  });
  root.replaceChildren(grid);
  root.dataset.drawn = String(order.length);
  drawVisible(root, plots);
  paint(root, data, ctx);
}

// Only the cells on screen (and half a screen around it) are drawn now; the others when they are scrolled to
// (an IntersectionObserver): a thousand units cost the drawing of the few dozen one sees.
function drawVisible(root, plots) {
  if (root.acgObserver) root.acgObserver.disconnect();
  const draw = (cell) => {
    const p = plots[cell.plotIndex];
    if (p && !cell.painted) { drawAcg(cell.firstChild, p[1], p[2], p[3]); cell.painted = true; }
  };
  const margin = Math.round(window.innerHeight / 2);
  const observer = new IntersectionObserver((entries) => {
    for (const e of entries) if (e.isIntersecting) { draw(e.target); observer.unobserve(e.target); }
  }, { rootMargin: `${margin}px 0px` });
  // the part of the page one sees of this view; every position is read before anything is drawn (one layout)
  const box = root.getBoundingClientRect();
  const top = Math.max(box.top, 0) - margin;
  const bottom = Math.min(box.bottom, window.innerHeight) + margin;
  const near = plots.map(([cell]) => { const r = cell.getBoundingClientRect(); return r.bottom >= top && r.top <= bottom; });
  plots.forEach(([cell], i) => {
    cell.plotIndex = i;
    if (near[i]) draw(cell); else observer.observe(cell);
  });
  root.acgObserver = observer;
}

export function paint(root, data, ctx) {
  const grid = root.querySelector(".plot-grid");
  if (!grid) return;
  for (const cell of grid.children) cell.classList.toggle("selected", ctx.state.selection.has(cell.dataset.unit));
}

function addCell(grid, unit, cls) {
  // the canvas has its size before it is drawn, so the grid's layout does not change when it is
  const cell = el("div", { class: cls, dataset: { unit } }, el("canvas", { class: "acg", style: `width:${W}px;height:${H}px` }));
  grid.appendChild(cell);
  return cell;
}

// each merged unit's plot goes just before its first member that is shown
function mergedByFirstMember(merged, order) {
  const out = new Map();
  for (const m of merged) {
    const members = m.unitIds.map(unitKey);
    const first = order.find((k) => members.includes(k));
    if (first === undefined) continue;
    if (!out.has(first)) out.set(first, []);
    out.get(first).push(m);
  }
  return out;
}

function drawAcg(canvas, title, item, color) {
  const ctx = setupCanvas(canvas, W, H);
  const counts = values(item.binCounts);
  const edges = values(item.binEdgesSec);
  const pw = W - PAD.left - PAD.right;
  const ph = H - PAD.top - PAD.bottom;
  const { max, x0, x1, X, Y } = drawCorrelogramBars(ctx, { PAD, pw, ph, counts, edges, color, gap: 0.5 });
  ctx.fillStyle = AXIS;
  ctx.textBaseline = "top";
  ctx.textAlign = "left";
  ctx.fillText(`${Math.round(x0)}`, X(x0) - 4, PAD.top + ph + 3);
  ctx.textAlign = "center";
  ctx.fillText("0", X(0), PAD.top + ph + 3);
  ctx.textAlign = "right";
  ctx.fillText(`${Math.round(x1)} ms`, X(x1), PAD.top + ph + 3);
  ctx.textBaseline = "middle";
  ctx.fillText(formatCount(max), PAD.left - 3, Y(max));
  ctx.fillText("0", PAD.left - 3, PAD.top + ph);
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  drawTitle(canvas, ctx, title, `${formatCount(total)} pairs`);
}

// the title on the left and the pair count on the right of the top line; a title too long for both is cut
// with an ellipsis (its full text is the cell's tooltip), so the two never overlap
function drawTitle(canvas, ctx, title, count) {
  ctx.font = "10px system-ui, sans-serif";
  const countW = ctx.measureText(count).width;
  ctx.font = "600 11px system-ui, sans-serif";
  const room = W - PAD.right - countW - 6 - 4;
  const shown = fitText(ctx, title, room);
  ctx.fillStyle = "#222";
  ctx.textAlign = "left";
  ctx.textBaseline = "top";
  ctx.fillText(shown, 4, 3);
  const titleRight = 4 + ctx.measureText(shown).width;
  ctx.font = "10px system-ui, sans-serif";
  ctx.fillStyle = "#888";
  ctx.textAlign = "right";
  ctx.fillText(count, W - PAD.right, 4);
  canvas.title = `${title}: ${count}`;
  canvas.dataset.titleRight = String(Math.ceil(titleRight));
  canvas.dataset.countLeft = String(Math.floor(W - PAD.right - countW));
}
