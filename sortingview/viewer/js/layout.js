// The layout renderer of views figures: Box, Splitter, TabLayout and Mountain layouts (sortingview 0.14 formats)
// become elements; each leaf {type: "View", viewId} is handed to mountLeaf(el, viewId, title).
import { messageBox } from "./viewhost.js";
import { el } from "./views/common.js";

const LAYOUTS = { Box: renderBox, Splitter: renderSplitter, TabLayout: renderTabs, Mountain: renderMountain,
  MountainLayout: renderMountain };

// Render `layout` into `parent`; `env` = {mountLeaf(el, viewId, title), isControl(viewId)}
export function renderLayout(parent, layout, env) {
  if (!layout || typeof layout !== "object") {
    parent.replaceChildren(messageBox("layout must be an object with a type"));
    return;
  }
  if (layout.type === "View") {
    const leaf = el("div", { class: "sv-view", dataset: { viewId: layout.viewId } });
    parent.replaceChildren(leaf);
    env.mountLeaf(leaf, String(layout.viewId));
    return;
  }
  const fn = LAYOUTS[layout.type];
  if (!fn) { parent.replaceChildren(messageBox(`layout type ${layout.type} is not supported by this viewer`, "unsupported")); return; }
  const problem = checkLayout(layout);
  if (problem) { parent.replaceChildren(messageBox(`${layout.type} layout: ${problem}`, "data-error")); return; }
  parent.replaceChildren(fn(layout, env));
}

function checkLayout(layout) {
  if (!Array.isArray(layout.items)) return "items must be a list";
  const props = layout.itemProperties;
  if (props !== undefined && (!Array.isArray(props) || props.length !== layout.items.length)) {
    return "itemProperties must be a list with one entry per item";
  }
  if (layout.type === "Splitter" && layout.items.length !== 2) return "a Splitter has exactly two items";
  for (const [i, p] of (props || []).entries()) {
    for (const k of ["minSize", "maxSize", "stretch", "controlHeight"]) {
      if (p && p[k] !== undefined && !(typeof p[k] === "number" && Number.isFinite(p[k]) && p[k] >= 0)) {
        return `itemProperties[${i}].${k} must be a number >= 0`;
      }
    }
  }
  return null;
}

function itemBox(item, env, title) {
  const box = el("div", { class: "sv-item" });
  renderLayout(box, item, env);
  if (!title) return box;
  return el("div", { class: "sv-titled" }, el("div", { class: "sv-title" }, title), box);
}

function renderBox(layout, env) {
  const horizontal = layout.direction !== "vertical";
  const dim = horizontal ? "width" : "height";
  const box = el("div", { class: `sv-box ${horizontal ? "sv-row" : "sv-col"}${layout.scrollbar ? " sv-scroll" : ""}` });
  layout.items.forEach((item, i) => {
    const p = (layout.itemProperties || [])[i] || {};
    const child = itemBox(item, env, layout.showTitles ? p.title || "" : null);
    const stretch = p.stretch ?? (p.maxSize !== undefined && p.minSize === p.maxSize ? 0 : 1);
    child.style.flex = `${stretch} ${layout.scrollbar ? 0 : 1} ${stretch ? "0px" : `${p.maxSize ?? p.minSize ?? 0}px`}`;
    if (p.minSize !== undefined) child.style[`min-${dim}`] = `${p.minSize}px`;
    if (p.maxSize !== undefined) child.style[`max-${dim}`] = `${p.maxSize}px`;
    box.appendChild(child);
  });
  return box;
}

function renderSplitter(layout, env) {
  const horizontal = layout.direction !== "vertical";
  const dim = horizontal ? "width" : "height";
  const props = layout.itemProperties || [{}, {}];
  const first = itemBox(layout.items[0], env, null);
  const second = itemBox(layout.items[1], env, null);
  const handle = el("div", { class: "sv-handle", title: "drag to resize" });
  const wrap = el("div", { class: `sv-box sv-splitter ${horizontal ? "sv-row" : "sv-col"}` }, first, handle, second);
  const clamp = (px) => Math.min(props[0].maxSize ?? Infinity, Math.max(props[0].minSize ?? 40, px));
  first.style.flex = "0 0 auto";
  first.style[dim] = "40%";
  second.style.flex = "1 1 0px";
  if (props[1].minSize !== undefined) second.style[`min-${dim}`] = `${props[1].minSize}px`;
  handle.addEventListener("pointerdown", (ev) => {
    handle.setPointerCapture(ev.pointerId);
    const origin = wrap.getBoundingClientRect();
    const move = (e) => {
      const px = horizontal ? e.clientX - origin.left : e.clientY - origin.top;
      first.style[dim] = `${clamp(px)}px`;
    };
    handle.addEventListener("pointermove", move);
    handle.addEventListener("pointerup", () => handle.removeEventListener("pointermove", move), { once: true });
  });
  return wrap;
}

// tabs over panes: every pane is built at once and hidden; a view draws when its pane is first shown
function tabArea(entries, vertical) {
  const bar = el("div", { class: `sv-tabbar${vertical ? " vertical" : ""}`, role: "tablist" });
  const panes = el("div", { class: "sv-panes" });
  const show = (i) => {
    [...bar.children].forEach((b, j) => b.classList.toggle("active", i === j));
    [...panes.children].forEach((p, j) => { p.hidden = i !== j; });
  };
  entries.forEach(({ label, pane }, i) => {
    bar.appendChild(el("button", { class: "sv-tab", role: "tab", onclick: () => show(i) }, label));
    panes.appendChild(pane);
  });
  show(0);
  return el("div", { class: `sv-tabs${vertical ? " vertical" : ""}` }, bar, panes);
}

function renderTabs(layout, env) {
  const entries = layout.items.map((item, i) => ({
    label: ((layout.itemProperties || [])[i] || {}).label || `tab ${i + 1}`,
    pane: itemBox(item, env, null),
  }));
  return tabArea(entries, layout.tabBarLayout === "vertical");
}

// MountainView: the control views (SortingCuration2, SortingSelection, ...) in a panel on the left, the other
// views in tabs on the right
function renderMountain(layout, env) {
  const props = layout.itemProperties || [];
  const controls = el("div", { class: "sv-controls" });
  const entries = [];
  layout.items.forEach((item, i) => {
    const p = props[i] || {};
    const isControl = p.isControl || (item.type === "View" && env.isControl(String(item.viewId)));
    if (isControl) {
      const box = itemBox(item, env, null);
      if (p.controlHeight) box.style.height = `${p.controlHeight}px`;
      controls.appendChild(el("section", { class: "sv-control" }, el("h4", {}, p.label || ""), box));
    } else {
      entries.push({ label: p.label || `view ${i + 1}`, pane: itemBox(item, env, null) });
    }
  });
  const right = entries.length ? tabArea(entries, false) : el("div", { class: "placeholder" }, "no views");
  // without control views the tabs take the whole width (no empty panel on the left)
  const parts = controls.children.length ? [controls] : [];
  return el("div", { class: "sv-box sv-row sv-mountain" }, ...parts, el("div", { class: "sv-item" }, right));
}
