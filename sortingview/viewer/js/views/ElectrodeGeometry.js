// ElectrodeGeometry: the probe's electrodes as blue dots with their channel ids. Click an electrode selects it
// (green; ctrl/shift-click toggles, click elsewhere clears); hovering lightens it. Electrode selection is
// the view's own, as in the original (no other view of a figure reads it).
import { el } from "./common.js";
import { electrodeAt, paintElectrodes } from "../draw/electrodes.js";
import { checkChannelLocations, localState, probeLayout, sizedCanvas, wheelZoom } from "../draw/widgets.js";

export const type = "ElectrodeGeometry";

export function check(data) {
  return checkChannelLocations(data.channelLocations);
}

export function render(elem, data, ctx) {
  const local = localState(elem, "electrodes", { selected: new Set(), hovered: null, zoom: { s: 1, tx: 0, ty: 0 } });
  const { width, height } = ctx;
  const layout = probeLayout(width, height, { channelLocations: data.channelLocations }, local.zoom);
  const { canvas, ctx2d } = sizedCanvas(width, height, "electrode-geometry");
  const draw = () => {
    ctx2d.clearRect(0, 0, width, height);
    paintElectrodes(ctx2d, layout, { selected: local.selected, hovered: local.hovered });
  };
  draw();
  const at = (e) => {
    const b = canvas.getBoundingClientRect();
    return electrodeAt(layout, e.clientX - b.left, e.clientY - b.top);
  };
  canvas.addEventListener("mousemove", (e) => { const id = at(e); if (id !== local.hovered) { local.hovered = id; draw(); } });
  canvas.addEventListener("mouseleave", () => { local.hovered = null; draw(); });
  canvas.addEventListener("click", (e) => {
    const id = at(e);
    if (id === null) local.selected = new Set();
    else if (e.ctrlKey || e.metaKey || e.shiftKey) { if (!local.selected.delete(id)) local.selected.add(id); }
    else local.selected = new Set([id]);
    canvas.dataset.selected = [...local.selected].join(",");
    draw();
  });
  elem.replaceChildren(el("div", { class: "sv-electrode-geometry" }, canvas));
  wheelZoom(canvas, local.zoom, () => render(elem, data, ctx));
}
