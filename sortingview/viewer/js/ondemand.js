// Tasks that the on-demand views (cross-correlograms, amplitudes, traces, features) start when they need them.
// Results are kept per task input, so going back to a selection or a time window is instant; a settled task
// announces itself with update({ ondemand }), which makes the views redraw.
import { runTask } from "./api.js";
export { colorOf, colorsFor } from "./colors.js";
import { setError, state, unitIdOf, update } from "./store.js";

// results kept in the page, least recently used dropped first: trace windows add up while panning (a window of
// 384 channels is about 1.5 MB); a dropped result comes back quickly from the server's task cache
const MAX_ENTRIES = 80;
const RETRY_MS = 30_000;
const cache = new Map();  // key -> {status: "pending"|"done"|"error", result, error}
let settled = 0;

function keyOf(taskName, input) {
  return `${taskName} ${JSON.stringify(input)} ${state.backendId ?? ""} ${state.channel ?? ""}`;
}

// The entry of this task (starting it on first request): {status, result, error}.
export function requestTask(taskName, input, label) {
  const key = keyOf(taskName, input);
  let entry = cache.get(key);
  if (entry && entry.status !== "error") {
    cache.delete(key);  // re-inserted last: the Map's order is the order of last use
    cache.set(key, entry);
    return entry;
  }
  // a failure is shown, not retried at every redraw; after RETRY_MS (or with another backend id) a redraw asks again
  if (entry && entry.failedWith === state.backendId && Date.now() - entry.failedAt < RETRY_MS) return entry;
  entry = { status: "pending", result: null, error: null };
  cache.set(key, entry);
  runTask(taskName, input, { label })
    .then((r) => { entry.status = "done"; entry.result = r; })
    .catch((e) => { entry.status = "error"; entry.error = e; entry.failedWith = state.backendId; entry.failedAt = Date.now(); })
    .finally(() => { settled++; prune(); update({ ondemand: settled }); });
  return entry;
}

// The entry of this task if it was requested before, else null (nothing is started)
export function peekTask(taskName, input) {
  return cache.get(keyOf(taskName, input)) || null;
}

function prune() {
  for (const [k, e] of cache) {
    if (cache.size <= MAX_ENTRIES) break;
    if (e.status !== "pending") cache.delete(k);
  }
}

// The selected units in the table's order
export function selectedInOrder(order) {
  const keys = order.length ? order : state.unitIds.map(String);
  return keys.filter((k) => state.selection.has(k));
}

// The status bar counts failed views: tell it, but only when that changes (an update redraws the table)
export function reportError(view, entry) {
  const err = entry && entry.status === "error" ? entry.error : null;
  const had = state.errors[view];
  if ((had ? had.message : null) === (err ? err.message : null)) return;
  setError(view, err);
}

// Call fn when el's width or height changes by more than 20 px (the splitter, the window), at most every
// 150 ms; a hidden view (size 0) is left alone. Smaller changes are ignored so that a scrollbar coming and
// going with a redraw cannot make the views redraw in a loop.
export function onResize(el, fn) {
  let last = [el.clientWidth, el.clientHeight];
  let timer = null;
  new ResizeObserver(() => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const now = [el.clientWidth, el.clientHeight];
      if (!now[0] || (Math.abs(now[0] - last[0]) < 20 && Math.abs(now[1] - last[1]) < 20)) return;
      last = now;
      fn();
    }, 150);
  }).observe(el);
}

// The unit of snippet values: microvolts, or the recording's raw units when it has no gains
export function valueUnit() {
  const info = state.recordingInfo;
  return info && info.channelGainsToUv === null ? "raw" : "µV";
}

// The units a view of the selection draws: {key, taskId} in the table's order. With "apply merges" on, the
// members of a merge group of the curation become one unit, key "3+7", whose task id is the list of member
// ids (the tasks take a list as one unit: the union of the members' spikes).
export function viewUnits(order) {
  const keys = selectedInOrder(order);
  if (!state.applyMerges) return keys.map((k) => ({ key: k, taskId: unitIdOf(k) }));
  const c = state.curation && state.curation.curation;
  const groups = ((c && c.mergeGroups) || []).map((g) => g.map(String));
  const out = [];
  const seen = new Set();
  for (const k of keys) {
    const g = groups.find((members) => members.includes(k));
    const key = g ? g.join("+") : k;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ key, taskId: g ? g.map(unitIdOf) : unitIdOf(k) });
  }
  return out;
}

// whether an update changes what viewUnits returns beyond the selection (the merges, or applying them)
export function mergesChanged(keys) {
  return keys.has("applyMerges") || (state.applyMerges && keys.has("curation"));
}
