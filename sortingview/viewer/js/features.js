// Features: the PCA features of one selected unit, or the pair view of two (are they one cluster or two?).
import { drawAxes, errorBox, extent, note, setupCanvas } from "./plot.js";
import { colorOf, colorsFor, mergesChanged, onResize, reportError, requestTask, valueUnit, viewUnits } from "./ondemand.js";
import { displayedOrder } from "./selection.js";
import { el } from "./views/common.js";
import { NO_UNITS, hasNoUnits, state, subscribe } from "./store.js";

let root;

export function mountFeatures(el) {
  root = el;
  subscribe((keys) => {
    if (state.view !== "features") return;
    if (mergesChanged(keys) || ["view", "selection", "sort", "ondemand", "unitIds", "figure", "recordingInfo"].some((k) => keys.has(k))) render();
  });
  onResize(el, () => { if (state.view === "features") render(); });
}

function render() {
  root.innerHTML = "";
  delete root.dataset.drawn;
  if (!state.figure) { root.appendChild(note("Loading…", "placeholder")); return; }
  if (hasNoUnits()) { root.appendChild(note(NO_UNITS, "placeholder")); return; }
  const units = viewUnits(displayedOrder());
  const sel = units.map((u) => u.key);
  if (!sel.length) {
    root.appendChild(note("Select one unit for its PCA features, or two units (ctrl-click) for the pair view.",
      "placeholder"));
    return;
  }
  if (sel.length > 2) root.appendChild(note(`${sel.length} units selected: the pair view of the first two.`));
  const common = { recording: state.figure.recordingUri, sorting: state.figure.sortingUri };
  const entry = sel.length === 1
    ? requestTask("sortingview.unit_features.1", { ...common, unitId: units[0].taskId }, `PCA features ${sel[0]}`)
    : requestTask("sortingview.pair_features.1", { ...common, unitId1: units[0].taskId, unitId2: units[1].taskId },
      `pair features ${sel[0]}, ${sel[1]}`);
  reportError("features", entry);
  if (entry.status === "error") { root.appendChild(errorBox(entry.error)); return; }
  if (entry.status === "pending") { root.appendChild(note("Computing features…", "placeholder")); return; }
  if (sel.length === 1) drawUnit(sel[0], entry.result); else drawPair(sel[0], sel[1], entry.result);
}

// as many panels side by side as fit at 250 px or more, up to ``count``
function panelSize(count) {
  const avail = root.clientWidth - 24;
  const cols = Math.max(1, Math.min(count, Math.floor(avail / 258)));
  const w = Math.max(250, Math.min(440, Math.floor(avail / cols) - 8));
  return { w, h: Math.round(w * 0.9) };
}

function addCanvas(parent, cls) {
  const cell = document.createElement("div");
  cell.className = "plot-cell feature-cell";
  const canvas = document.createElement("canvas");
  canvas.className = cls;
  cell.appendChild(canvas);
  parent.appendChild(cell);
  return canvas;
}

function scatter(canvas, size, xs, ys, colors, groups, xLabel, yLabel, title) {
  const ctx = setupCanvas(canvas, size.w, size.h);
  const area = { left: 52, top: 22, width: size.w - 62, height: size.h - 62 };
  const { X, Y } = drawAxes(ctx, area, extent([xs]), extent([ys]), xLabel, yLabel);
  ctx.fillStyle = "#222";
  ctx.font = "600 12px system-ui, sans-serif";
  ctx.textAlign = "left"; ctx.textBaseline = "top";
  ctx.fillText(title, area.left, 4);
  ctx.globalAlpha = xs.length > 3000 ? 0.5 : 0.75;
  for (let j = 0; j < xs.length; j++) {
    ctx.fillStyle = colors[groups ? groups[j] : 0];
    ctx.fillRect(X(xs[j]) - 1.3, Y(ys[j]) - 1.3, 2.6, 2.6);
  }
  ctx.globalAlpha = 1;
  canvas.dataset.points = String(xs.length);
}

function drawUnit(key, r) {
  const f = r.features;
  const [n, k] = f.shape;
  const comps = Array.from({ length: k }, (_, c) => Float32Array.from({ length: n }, (_, i) => f.get(i, c)));
  const pairs = k >= 3 ? [[0, 1], [0, 2], [1, 2]] : k === 2 ? [[0, 1]] : [];
  root.appendChild(note(`Unit ${key}: the first ${k} principal components of ${n} spikes' waveforms on the `
    + "unit's neighbouring channels (the spikes of its average waveform, spread over the recording)."));
  if (!pairs.length) { root.appendChild(note("Only one component: nothing to scatter.", "placeholder")); return; }
  const grid = document.createElement("div");
  grid.className = "plot-grid";
  root.appendChild(grid);
  const size = panelSize(pairs.length);
  for (const [a, b] of pairs) {
    scatter(addCanvas(grid, "features"), size, comps[a], comps[b], [colorOf(key)], null,
      `PC${a + 1} (${valueUnit()})`, `PC${b + 1} (${valueUnit()})`, `Unit ${key}: PC${a + 1} vs PC${b + 1}`);
  }
  root.dataset.drawn = String(pairs.length);
}

function drawPair(k1, k2, r) {
  const pair = colorsFor([k1, k2]);
  const [c1, c2] = [pair.get(k1), pair.get(k2)];
  const colors = [null, c1, c2];
  const labels = r.labels.data;
  const n1 = labels.filter((v) => v === 1).length;
  root.appendChild(note(`Units ${k1} and ${k2} on ${r.channelIds.length} channels: x is the projection on the `
    + `difference of their mean waveforms (unit ${k1} to the right), y the main direction of what is left.`));
  const grid = document.createElement("div");
  grid.className = "plot-grid";
  root.appendChild(grid);
  const size = panelSize(2);
  scatter(addCanvas(grid, "features"), size, r.x.data, r.y.data, colors, labels,
    `discriminant axis (${valueUnit()})`, `residual PC1 (${valueUnit()})`, `Units ${k1} vs ${k2}`);
  histogram(addCanvas(grid, "features-hist"), size, r.x.data, labels, colors);
  const legend = document.createElement("div");
  legend.className = "legend";
  legend.append(el("span", {}, el("i", { style: `background:${c1}` }), `unit ${k1} (${n1} spikes)`),
    el("span", {}, el("i", { style: `background:${c2}` }), `unit ${k2} (${labels.length - n1} spikes)`));
  root.appendChild(legend);
  root.dataset.drawn = "2";
}

// the two units' distributions along the discriminant axis: two separate bumps mean two neurons
function histogram(canvas, size, xs, labels, colors) {
  const nb = 50;
  const [lo, hi] = extent([xs]);
  const counts = [null, new Float64Array(nb), new Float64Array(nb)];
  for (let j = 0; j < xs.length; j++) counts[labels[j]][Math.min(nb - 1, Math.floor(((xs[j] - lo) / (hi - lo)) * nb))]++;
  const max = Math.max(1, ...counts[1], ...counts[2]);
  const ctx = setupCanvas(canvas, size.w, size.h);
  const area = { left: 52, top: 22, width: size.w - 62, height: size.h - 62 };
  const { X, Y } = drawAxes(ctx, area, [lo, hi], [0, max * 1.05], `discriminant axis (${valueUnit()})`, "spikes");
  ctx.fillStyle = "#222";
  ctx.font = "600 12px system-ui, sans-serif";
  ctx.textAlign = "left"; ctx.textBaseline = "top";
  ctx.fillText("Along the discriminant axis", area.left, 4);
  ctx.globalAlpha = 0.55;
  for (const g of [1, 2]) {
    ctx.fillStyle = colors[g];
    for (let b = 0; b < nb; b++) {
      const x0 = X(lo + ((hi - lo) * b) / nb);
      const x1 = X(lo + ((hi - lo) * (b + 1)) / nb);
      ctx.fillRect(x0, Y(counts[g][b]), x1 - x0 - 0.5, Y(0) - Y(counts[g][b]));
    }
  }
  ctx.globalAlpha = 1;
}
