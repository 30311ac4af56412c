// A square matrix of unit pairs drawn as grey cells (UnitSimilarityMatrix, ConfusionMatrix), as the original
// GUI draws it: value v in range [lo, hi] -> grey level, NaN (no value) dark brown, the cells of pairs of
// selected units outlined in blue.

export function colorForValue(v, range, highlight = false) {
  if (v === undefined || Number.isNaN(v)) return highlight ? "rgb(0, 0, 255)" : "rgb(50, 20, 0)";
  const a = Math.min(255, Math.max(0, Math.floor(((v - range[0]) / (range[1] - range[0])) * 255)));
  const b = Math.min(255, Math.max(0, 255 - a - 30));
  return highlight ? `rgb(${b}, ${b}, 255)` : `rgb(${a}, ${a}, ${a})`;
}

// The square area of the matrix centred in width x height.
export function matrixGeometry(width, height, n1, n2) {
  const size = Math.max(0, Math.min(width, height));
  return { x0: (width - size) / 2, y0: (height - size) / 2, size, n1, n2 };
}

// Pixel -> {i1 (column), i2 (row)} or null
export function cellAt(geom, px, py) {
  const i1 = Math.floor(((px - geom.x0) / geom.size) * geom.n1);
  const i2 = Math.floor(((py - geom.y0) / geom.size) * geom.n2);
  return i1 >= 0 && i1 < geom.n1 && i2 >= 0 && i2 < geom.n2 ? { i1, i2 } : null;
}

// matrix[i1][i2]: value of (ids1[i1], ids2[i2]); i1 runs along x, i2 along y.
export function paintMatrix(ctx, geom, { ids1, ids2, matrix, range, selected }) {
  const { x0, y0, size, n1, n2 } = geom;
  if (n1 === 0 || n2 === 0) return;
  ctx.fillStyle = "rgb(100, 100, 80)";
  ctx.fillRect(x0, y0, size, size);
  const cw = size / n1;
  const ch = size / n2;
  const gap = cw >= 10 ? 3 : cw >= 6 ? 2 : cw >= 4 ? 1 : 0;
  for (let i1 = 0; i1 < n1; i1++) {
    for (let i2 = 0; i2 < n2; i2++) {
      const x = x0 + i1 * cw;
      const y = y0 + i2 * ch;
      const v = matrix[i1][i2];
      ctx.fillStyle = colorForValue(v, range);
      ctx.fillRect(x, y, cw - gap, ch - gap);
      if (gap > 0 && selected.has(String(ids1[i1])) && selected.has(String(ids2[i2]))) {
        ctx.strokeStyle = colorForValue(v, range, true);
        ctx.lineWidth = gap;
        ctx.strokeRect(x, y, cw - gap, ch - gap);
      }
    }
  }
}

// Unit ids sorted as the original sortIds does: numbers numerically, then strings by their numeric part.
export function sortIds(ids) {
  const num = (id) => (typeof id === "number" ? id : Number(String(id).replace(/\D+/g, "")) || 0);
  return [...ids].sort((a, b) => num(a) - num(b) || String(a).localeCompare(String(b)));
}
