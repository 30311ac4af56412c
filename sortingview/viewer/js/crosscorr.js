// The workspace viewer's cross-correlograms: one cross_correlograms task for the selected units (merge groups as
// one unit with apply merges), drawn by the CrossCorrelograms view module.
import { unpackCrossCorrelograms } from "./packed.js";
import { errorBox, note } from "./plot.js";
import { mergesChanged, onResize, reportError, requestTask, viewUnits } from "./ondemand.js";
import { displayedOrder } from "./selection.js";
import { NO_UNITS, hasNoUnits, state, subscribe } from "./store.js";
import { renderView } from "./viewhost.js";
import { MAX_UNITS } from "./views/CrossCorrelograms.js";

export const MAX_CCG_UNITS = MAX_UNITS;
let root;

export function mountCrossCorrelograms(el) {
  root = el;
  subscribe((keys) => {
    if (state.view !== "crosscorrelograms") return;
    if (mergesChanged(keys) || ["view", "selection", "sort", "order", "ondemand", "unitIds", "figure"].some((k) => keys.has(k))) render();
  });
  onResize(el, () => { if (state.view === "crosscorrelograms") render(); });
}

function render() {
  if (!state.figure) { root.replaceChildren(note("Loading…", "placeholder")); return; }
  if (hasNoUnits()) { root.replaceChildren(note(NO_UNITS, "placeholder")); delete root.dataset.drawn; return; }
  const all = viewUnits(displayedOrder());
  if (all.length < 1) {
    root.replaceChildren(note("Select units in the table (ctrl-click or shift-click for several) to see their "
      + "cross-correlograms.", "placeholder"));
    delete root.dataset.drawn;
    return;
  }
  const units = all.slice(0, MAX_CCG_UNITS);
  const entry = requestTask("sortingview.cross_correlograms.2",
    { sorting: state.figure.sortingUri, unitIds: units.map((u) => u.taskId) }, "cross-correlograms");
  reportError("crossCorrelograms", entry);
  if (entry.status === "error") { root.replaceChildren(errorBox(entry.error)); return; }
  if (entry.status === "pending") { root.replaceChildren(note("Computing cross-correlograms…", "placeholder")); return; }
  // the task names units by their task ids (a merge group is a list): the view names them by their keys ("3+7")
  const keyOf = new Map(units.map((u) => [JSON.stringify(u.taskId), u.key]));
  const edges = entry.result.binEdgesSec;
  const crossCorrelograms = unpackCrossCorrelograms(entry.result).map((c) => ({
    unitId1: keyOf.get(JSON.stringify(c.unitId1)), unitId2: keyOf.get(JSON.stringify(c.unitId2)),
    binEdgesSec: edges, binCounts: c.binCounts }));
  renderView(root, "CrossCorrelograms", { type: "CrossCorrelograms", crossCorrelograms, unitIds: all.map((u) => u.key) },
    { width: root.clientWidth });
}
