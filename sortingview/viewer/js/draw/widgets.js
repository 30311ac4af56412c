// Small pieces the views share: a view's own UI state kept on its element (it survives redraws on
// selection changes, and dies with the element), the "only show selected" bottom bar, a canvas of a size,
// number checks and coordinates of values that may be arrays or decoded ndarrays.
import { setupCanvas } from "../plot.js";
import { electrodesFromLocations, layoutElectrodes } from "./electrodes.js";
import { el, values } from "../views/common.js";

// these views' stylesheet, linked once into whichever page (views figure, workspace viewer) loads them
const STYLESHEET = new URL("../../view-types.css", import.meta.url).href;
if (!document.querySelector(`link[href="${STYLESHEET}"]`)) {
  document.head.append(el("link", { rel: "stylesheet", href: STYLESHEET }));
}

export function localState(elem, key, defaults) {
  elem._svLocal = elem._svLocal || {};
  if (!elem._svLocal[key]) elem._svLocal[key] = { ...defaults };
  return elem._svLocal[key];
}

export function optionBar(label, checked, onChange) {
  const box = el("input", { type: "checkbox", checked: checked || null, onchange: (e) => onChange(e.target.checked) });
  return el("div", { class: "sv-bottom-bar" }, el("label", {}, box, ` ${label}`));
}

export function sizedCanvas(width, height, cls) {
  const canvas = el("canvas", { class: cls });
  const ctx2d = setupCanvas(canvas, Math.max(1, width), Math.max(1, height));
  return { canvas, ctx2d };
}

export const isNum = (v) => typeof v === "number" && Number.isFinite(v);

// a list or 1-d ndarray of numbers of length n (any length when n is undefined)
export function isNumList(v, n) {
  const arr = values(v);
  if (!(Array.isArray(arr) || ArrayBuffer.isView(arr))) return false;
  if (n !== undefined && arr.length !== n) return false;
  if (v && v.shape && v.shape.length !== 1) return false;
  for (let i = 0; i < arr.length; i++) if (typeof arr[i] !== "number") return false;
  return true;
}

// channelLocations {id: [x, y, ...]} (values lists or ndarrays): null when usable, else the problem
export function checkChannelLocations(locs, field = "channelLocations") {
  if (!locs || typeof locs !== "object" || Array.isArray(locs) || locs.shape) {
    return `${field} must be an object {channelId: [x, y]}`;
  }
  for (const [k, v] of Object.entries(locs)) {
    const arr = values(v);
    if (!isNumList(v) || arr.length < 2) return `${field}["${k}"] must be a list of two numbers [x, y]`;
  }
  return null;
}

export function locationsAsObject(locs) {
  const out = {};
  for (const [k, v] of Object.entries(locs)) { const a = values(v); out[k] = [a[0], a[1]]; }
  return out;
}

// Shift+wheel zooms around the pointer (factor 1.3 a step), as the original's location, geometry and matrix
// views; zooming back out to the whole picture or beyond snaps to no zoom. `zoom` is {s, tx, ty} (p -> s p + t)
// in the view's local state; `redraw` draws again with it.
export function wheelZoom(target, zoom, redraw) {
  target.addEventListener("wheel", (e) => {
    if (!e.shiftKey) return;
    e.preventDefault();
    const b = target.getBoundingClientRect();
    const [px, py] = [e.clientX - b.left, e.clientY - b.top];
    const d = e.deltaY || e.deltaX;  // browsers may turn a shift+wheel into a horizontal scroll
    if (!d) return;
    const f = d > 0 ? 1 / 1.3 : 1.3;
    zoom.s *= f;
    zoom.tx = px - f * (px - zoom.tx);
    zoom.ty = py - f * (py - zoom.ty);
    if (zoom.s <= 1.0001) Object.assign(zoom, { s: 1, tx: 0, ty: 0 });
    redraw();
  }, { passive: false });
}

// the probe of a view's data (channelLocations, disableAutoRotate) fitted into width x height, zoomed
export function probeLayout(width, height, data, zoom) {
  const electrodes = electrodesFromLocations(locationsAsObject(data.channelLocations));
  return zoomedLayout(layoutElectrodes(width, height, electrodes, { disableAutoRotate: !!data.disableAutoRotate }), zoom);
}

// an electrode layout (js/draw/electrodes.js) seen through a zoom: positions and dot radius scaled
export function zoomedLayout(layout, z) {
  if (z.s === 1 && z.tx === 0 && z.ty === 0) return layout;
  const at = (x, y) => [z.s * x + z.tx, z.s * y + z.ty];
  return {
    electrodes: layout.electrodes.map((e) => { const [px, py] = at(e.px, e.py); return { ...e, px, py }; }),
    radius: layout.radius * z.s,
    toPixel: (x, y) => { const [px, py] = layout.toPixel(x, y); return at(px, py); },
  };
}
