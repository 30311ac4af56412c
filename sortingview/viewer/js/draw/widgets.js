// Small pieces the views share: a view's own UI state kept on its element (it survives redraws on
// selection changes, and dies with the element), the "only show selected" bottom bar, a canvas of a size,
// number checks and coordinates of values that may be arrays or decoded ndarrays.
import { setupCanvas } from "../plot.js";
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
