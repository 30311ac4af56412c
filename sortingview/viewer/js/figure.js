// Entry point of a views figure (/f?v=sortingview-views-1&d=sha1://<root>): load the MainLayout root and each
// view's data, render the layout with the registered views, share selection and curation between them.
import { decodeValue } from "./api.js";
import { figureData } from "./figdata.js";
import { renderLayout } from "./layout.js";
import { checkToken, wireSignIn } from "./signin.js";
import { displayedOrder, moveSelection, restrictTo, selectKeys } from "./selection.js";
import { readUrlState, setUrlStateWriter, state, subscribe, unitKey, update, writeUrlState } from "./store.js";
import { curateLocally, loadViewsCuration, saveViewsCuration } from "./viewcuration.js";
import { messageBox, mountView, setHostActions } from "./viewhost.js";
import { el, isUnitId } from "./views/common.js";
import { viewModule } from "./views/registry.js";
import { labelChoicesOf, toggleLabelOnSelection } from "./views/SortingCuration2.js";

const $ = (sel) => document.querySelector(sel);
function checkRoot(root) {
  if (!root || root.type !== "MainLayout") return "the figure root must be {type: \"MainLayout\", layout, views}";
  if (!root.layout || typeof root.layout !== "object") return "the figure root lacks its layout";
  if (!Array.isArray(root.views) || !root.views.every((v) => v && typeof v.viewId === "string" && typeof v.type === "string")) {
    return "views must be a list of {type, viewId, dataUri}";
  }
  return null;
}

async function start() {
  const params = new URLSearchParams(window.location.search);
  const s = readUrlState(params);
  const label = params.get("label") || "sortingview";
  document.title = label;
  $("#fig-title").textContent = label;
  setUrlStateWriter(() => urlState(s));
  const t = s.timeRange;
  const timeRange = Array.isArray(t) && t.length === 2 && t.every(Number.isFinite) && t[0] < t[1] ? t : null;
  update({ token: localStorage.getItem("sortingview.token"), timeRange,
    selection: new Set((s.selectedUnitIds || s.units || []).map(unitKey)) });
  subscribe((keys) => { if (keys.has("timeRange")) writeUrlState(); });
  wireHeader();
  const loaded = await figureData;  // fetched by figdata.js while the modules loaded
  const problem = loaded.error ? loaded.error.message : checkRoot(loaded.root);
  if (problem) {
    $("#figure").replaceChildren(messageBox(`Cannot load this figure: ${problem}`));
    return;
  }
  const root = loaded.root;
  const views = new Map(root.views.map((v) => [v.viewId, v]));
  const data = new Map(await Promise.all([...views.keys()].map(async (id) => [id, await loaded.views.get(id)])));
  performance.mark("sv:data-loaded");
  update({ unitIds: figureUnits(views, data) });
  update({ order: state.unitIds.map(unitKey) });
  if (Array.isArray(s.visibleUnitIds)) restrictTo(s.visibleUnitIds.map(unitKey));
  if (state.token) await checkToken();
  setHostActions({ curate: curateLocally, saveCuration: saveViewsCuration });
  // a figure has a curation when it has a curation view or its link names one (the table then shows labels)
  const curated = root.views.some((v) => viewModule(v.type) && viewModule(v.type).control && v.type !== "SortingSelection");
  if (curated || s.sortingCuration) await loadViewsCuration(s.sortingCuration);
  renderLayout($("#figure"), root.layout, {
    mountLeaf: (elem, viewId) => mountLeaf(elem, views.get(viewId), data.get(viewId), viewId),
    isControl: (viewId) => { const v = views.get(viewId); const m = v && viewModule(v.type); return !!(m && m.control); },
  });
  installKeys(data);
  performance.mark("sv:figure-drawn");
}

// a view is mounted when its element is first shown (a tab opened): decoding the arrays of views nobody
// looks at yet would delay the first one
function mountLeaf(elem, view, loaded, viewId) {
  if (!view) { elem.replaceChildren(messageBox(`the layout names view ${viewId}, which is not in the figure's views`)); return; }
  if (!loaded || loaded.error) { elem.replaceChildren(messageBox(`Cannot load the data of view ${viewId} (${view.type}): ${loaded ? loaded.error : "missing"}`)); return; }
  elem.dataset.viewType = view.type;
  const observer = new ResizeObserver(async () => {
    if (!elem.getClientRects().length) return;
    observer.disconnect();
    try {
      mountView(elem, view.type, { data: await decodeValue(loaded.data) }, { viewId });
    } catch (e) {
      elem.replaceChildren(messageBox(`Cannot decode the data of view ${viewId} (${view.type}): ${e.message}`));
    }
  });
  observer.observe(elem);
}

// the figure's units: the union of the units of its views, in numeric order where they are numbers
function figureUnits(views, data) {
  const seen = new Map();
  for (const [id, v] of views) {
    const m = viewModule(v.type);
    const d = data.get(id);
    if (!m || !m.unitIds || !d || !d.data) continue;
    let ids = [];
    try { ids = m.unitIds(d.data); } catch (e) { continue; }  // malformed: its view says so when shown
    for (const u of Array.isArray(ids) ? ids : []) if (isUnitId(u) && !seen.has(unitKey(u))) seen.set(unitKey(u), u);
  }
  return [...seen.values()].sort((a, b) => String(a).localeCompare(String(b), undefined, { numeric: true }));
}

// the link's state: the original keys (sortingCuration, selectedUnitIds) plus whatever else it carried
function urlState(initial) {
  const s = { ...initial };
  if (state.curation && state.curation.kind !== "local" && state.curation.uri) s.sortingCuration = state.curation.uri;
  const sel = [...state.selection];
  if (sel.length) s.selectedUnitIds = sel.map((k) => state.unitIds.find((u) => unitKey(u) === k) ?? k); else delete s.selectedUnitIds;
  delete s.units;
  if (state.visibleUnits) s.visibleUnitIds = [...state.visibleUnits].map((k) => state.unitIds.find((u) => unitKey(u) === k) ?? k);
  else delete s.visibleUnitIds;
  if (state.timeRange) s.timeRange = state.timeRange.map((v) => Math.round(v * 1e4) / 1e4);
  return s;
}

function installKeys(data) {
  const sc2 = [...data.values()].find((d) => d.data && d.data.type === "SortingCuration2");
  document.addEventListener("keydown", (ev) => {
    if (ev.target.closest("input, textarea, dialog, select")) return;
    const k = ev.key;
    const digit = /^Digit([0-9])$/.exec(ev.code || "");
    if (ev.shiftKey && digit && state.curation) {
      // shift+1 ... shift+0: toggle label choice 1 ... 10 on the selected units (as the original)
      const label = labelChoicesOf(sc2 ? sc2.data : {}, state)[(Number(digit[1]) + 9) % 10];
      if (label) toggleLabelOnSelection(label, state, curateLocally);
    } else if (k === "ArrowDown" || k === "j") moveSelection(1, ev.shiftKey && k === "j");
    else if (k === "ArrowUp" || k === "k") moveSelection(-1, ev.shiftKey && k === "k");
    else if ((ev.ctrlKey || ev.metaKey) && k === "a") selectKeys(displayedOrder(), null);
    else if (k === "Escape") selectKeys([], null);
    else if (k === "?") $("#help-dialog").showModal();
    else return;
    ev.preventDefault();
  });
  const keys = [["↓ / ↑", "next / previous unit"], ["ctrl+a", "select all units"], ["Esc", "clear the selection"],
    ["shift+1 … shift+0", "toggle label choice 1 … 10 on the selected units"], ["click", "select a unit"],
    ["shift+click", "select a range of units"], ["ctrl+click", "add or remove a unit"]];
  $("#help-list").replaceChildren(...keys.map(([a, b]) => el("tr", {}, el("td", {}, el("kbd", {}, a)), el("td", {}, b))));
}

function wireHeader() {
  $("#help-btn").addEventListener("click", () => $("#help-dialog").showModal());
  $("#help-close").addEventListener("click", () => $("#help-dialog").close());
  wireSignIn({
    afterSignIn: refreshCurationRights,
    afterSignOut: () => loadViewsCuration(state.curation && state.curation.kind !== "local" ? state.curation.uri : null),
  });
}

// after signing in: who may save; local changes are kept
async function refreshCurationRights() {
  const c = state.curation;
  if (!c) return;
  if (c.kind === "feed") {
    const { pending, curation } = c;
    await loadViewsCuration(c.uri);
    if (pending.length) update({ curation: { ...state.curation, pending, curation, dirty: true } });
  } else {
    update({ curation: { ...c, canSave: !!state.userId } });
  }
}

start();
