// The host of a registered view: checks the data, renders it with the shared ctx, redraws when a state key the
// view uses changes or its element is resized. The one place where view modules meet the page.
import { colorOf, colorsFor } from "./colors.js";
import { clickUnit, restrictTo, selectKeys, setOrder } from "./selection.js";
import { state, subscribe, update, writeUrlState } from "./store.js";
import { viewModule } from "./views/registry.js";
import { el } from "./views/common.js";

// page-level callbacks (curation writes differ between the workspace viewer and views figures)
const hostActions = { curate: () => {}, saveCuration: () => {} };

export function setHostActions(actions) { Object.assign(hostActions, actions); }

// the element's content box (clientWidth/Height include the padding)
function contentSize(elem) {
  const cs = getComputedStyle(elem);
  const px = (v) => parseFloat(v) || 0;
  return [elem.clientWidth - px(cs.paddingLeft) - px(cs.paddingRight), elem.clientHeight - px(cs.paddingTop) - px(cs.paddingBottom)];
}

export function makeCtx(elem, extra = {}) {
  const [width, height] = contentSize(elem);
  return {
    width,
    height,
    state,
    unitColor: colorOf,
    unitColors: colorsFor,
    clickUnit,
    select: selectKeys,
    setOrder,
    restrict: restrictTo,
    setSort: (sort) => { update({ sort }); writeUrlState(); },
    curate: (actions) => hostActions.curate(actions),
    saveCuration: () => hostActions.saveCuration(),
    setTimeRange: (r) => update({ timeRange: r }),
    ...extra,
  };
}

export function messageBox(text, cls = "view-message") {
  return el("div", { class: `task-error ${cls}` }, el("div", { class: "task-error-title" }, text));
}

// Mount a view of `type` in `elem`. `source` is {data} (a views figure) or {getData, dataKeys} (data built
// from the page's state, redrawn when one of dataKeys changes: the workspace viewer). `extra` goes into ctx.
export function mountView(elem, type, source, extra = {}) {
  const mod = viewModule(type);
  elem.dataset.viewType = type;
  if (!mod) {
    elem.replaceChildren(messageBox(`view type ${type} is not supported by this viewer`, "unsupported"));
    return { redraw() {} };
  }
  let data = source.data;
  let shown = false;
  let lastSize = "";
  const draw = (onlySelection) => {
    if (!isVisible(elem)) { shown = false; return; }  // drawn when it becomes visible (resize observer)
    if (source.getData) data = source.getData();
    if (data === null || data === undefined) return;  // the adapter drew a placeholder itself
    const problem = mod.check(data);
    if (problem) { elem.replaceChildren(messageBox(`${type} data: ${problem}`, "data-error")); return; }
    const ctx = makeCtx(elem, extra);
    if (onlySelection && shown && mod.paint) mod.paint(elem, data, ctx);
    else {
      mod.render(elem, data, ctx);
      performance.mark(`sv:drawn:${type}`);  // read by bench/bench_views_viewer.py
    }
    shown = true;
  };
  const uses = new Set([...(mod.uses || []), ...(source.dataKeys || [])]);
  // a click changes the selection and its anchor together: that is still "only the selection" (paint)
  const selectionOnly = (keys) => [...keys].every((k) => k === "selection" || k === "anchor")
    && !(source.dataKeys || []).includes("selection");
  subscribe((keys) => {
    if (![...keys].some((k) => uses.has(k))) return;
    draw(selectionOnly(keys));
  });
  new ResizeObserver(() => {
    const size = `${elem.clientWidth}x${elem.clientHeight}`;
    if (size === lastSize) return;
    lastSize = size;
    if (!shown || mod.resizes !== false) draw(false);
  }).observe(elem);
  draw(false);
  // the observer's first report is the size just drawn at: not a reason to draw again
  if (shown) lastSize = `${elem.clientWidth}x${elem.clientHeight}`;
  return { redraw: () => draw(false) };
}

function isVisible(elem) { return elem.isConnected && elem.getClientRects().length > 0; }

// Draw a view once into `elem` (check, then render; or paint when only the selection changed and the module
// can): for pages that manage their own redraws, like the workspace viewer's task-fed views. Returns false when
// the data failed its check (the message is drawn instead).
export function renderView(elem, type, data, { onlySelection = false, ...extra } = {}) {
  const mod = viewModule(type);
  if (!mod) { elem.replaceChildren(messageBox(`view type ${type} is not supported by this viewer`, "unsupported")); return false; }
  const problem = mod.check(data);
  if (problem) { elem.replaceChildren(messageBox(`${type} data: ${problem}`, "data-error")); return false; }
  const ctx = makeCtx(elem, extra);
  if (onlySelection && mod.paint) mod.paint(elem, data, ctx); else mod.render(elem, data, ctx);
  return true;
}
