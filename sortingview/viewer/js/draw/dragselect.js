// Rectangle selection over a drawing: a light grey rectangle follows a drag; releasing calls
// onRect({x, y, width, height}, mods), a click without drag calls onClick([x, y], mods). Coordinates are
// CSS pixels relative to `target`. The overlay canvas sits on top of the drawing and takes the mouse.

const DRAG_MIN = 4;

export function attachDragSelect(target, width, height, { onRect, onClick }) {
  const overlay = document.createElement("canvas");
  overlay.className = "drag-select";
  overlay.width = width;
  overlay.height = height;
  Object.assign(overlay.style, { position: "absolute", left: "0", top: "0", width: `${width}px`, height: `${height}px` });
  target.style.position = "relative";
  target.appendChild(overlay);
  const ctx = overlay.getContext("2d");
  let start = null;
  let rect = null;
  const point = (e) => {
    const b = overlay.getBoundingClientRect();
    return [Math.min(width, Math.max(0, e.clientX - b.left)), Math.min(height, Math.max(0, e.clientY - b.top))];
  };
  const mods = (e) => ({ ctrlKey: e.ctrlKey || e.metaKey, shiftKey: e.shiftKey });
  // the drag goes on outside the overlay (window listeners) until the button is released
  const onMove = (e) => {
    const [x, y] = point(e);
    if (!rect && Math.hypot(x - start[0], y - start[1]) < DRAG_MIN) return;
    rect = { x: Math.min(x, start[0]), y: Math.min(y, start[1]), width: Math.abs(x - start[0]), height: Math.abs(y - start[1]) };
    ctx.clearRect(0, 0, width, height);
    ctx.fillStyle = "rgba(196, 196, 196, 0.5)";
    ctx.fillRect(rect.x, rect.y, rect.width, rect.height);
  };
  const onUp = (e) => {
    window.removeEventListener("mousemove", onMove);
    window.removeEventListener("mouseup", onUp);
    const r = rect;
    const p = start;
    start = null;
    rect = null;
    ctx.clearRect(0, 0, width, height);
    if (r) onRect && onRect(r, mods(e));
    else onClick && onClick(p, mods(e));
  };
  overlay.addEventListener("mousedown", (e) => {
    if (e.button !== 0) return;
    e.preventDefault();
    start = point(e);
    rect = null;
    window.addEventListener("mousemove", onMove);
    window.addEventListener("mouseup", onUp);
  });
  return overlay;
}

export function rectContains(r, x, y, pad = 0) {
  return x + pad >= r.x && x - pad <= r.x + r.width && y + pad >= r.y && y - pad <= r.y + r.height;
}
