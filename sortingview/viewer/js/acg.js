// The workspace viewer's autocorrelograms: the Autocorrelograms view module fed with the autocorrelograms task
// (all units, or only the selected ones) and the merged units' correlograms of the curation.
import { errorBox } from "./plot.js";
import { displayedOrder } from "./selection.js";
import { NO_UNITS, hasNoUnits, state, subscribe, unitKey } from "./store.js";
import { renderView } from "./viewhost.js";

let root;
let body;
let data = null;

export function mountAcg(el) {
  root = el;
  let lastError = "";
  subscribe((keys) => {
    // redrawing hundreds of canvases is the costly part: only when what they show changed
    const errs = `${JSON.stringify(state.errors.autocorrelograms)}${JSON.stringify(state.errors.mergedAutocorrelograms)}`;
    const errorChanged = keys.has("errors") && errs !== lastError;
    lastError = errs;
    if (errorChanged || ["acg", "acgMode", "unitIds", "mergedAcg", "order"].some((k) => keys.has(k))) render();
    else if (keys.has("selection")) {
      if (state.acgMode === "selected") render();
      else if (data && body) renderView(body, "Autocorrelograms", data, { onlySelection: true });
    }
  });
  render();
}

function visibleKeys() {
  const keys = displayedOrder();
  return state.acgMode === "selected" ? keys.filter((k) => state.selection.has(k)) : keys;
}

function placeholder(text) {
  root.replaceChildren(Object.assign(document.createElement("div"), { className: "placeholder", textContent: text }));
  data = null;
  delete root.dataset.drawn;
}

function render() {
  if (hasNoUnits()) { placeholder(NO_UNITS); return; }
  const err = state.errors.autocorrelograms;
  if (err) { root.replaceChildren(errorBox(err)); data = null; return; }
  if (!state.acg) { placeholder("Computing autocorrelograms…"); return; }
  const keys = visibleKeys().filter((k) => state.acg.byUnit[k]);
  if (!keys.length) { placeholder("Select units in the table to show their autocorrelograms."); return; }
  const edges = state.acg.binEdgesSec;
  data = {
    type: "Autocorrelograms",
    autocorrelograms: keys.map((k) => ({ unitId: k, binEdgesSec: edges, binCounts: state.acg.byUnit[k] })),
    mergedAutocorrelograms: Object.entries(state.mergedAcg || {}).map(([group, counts]) => ({
      unitIds: group.split("+"), binEdgesSec: edges, binCounts: counts })),
  };
  body = document.createElement("div");
  // a failed merged-unit correlogram is reported above the plots that did work
  const boxes = state.errors.mergedAutocorrelograms ? [errorBox(state.errors.mergedAutocorrelograms)] : [];
  root.replaceChildren(...boxes, body);
  renderView(body, "Autocorrelograms", data, { state: { ...state, order: keys.map(unitKey) } });
  root.dataset.drawn = body.dataset.drawn;
  document.dispatchEvent(new CustomEvent("sv:acg-drawn", { detail: { count: Number(body.dataset.drawn) } }));
}
