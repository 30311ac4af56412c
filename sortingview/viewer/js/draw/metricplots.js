// Histograms and scatter plots of unit metrics (UnitMetricsGraph), drawn as the original GUI draws them:
// grey histogram bars with a coloured vertical line per selected unit, and scatter markers in the unit's
// colour when selected, light grey otherwise.

// values -> {bars: [{key, xStart, xEnd, count}], ticks: [x]}; the range padded by half a bin each side
export function histogramBars(values, numBins) {
  if (values.length === 0) return { bars: [], ticks: [] };
  let min = Math.min(...values);
  let max = Math.max(...values);
  if (!(max > min)) return { bars: [], ticks: [] };
  min -= (max - min) / numBins / 2;
  max += (max - min) / numBins / 2;
  const counts = new Array(numBins).fill(0);
  for (const v of values) counts[Math.min(Math.floor(((v - min) / (max - min)) * numBins), numBins - 1)]++;
  const w = (max - min) / numBins;
  const bars = counts.map((count, i) => ({ key: i, xStart: min + i * w, xEnd: min + (i + 1) * w, count }));
  return { bars, ticks: histogramTicks(min, max) };
}

function msecTicks(lo, hi) {
  const span = hi - lo;
  const interval = span <= 30 ? 10 : span <= 120 ? 20 : span <= 300 ? 50 : span <= 600 ? 100 : span <= 1000 ? 150 : 100;
  const out = [];
  for (let a = Math.ceil(lo / interval); a * interval <= hi; a++) out.push(a * interval);
  return out;
}

function histogramTicks(min, max) {
  const span = max - min;
  let scale = 1;
  while (span * scale < 100) scale *= 10;
  while (span * scale >= 1000) scale /= 10;
  return msecTicks(min * scale, max * scale).map((v) => Number((v / scale).toPrecision(6)));
}

const BAR_MARGINS = { left: 3, right: 3, top: 5, bottom: 21 };

// Draws the bars and returns x <-> pixel for selection by dragging.
export function drawHistogram(ctx, width, height, { bars, ticks, lines = [], range = null }) {
  const m = BAR_MARGINS;
  const xMin = range ? range.min : bars.length ? bars[0].xStart : 0;
  const xMax = range ? range.max : bars.length ? bars[bars.length - 1].xEnd : 1;
  const yMax = Math.max(1, ...bars.map((b) => b.count));
  const W = width - m.left - m.right;
  const H = height - m.top - m.bottom;
  const X = (x) => m.left + ((x - xMin) / (xMax - xMin)) * W;
  ctx.save();
  ctx.beginPath();
  ctx.rect(m.left, 0, W, height);
  ctx.clip();
  ctx.fillStyle = "gray";
  for (const b of bars) {
    const y1 = m.top + H * (1 - b.count / yMax);
    ctx.fillRect(X(b.xStart), y1, Math.max(1, X(b.xEnd) - X(b.xStart) - 1), m.top + H - y1);
  }
  ctx.lineWidth = 2;
  for (const l of lines) {
    ctx.strokeStyle = l.color;
    ctx.beginPath(); ctx.moveTo(X(l.x), m.top); ctx.lineTo(X(l.x), m.top + H); ctx.stroke();
  }
  ctx.restore();
  ctx.fillStyle = "black";
  ctx.strokeStyle = "black";
  ctx.lineWidth = 1;
  ctx.font = "12px Arial";
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const t of ticks) {
    if (t < xMin || t > xMax) continue;
    ctx.beginPath(); ctx.moveTo(X(t), m.top + H); ctx.lineTo(X(t), m.top + H + 4); ctx.stroke();
    ctx.fillText(String(t), X(t), m.top + H + 5);
  }
  return { toX: (px) => xMin + ((px - m.left) / W) * (xMax - xMin), X };
}

const SCATTER_MARGIN = 20;

// markers [{key, x, y, color, radius}] -> drawn; returns coord -> pixel for hit tests
export function drawScatter(ctx, width, height, { markers, xRange = null, yRange = null }) {
  const span = (r, vals) => r ? [r.min, r.max] : vals.length ? [Math.min(...vals), Math.max(...vals)] : [0, 1];
  const [x0, x1] = span(xRange, markers.map((mk) => mk.x));
  const [y0, y1] = span(yRange, markers.map((mk) => mk.y));
  const W = width - 2 * SCATTER_MARGIN;
  const H = height - 2 * SCATTER_MARGIN;
  const frac = (v, lo, hi) => (hi > lo ? (v - lo) / (hi - lo) : 0.5);
  const toPixel = (x, y) => [SCATTER_MARGIN + frac(x, x0, x1) * W, SCATTER_MARGIN + (1 - frac(y, y0, y1)) * H];
  const toCoord = (px, py) => [x0 + ((px - SCATTER_MARGIN) / W) * (x1 - x0), y0 + (1 - (py - SCATTER_MARGIN) / H) * (y1 - y0)];
  ctx.strokeStyle = "black";
  ctx.lineWidth = 1;
  for (const mk of markers) {
    const [px, py] = toPixel(mk.x, mk.y);
    ctx.fillStyle = mk.color;
    ctx.beginPath();
    ctx.ellipse(px, py, mk.radius, mk.radius, 0, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
  }
  return { toPixel, toCoord };
}
