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
