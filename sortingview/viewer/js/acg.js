// Autocorrelograms: one small bar plot per unit (all units, or only the selected ones).
import { AXIS, drawCorrelogramBars, errorBox, formatCount, setupCanvas } from "./plot.js";
import { displayedOrder, selectKeys } from "./table.js";
import { state, subscribe, unitKey } from "./store.js";

const W = 168;
const H = 118;
const PAD = { left: 34, right: 6, top: 18, bottom: 20 };
let root;
let grid;

export function mountAcg(el) {
  root = el;
  let lastError = "";
  subscribe((keys) => {
    // redrawing hundreds of canvases is the costly part: only when what they show changed
    const errs = `${JSON.stringify(state.errors.autocorrelograms)}${JSON.stringify(state.errors.mergedAutocorrelograms)}`;
    const errorChanged = keys.has("errors") && errs !== lastError;
    lastError = errs;
    if (errorChanged || ["acg", "acgMode", "unitIds", "mergedAcg", "sort"].some((k) => keys.has(k))) render();
    else if (keys.has("selection")) {
      if (state.acgMode === "selected") render(); else paintSelection();
    }
  });
  render();
}

// in the table's order (the table is redrawn first, so its order is current)
function visibleKeys() {
  const keys = displayedOrder().length ? [...displayedOrder()] : state.unitIds.map(unitKey);
  return state.acgMode === "selected" ? keys.filter((k) => state.selection.has(k)) : keys;
}

function render() {
  root.innerHTML = "";
  const err = state.errors.autocorrelograms;
  if (err) { root.appendChild(errorBox(err)); return; }
  if (!state.acg) {
    root.innerHTML = `<div class="placeholder">Computing autocorrelograms…</div>`;
    return;
  }
  const keys = visibleKeys();
  if (!keys.length) {
    root.innerHTML = `<div class="placeholder">Select units in the table to show their autocorrelograms.</div>`;
    return;
  }
  // a failed merged-unit correlogram is reported above the plots that did work
  if (state.errors.mergedAutocorrelograms) root.appendChild(errorBox(state.errors.mergedAutocorrelograms));
  grid = document.createElement("div");
  grid.className = "plot-grid";
  let drawn = 0;
  const mergedBefore = mergedCellsByFirstMember(keys);
  for (const k of keys) {
    for (const group of mergedBefore.get(k) || []) {
      const cell = addCell(grid, group.split("+")[0], "plot-cell merged-acg");
      cell.dataset.group = group;
      drawAcg(cell.firstChild, group, state.mergedAcg[group], state.acg.binEdgesSec, true);
    }
    const counts = state.acg.byUnit[k];
    if (!counts) continue;
    drawAcg(addCell(grid, k, "plot-cell").firstChild, k, counts, state.acg.binEdgesSec, false);
    drawn++;
  }
  grid.addEventListener("click", (ev) => {
    const cell = ev.target.closest(".plot-cell");
    if (!cell) return;
    const toggle = ev.ctrlKey || ev.metaKey;
    const sel = new Set(state.selection);
    if (toggle) { if (sel.has(cell.dataset.unit)) sel.delete(cell.dataset.unit); else sel.add(cell.dataset.unit); }
    selectKeys(toggle ? [...sel] : [cell.dataset.unit], cell.dataset.unit);
  });
  root.appendChild(grid);
  root.dataset.drawn = String(drawn);
  paintSelection();
  document.dispatchEvent(new CustomEvent("sv:acg-drawn", { detail: { count: drawn } }));
}

function addCell(grid, unit, cls) {
  const cell = document.createElement("div");
  cell.className = cls;
  cell.dataset.unit = unit;
  const canvas = document.createElement("canvas");
  canvas.className = "acg";
  cell.appendChild(canvas);
  grid.appendChild(cell);
  return cell;
}

// the merged unit's plot goes just before its first member that is shown
function mergedCellsByFirstMember(keys) {
  const out = new Map();
  for (const group of Object.keys(state.mergedAcg || {})) {
    const members = group.split("+");
    const first = keys.find((k) => members.includes(k));
    if (first === undefined) continue;
    if (!out.has(first)) out.set(first, []);
    out.get(first).push(group);
  }
  return out;
}

function paintSelection() {
  if (!grid) return;
  for (const cell of grid.children) cell.classList.toggle("selected", state.selection.has(cell.dataset.unit));
}

function drawAcg(canvas, key, counts, edges, merged) {
  const ctx = setupCanvas(canvas, W, H);
  const pw = W - PAD.left - PAD.right;
  const ph = H - PAD.top - PAD.bottom;
  const color = merged ? "#dd6b20" : "#2b6cb0";
  const { max, x0, x1, X, Y } = drawCorrelogramBars(ctx, { PAD, pw, ph, counts, edges, color, gap: 0.5 });
  ctx.fillStyle = AXIS;
  ctx.textBaseline = "top";
  ctx.textAlign = "left";
  ctx.fillText(`${Math.round(x0)}`, X(x0) - 4, PAD.top + ph + 3);
  ctx.textAlign = "center";
  ctx.fillText("0", X(0), PAD.top + ph + 3);
  ctx.textAlign = "right";
  ctx.fillText(`${Math.round(x1)} ms`, X(x1), PAD.top + ph + 3);
  ctx.textAlign = "right"; ctx.textBaseline = "middle";
  ctx.fillText(formatCount(max), PAD.left - 3, Y(max));
  ctx.fillText("0", PAD.left - 3, PAD.top + ph);
  ctx.textAlign = "left"; ctx.textBaseline = "top";
  ctx.font = "600 11px system-ui, sans-serif";
  ctx.fillStyle = "#222";
  ctx.fillText(merged ? `Merged ${key}` : `Unit ${key}`, PAD.left, 3);
  ctx.font = "10px system-ui, sans-serif";
  ctx.fillStyle = "#888";
  ctx.textAlign = "right";
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  ctx.fillText(`${formatCount(total)} pairs`, W - PAD.right, 4);
}
