// Small canvas helpers shared by the plots: crisp hi-dpi canvases, colors, nice tick values.
export const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];
export const AXIS = "#555";
export const GRID = "#e6e6e6";
export const FONT = "11px system-ui, -apple-system, 'Segoe UI', sans-serif";

export function setupCanvas(canvas, width, height) {
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * dpr);
  canvas.height = Math.round(height * dpr);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  ctx.font = FONT;
  return ctx;
}

export function niceStep(range, target) {
  const raw = range / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
}

export function formatCount(v) {
  if (v >= 10000) return `${(v / 1000).toFixed(0)}k`;
  if (v >= 1000) return `${(v / 1000).toFixed(1)}k`;
  return String(Math.round(v));
}

export function unitColor(index) { return COLORS[index % COLORS.length]; }

export function errorBox(err) {
  const div = document.createElement("div");
  div.className = "task-error";
  const title = document.createElement("div");
  title.className = "task-error-title";
  title.textContent = `Error: ${err.message}`;
  div.appendChild(title);
  if (err.traceback) {
    const details = document.createElement("details");
    details.innerHTML = "<summary>traceback</summary>";
    const pre = document.createElement("pre");
    pre.textContent = err.traceback;
    details.appendChild(pre);
    div.appendChild(details);
  }
  return div;
}

// Axes with nice ticks around a plot area {left, top, width, height}; x and y are [min, max] data ranges.
export function drawAxes(ctx, area, x, y, xLabel, yLabel) {
  const X = (v) => area.left + ((v - x[0]) / (x[1] - x[0])) * area.width;
  const Y = (v) => area.top + area.height - ((v - y[0]) / (y[1] - y[0])) * area.height;
  ctx.save();
  ctx.font = FONT;
  ctx.strokeStyle = GRID;
  ctx.fillStyle = AXIS;
  ctx.lineWidth = 1;
  const xs = ticks(x[0], x[1], Math.max(2, Math.floor(area.width / 90)));
  const ys = ticks(y[0], y[1], Math.max(2, Math.floor(area.height / 45)));
  ctx.beginPath();
  for (const v of xs) { ctx.moveTo(Math.round(X(v)) + 0.5, area.top); ctx.lineTo(Math.round(X(v)) + 0.5, area.top + area.height); }
  for (const v of ys) { ctx.moveTo(area.left, Math.round(Y(v)) + 0.5); ctx.lineTo(area.left + area.width, Math.round(Y(v)) + 0.5); }
  ctx.stroke();
  ctx.strokeStyle = AXIS;
  ctx.strokeRect(area.left + 0.5, area.top + 0.5, area.width, area.height);
  ctx.textAlign = "center"; ctx.textBaseline = "top";
  for (const v of xs) ctx.fillText(formatTick(v), X(v), area.top + area.height + 3);
  ctx.textAlign = "right"; ctx.textBaseline = "middle";
  for (const v of ys) ctx.fillText(formatTick(v), area.left - 4, Y(v));
  ctx.textAlign = "center"; ctx.textBaseline = "bottom";
  if (xLabel) ctx.fillText(xLabel, area.left + area.width / 2, area.top + area.height + 30);
  if (yLabel) {
    ctx.translate(12, area.top + area.height / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = "middle";
    ctx.fillText(yLabel, 0, 0);
  }
  ctx.restore();
  return { X, Y };
}

export function ticks(lo, hi, target) {
  if (!(hi > lo)) return [lo];
  const step = niceStep(hi - lo, target);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

export function formatTick(v) {
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(1);
  return String(Number(v.toPrecision(6)));
}

// [min, max] of typed arrays, padded by a fraction; [-1, 1] when there is nothing finite
export function extent(arrays, pad = 0.05) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const a of arrays) for (let i = 0; i < a.length; i++) { const v = a[i]; if (v < lo) lo = v; if (v > hi) hi = v; }
  if (!Number.isFinite(lo)) return [-1, 1];
  if (lo === hi) return [lo - 1, hi + 1];
  const d = (hi - lo) * pad;
  return [lo - d, hi + d];
}

// A small note or placeholder paragraph
export function note(text, cls = "note") {
  const p = document.createElement("div");
  p.className = cls;
  p.textContent = text;
  return p;
}

// A correlogram as bars in the box PAD/pw/ph: the refractory window (+-1.5 ms) shaded and the zero lag marked
// (they help judge contamination), then the left and bottom axis lines. Returns the scales for the labels.
export function drawCorrelogramBars(ctx, { PAD, pw, ph, counts, edges, color, gap }) {
  const x0 = edges[0] * 1000;
  const x1 = edges[edges.length - 1] * 1000;
  let max = 0;
  for (let i = 0; i < counts.length; i++) if (counts[i] > max) max = counts[i];
  const ymax = max > 0 ? max * 1.05 : 1;
  const X = (ms) => PAD.left + ((ms - x0) / (x1 - x0)) * pw;
  const Y = (c) => PAD.top + ph - (c / ymax) * ph;
  ctx.fillStyle = "#fbe9e9";
  ctx.fillRect(X(-1.5), PAD.top, X(1.5) - X(-1.5), ph);
  ctx.strokeStyle = GRID;
  ctx.beginPath(); ctx.moveTo(X(0), PAD.top); ctx.lineTo(X(0), PAD.top + ph); ctx.stroke();
  ctx.fillStyle = color;
  for (let i = 0; i < counts.length; i++) {
    const left = X(edges[i] * 1000);
    const top = Y(counts[i]);
    ctx.fillRect(left, top, Math.max(1, X(edges[i + 1] * 1000) - left - gap), PAD.top + ph - top);
  }
  ctx.strokeStyle = AXIS;
  ctx.beginPath();
  ctx.moveTo(PAD.left, PAD.top); ctx.lineTo(PAD.left, PAD.top + ph); ctx.lineTo(PAD.left + pw, PAD.top + ph);
  ctx.stroke();
  return { max, x0, x1, X, Y };
}

// `text` cut with an ellipsis to fit `maxWidth` pixels in the context's current font
export function fitText(ctx, text, maxWidth) {
  let shown = String(text);
  while (shown.length > 1 && ctx.measureText(shown).width > maxWidth) shown = `${shown.slice(0, -2)}…`;
  return shown;
}
