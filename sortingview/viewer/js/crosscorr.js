// Cross-correlograms: the matrix of every ordered pair of the selected units (the diagonal: autocorrelograms).
import { AXIS, drawCorrelogramBars, errorBox, formatCount, note, setupCanvas } from "./plot.js";
import { colorsFor, mergesChanged, onResize, reportError, requestTask, viewUnits } from "./ondemand.js";
import { displayedOrder } from "./table.js";
import { state, subscribe } from "./store.js";

export const MAX_CCG_UNITS = 8;
const PAD_LARGE = { left: 30, right: 4, top: 4, bottom: 16 };
const PAD_SMALL = { left: 4, right: 3, top: 12, bottom: 14 };  // cells under 90 px: the max count on top
let root;

export function mountCrossCorrelograms(el) {
  root = el;
  subscribe((keys) => {
    if (state.view !== "crosscorrelograms") return;
    if (mergesChanged(keys) || ["view", "selection", "sort", "ondemand", "unitIds", "figure"].some((k) => keys.has(k))) render();
  });
  onResize(el, () => { if (state.view === "crosscorrelograms") render(); });
}

function render() {
  root.innerHTML = "";
  if (!state.figure) { root.appendChild(note("Loading…", "placeholder")); return; }
  const all = viewUnits(displayedOrder());
  if (all.length < 1) {
    root.appendChild(note("Select units in the table (ctrl-click or shift-click for several) to see their "
      + "cross-correlograms.", "placeholder"));
    return;
  }
  const units = all.slice(0, MAX_CCG_UNITS);
  if (all.length > units.length) {
    root.appendChild(note(`Showing the first ${units.length} of ${all.length} selected units `
      + `(at most ${MAX_CCG_UNITS}: the matrix grows with the square of the number of units).`));
  }
  const entry = requestTask("sortingview.cross_correlograms.1",
    { sorting: state.figure.sortingUri, unitIds: units.map((u) => u.taskId) }, "cross-correlograms");
  reportError("crossCorrelograms", entry);
  if (entry.status === "error") { root.appendChild(errorBox(entry.error)); return; }
  if (entry.status === "pending") { root.appendChild(note("Computing cross-correlograms…", "placeholder")); return; }
  drawMatrix(units, entry.result);
}

function drawMatrix(units, r) {
  const keys = units.map((u) => u.key);
  const taskIdOf = new Map(units.map((u) => [u.key, JSON.stringify(u.taskId)]));
  const edges = r.binEdgesSec.data || r.binEdgesSec;
  const byPair = new Map(r.crossCorrelograms.map((c) => [`${JSON.stringify(c.unitId1)}|${JSON.stringify(c.unitId2)}`, c.binCounts.data || c.binCounts]));
  const n = keys.length;
  const colors = colorsFor(keys);
  const size = Math.max(56, Math.min(160, Math.floor((root.clientWidth - 80) / n) - 4));
  const caption = note(`Row unit's spikes at lag 0; bars count the column unit's spikes at each lag `
    + `(t_column − t_row), ${Math.round(edges[0] * 1000)} to ${Math.round(edges[edges.length - 1] * 1000)} ms, `
    + `${Math.round((edges[1] - edges[0]) * 1e4) / 10} ms bins; ±1.5 ms shaded.`);
  root.appendChild(caption);
  const grid = document.createElement("div");
  grid.className = "ccg-grid";
  grid.style.gridTemplateColumns = `auto repeat(${n}, ${size}px)`;
  grid.appendChild(document.createElement("div"));
  for (const k of keys) grid.appendChild(header(k, "ccg-col", colors.get(k)));
  let drawn = 0;
  for (const a of keys) {
    grid.appendChild(header(a, "ccg-row", colors.get(a)));
    for (const b of keys) {
      const counts = byPair.get(`${taskIdOf.get(a)}|${taskIdOf.get(b)}`);
      const canvas = document.createElement("canvas");
      canvas.className = "ccg";
      canvas.dataset.pair = `${a}|${b}`;
      canvas.title = a === b ? `autocorrelogram of unit ${a}` : `unit ${b} around the spikes of unit ${a}`;
      grid.appendChild(canvas);
      if (!counts) continue;
      drawCell(canvas, size, counts, edges, a === b ? colors.get(a) : "#4a5568", a === keys[keys.length - 1]);
      drawn++;
    }
  }
  root.appendChild(grid);
  root.dataset.drawn = String(drawn);
}

function header(key, cls, color) {
  const div = document.createElement("div");
  div.className = `ccg-head ${cls}`;
  div.innerHTML = `<i style="background:${color}"></i>`;
  div.append(`Unit ${key}`);
  return div;
}

function drawCell(canvas, size, counts, edges, color, lastRow) {
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
  cellLabels(ctx, { small, lastRow, size, PAD, pw, ph, max, x0, x1, Y });
}

// the max count (left axis, or top right in a small cell) and the lag range under the cell
function cellLabels(ctx, { small, lastRow, size, PAD, pw, ph, max, x0, x1, Y }) {
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
