// Electrodes on a probe, fitted into a canvas: the layout the original GUI uses for ElectrodeGeometry,
// UnitLocations and SpikeLocations (dot radius 45% of the closest pair's distance, at most 25 px; the probe
// turned by 90 degrees when its orientation differs from the canvas's, unless disableAutoRotate).
export const MAX_PIXEL_RADIUS = 25;
const MARGIN = 10;
export const ELECTRODE_COLORS = {
  border: "rgb(30, 30, 30)", base: "rgb(0, 0, 255)", selected: "rgb(50, 200, 50)",
  hover: "rgb(128, 128, 255)", textLight: "rgb(228, 228, 228)", textDark: "rgb(32, 32, 32)",
};

// channelLocations {channelId: [x, y]} -> [{id, label, x, y}] in the order of the object's keys
export function electrodesFromLocations(channelLocations) {
  return Object.keys(channelLocations).map((id) => {
    const loc = channelLocations[id];
    return { id, label: id, x: Number(loc[0]), y: Number(loc[1] ?? 0) };
  });
}

function closestDistance(electrodes) {
  let least = Infinity;
  for (let i = 0; i < electrodes.length; i++) {
    for (let j = i + 1; j < electrodes.length; j++) {
      const d = Math.hypot(electrodes[i].x - electrodes[j].x, electrodes[i].y - electrodes[j].y);
      if (d > 0 && d < least) least = d;
    }
  }
  return Number.isFinite(least) ? least : 1;
}

function bounds(electrodes, radius) {
  const xs = electrodes.map((e) => e.x);
  const ys = electrodes.map((e) => e.y);
  return {
    xmin: Math.min(...xs) - radius, xmax: Math.max(...xs) + radius,
    ymin: Math.min(...ys) - radius, ymax: Math.max(...ys) + radius,
  };
}

// All electrodes at one point carry no geometry: put them on a line in the order given.
function spreadIfDegenerate(electrodes) {
  const b = bounds(electrodes, 0);
  if (b.xmin === b.xmax && b.ymin === b.ymax) return electrodes.map((e, i) => ({ ...e, x: i, y: 0 }));
  return electrodes;
}

// Returns {electrodes: [{id, label, px, py}], radius (pixels), toPixel(x, y) for data points on the probe}
export function layoutElectrodes(width, height, electrodes, opts = {}) {
  const { disableAutoRotate = false, maxPixelRadius = MAX_PIXEL_RADIUS } = opts;
  if (electrodes.length === 0) return { electrodes: [], radius: 0, toPixel: () => [width / 2, height / 2] };
  const spread = spreadIfDegenerate(electrodes);
  const r0 = 0.45 * closestDistance(spread);
  const b0 = bounds(spread, r0);
  const boxAspect = (b0.xmax - b0.xmin) / (b0.ymax - b0.ymin);
  const canvasAspect = (width - 2 * MARGIN) / (height - 2 * MARGIN);
  const rotate = !disableAutoRotate && boxAspect !== 1 && canvasAspect !== 1 && (boxAspect > 1) !== (canvasAspect > 1);
  // turned: new x = old y, new y = -old x
  const turn = rotate ? (x, y) => [y, -x] : (x, y) => [x, y];
  const placed = spread.map((e) => { const [x, y] = turn(e.x, e.y); return { ...e, x, y }; });
  const b = bounds(placed, r0);
  const scale = Math.min((width - 2 * MARGIN) / (b.xmax - b.xmin), (height - 2 * MARGIN) / (b.ymax - b.ymin),
    maxPixelRadius / r0);
  const xOffset = (width - (b.xmax - b.xmin) * scale) / 2 - b.xmin * scale;
  const yOffset = (height + scale * (b.ymin + b.ymax)) / 2;
  const project = (x, y) => [x * scale + xOffset, -y * scale + yOffset];
  return {
    electrodes: placed.map((e) => { const [px, py] = project(e.x, e.y); return { id: e.id, label: e.label, px, py }; }),
    radius: r0 * scale,
    toPixel: (x, y) => { const [tx, ty] = turn(x, y); return project(tx, ty); },
  };
}

// Filled dots (blue, or green when selected, lighter when hovered), labels inside when the dots are big enough.
export function paintElectrodes(ctx, layout, opts = {}) {
  const { selected = new Set(), hovered = null, filled = true, outline = false, labels = true } = opts;
  const r = layout.radius;
  const c = ELECTRODE_COLORS;
  for (const e of layout.electrodes) {
    ctx.beginPath();
    ctx.ellipse(e.px, e.py, r, r, 0, 0, 2 * Math.PI);
    if (filled) {
      ctx.fillStyle = selected.has(e.id) ? c.selected : hovered === e.id ? c.hover : c.base;
      ctx.fill();
    }
    if (outline) { ctx.strokeStyle = c.border; ctx.lineWidth = 1; ctx.stroke(); }
  }
  if (!labels || r <= 5) return;
  ctx.font = `${Math.round(r)}px Arial`;
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  for (const e of layout.electrodes) {
    const dark = !filled || selected.has(e.id) || hovered === e.id;
    ctx.fillStyle = dark ? c.textDark : c.textLight;
    ctx.fillText(e.label, e.px, e.py);
  }
}

export function electrodeAt(layout, px, py) {
  const hit = layout.electrodes.find((e) => Math.hypot(e.px - px, e.py - py) < layout.radius);
  return hit ? hit.id : null;
}
