// The viewer's state in one object; views subscribe and redraw what changed.
export const state = {
  figureUri: null,
  figure: null,            // figure data from the store
  channel: null,           // &channel= of the figURL
  backendId: null,         // null: the server's default; "" : explicitly none
  token: null,             // sign-in token (localStorage)
  userId: null,
  unitIds: [],             // original ids (numbers or strings), sorting order of the sorting
  unitsLoaded: false,      // true once unitIds holds the sorting's units (an empty list then means no units)
  metrics: [],             // [{name, label, tooltip, data: {unitKey: value}}]
  peakChannels: {},        // unitKey -> channel id
  acg: null,               // {binEdgesSec, byUnit: {unitKey: counts}}
  mergedAcg: {},           // "3+7" (member keys joined) -> counts of the merged unit
  waveforms: null,         // {unitKey: {peakChannelId, channelIds, waveform, waveformStdDev}}
  recordingInfo: null,
  curation: null,          // {curation, history, labelChoices, authorizedUsers, canCurate}
  selection: new Set(),    // unit keys
  order: [],               // unit keys in the units table's displayed order (selection.js)
  visibleUnits: null,      // a Set of unit keys every view is restricted to (SortingSelection), or null
  timeRange: null,         // [startSec, endSec] shared by time-based views of a views figure
  anchor: null,            // unit key where a shift-click range starts
  sort: { column: null, ascending: true },
  view: "autocorrelograms",
  acgMode: "all",          // "all" | "selected"
  overlay: false,          // waveforms of the selected units in one panel
  tracesWindow: null,      // [startSec, endSec] of the traces view
  applyMerges: false,      // the views of the selection draw each merge group as one unit
  ondemand: 0,             // bumped when a task of an on-demand view settles (ondemand.js)
  pending: new Map(),
  errors: {},              // view name -> {message, traceback}
  backend: null,           // last backend status
};

const listeners = [];

export function subscribe(fn) { listeners.push(fn); }

export function update(patch) {
  Object.assign(state, patch);
  const keys = new Set(Object.keys(patch));
  for (const fn of listeners) fn(keys);
}

export const unitKey = (id) => String(id);

// a sorting without units: every view says so instead of waiting or asking for a selection
export const NO_UNITS = "This sorting has no units.";
export const hasNoUnits = () => state.unitsLoaded && !state.unitIds.length;

export function unitIdOf(key) {
  return state.unitIds.find((u) => unitKey(u) === key) ?? key;
}

export function setError(view, err) {
  const errors = { ...state.errors };
  if (err) errors[view] = { message: err.message || String(err), traceback: err.traceback || null };
  else delete errors[view];
  update({ errors });
}

// --- shareable view state: &s=<json> holds selected units and the open view
export function readUrlState(params) {
  const raw = params.get("s");
  if (!raw) return {};
  try {
    const s = JSON.parse(raw);
    return typeof s === "object" && s !== null ? s : {};
  } catch (e) {
    console.warn("ignoring malformed s= state", e);
    return {};
  }
}

// a page may say what its &s= holds (the views figure keeps the original's keys); default: the workspace viewer's
let urlStateWriter = null;
export function setUrlStateWriter(fn) { urlStateWriter = fn; }

export function writeUrlState() {
  const url = new URL(window.location.href);
  if (urlStateWriter) {
    url.searchParams.set("s", JSON.stringify(urlStateWriter()));
    window.history.replaceState(null, "", url);
    return;
  }
  const s = { units: [...state.selection].map(unitIdOf), view: state.view, acg: state.acgMode };
  if (state.applyMerges) s.merges = true;
  if (state.tracesWindow) s.t = state.tracesWindow.map((v) => Math.round(v * 1e4) / 1e4);
  if (state.sort.column) s.sort = [state.sort.column, state.sort.ascending ? "asc" : "desc"];
  url.searchParams.set("s", JSON.stringify(s));
  window.history.replaceState(null, "", url);
}
