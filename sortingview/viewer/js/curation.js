// The workspace viewer's curation panel: labels, merges, close/reopen and the history; writes only for
// authorized users. Everything from the feed is put into the page as text.
import { getJson, postJson } from "./api.js";
import { el } from "./views/common.js";
import { state, subscribe, unitIdOf, unitKey, update } from "./store.js";

let root;
let feedStart = 0;

export function mountCuration(el) {
  root = el;
  root.addEventListener("click", onClick);
  root.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const input = root.querySelector("#custom-label");
    const label = input.value.trim();
    if (label) { addCustomLabel(label); input.value = ""; }
  });
  subscribe((keys) => {
    if (["curation", "selection", "userId", "busy", "curationError"].some((k) => keys.has(k))) render();
  });
  render();
}

export async function loadCuration() {
  const f = state.figure;
  const q = new URLSearchParams({ workspace: f.workspaceUri, sortingId: f.sortingId });
  try {
    const c = await getJson(`/api/curation?${q}`);
    // the feed follower need not report what this answer already holds
    if (c.history && c.history.length) feedStart = Math.max(feedStart, c.history[c.history.length - 1].messageNumber + 1);
    update({ curation: c, curationError: null });
  } catch (e) {
    update({ curationError: e.message });
  }
}

// wait for new curation messages (from anyone) and reload; keeps several open viewers in step
export async function followCurationFeed() {
  const feed = state.figure.curationFeedUri;
  if (!feed) return;
  const id = feed.replace("feed://", "");
  for (;;) {
    try {
      const r = await getJson(`/api/feed/${id}?start=${feedStart}&wait=20`);
      if (r.records.length) {
        feedStart = r.records[r.records.length - 1].messageNumber + 1;
        await loadCuration();
      }
    } catch (e) {
      await new Promise((res) => setTimeout(res, 3000));
    }
  }
}

export async function applyActions(actions) {
  if (!state.curation || !state.curation.canCurate || !actions.length) return;
  update({ busy: true });
  try {
    for (const action of actions) {
      await postJson("/api/curation", { workspace: state.figure.workspaceUri, sortingId: state.figure.sortingId, action });
    }
    update({ curationError: null });
  } catch (e) {
    update({ curationError: e.message });
  } finally {
    update({ busy: false });
    await loadCuration();
  }
}

function labelsOf(key) {
  const c = state.curation && state.curation.curation;
  return (c && c.labelsByUnit && c.labelsByUnit[key]) || [];
}

export function toggleLabel(label) {
  const keys = [...state.selection];
  if (!keys.length) return;
  const allHave = keys.every((k) => labelsOf(k).includes(label));
  const type = allHave ? "REMOVE_UNIT_LABEL" : "ADD_UNIT_LABEL";
  const todo = keys.filter((k) => labelsOf(k).includes(label) === allHave);
  applyActions(todo.map((k) => ({ type, unitId: unitIdOf(k), label })));
}

// a custom label becomes one of the sorting's label choices (a button from then on), then goes on the units
async function addCustomLabel(label) {
  if (!state.curation || !state.curation.canCurate) return;
  if (!labelChoices().includes(label)) {
    try {
      await postJson("/api/label-choices", { workspace: state.figure.workspaceUri, sortingId: state.figure.sortingId, label });
    } catch (e) {
      update({ curationError: e.message });
      return;
    }
    await loadCuration();
  }
  toggleLabel(label);
}

export function mergeSelected() {
  if (state.selection.size < 2) return;
  applyActions([{ type: "MERGE_UNITS", unitIds: [...state.selection].map(unitIdOf) }]);
}

export function unmergeSelected() {
  if (!state.selection.size) return;
  applyActions([{ type: "UNMERGE_UNITS", unitIds: [...state.selection].map(unitIdOf) }]);
}

export function labelChoices() {
  const c = state.curation;
  const fromFig = state.figure && state.figure.labelChoices;
  return (c && c.labelChoices && c.labelChoices.length ? c.labelChoices : fromFig) || ["accept", "reject", "noise", "artifact", "mua"];
}

function onClick(ev) {
  const b = ev.target.closest("button");
  if (!b || b.disabled) return;
  if (b.dataset.label) toggleLabel(b.dataset.label);
  else if (b.id === "merge") mergeSelected();
  else if (b.id === "unmerge") unmergeSelected();
  else if (b.id === "close-curation") applyActions([{ type: "CLOSE_CURATION" }]);
  else if (b.id === "reopen-curation") applyActions([{ type: "REOPEN_CURATION" }]);
}

// one history entry as text: values from the feed (labels, unit ids) never become HTML
function describe(a) {
  const t = (a && a.type) || "?";
  const units = (x) => (Array.isArray(x) ? x : [x]).join(", ");
  if (t === "ADD_UNIT_LABEL") return ["+ ", el("b", {}, a.label), ` on unit ${units(a.unitId)}`];
  if (t === "REMOVE_UNIT_LABEL") return ["− ", el("b", {}, a.label), ` from unit ${units(a.unitId)}`];
  if (t === "MERGE_UNITS") return [`merge units ${units(a.unitIds || [])}`];
  if (t === "UNMERGE_UNITS") return [`unmerge units ${units(a.unitIds || [])}`];
  if (t === "CLOSE_CURATION") return ["closed the curation"];
  if (t === "REOPEN_CURATION") return ["reopened the curation"];
  return [String(t)];
}

function whoLine(c) {
  if (!c.userId) return ["Read-only: sign in as an authorized user to curate."];
  if (c.canCurate) return ["Curating as ", el("b", {}, c.userId)];
  return ["Signed in as ", el("b", {}, c.userId), ", who is not authorized to curate this sorting: read-only."];
}

function historyList(c) {
  const items = [...(c.history || [])].reverse().map((h) => el("li", {},
    el("span", { class: "h-num" }, `#${h.messageNumber}`), " ", el("span", { class: "h-user" }, h.userId || "script"), " ",
    el("span", { class: "h-time" }, new Date(h.timestamp).toLocaleString()), el("div", {}, describe(h.action))));
  return el("ol", { class: "history" }, items.length ? items : el("li", { class: "empty" }, "No curation yet."));
}

function render() {
  if (!root) return;
  const c = state.curation;
  if (!c) {
    root.replaceChildren(el("h3", {}, "Curation"), el("div", { class: "placeholder" },
      state.curationError ? el("span", { class: "error" }, state.curationError) : "Loading curation…"));
    return;
  }
  const closed = c.curation && c.curation.isClosed;
  const can = c.canCurate && !state.busy;
  const sel = [...state.selection];
  const enabled = can && !closed && sel.length > 0;
  const labels = labelChoices().map((l, i) => {
    const n = sel.filter((k) => labelsOf(k).includes(l)).length;
    const cls = n && n === sel.length ? "on" : n ? "some" : "";
    return el("button", { class: `label-btn ${cls}`.trim(), dataset: { label: l }, disabled: !enabled,
      title: `toggle '${l}' on the selected units (key ${i + 1})` }, i < 9 ? el("kbd", {}, String(i + 1)) : null, l);
  });
  const groups = ((c.curation && c.curation.mergeGroups) || []).map((g) => g.map(unitKey));
  const inGroup = sel.some((k) => groups.some((g) => g.includes(k)));
  // the panel is redrawn whenever the curation changes (also by others): keep what is being typed
  const typing = root.querySelector("#custom-label");
  const typed = typing ? { value: typing.value, focused: document.activeElement === typing } : null;
  const summary = sel.length ? `${sel.length} unit${sel.length > 1 ? "s" : ""} selected: ${sel.slice(0, 12).join(", ")}${sel.length > 12 ? "…" : ""}`
    : "Select units in the table to label or merge them.";
  root.replaceChildren(...[
    el("h3", {}, "Curation ", closed ? el("span", { class: "closed-tag" }, "closed") : null),
    el("div", { class: `who ${c.canCurate ? "can" : "readonly"}` }, whoLine(c)),
    el("div", { class: "selection-summary" }, summary),
    el("div", { class: "label-buttons" }, labels),
    el("form", { class: "custom-label" }, el("input", { id: "custom-label", placeholder: "custom label", disabled: !enabled, maxlength: "64" }),
      el("button", { type: "submit", disabled: !enabled }, "Add")),
    el("div", { class: "merge-buttons" },
      el("button", { id: "merge", disabled: !(enabled && sel.length > 1), title: "merge the selected units (key m)" }, "Merge selected"),
      el("button", { id: "unmerge", disabled: !(enabled && inGroup), title: "unmerge the selected units (key u)" }, "Unmerge"),
      closed ? el("button", { id: "reopen-curation", disabled: !can }, "Reopen curation")
        : el("button", { id: "close-curation", disabled: !can }, "Close curation")),
    state.curationError ? el("div", { class: "error" }, state.curationError) : null,
    el("h4", {}, "History"),
    historyList(c)].filter(Boolean));
  const input = root.querySelector("#custom-label");
  if (typed && input) {
    input.value = typed.value;
    if (typed.focused && !input.disabled) input.focus();
  }
}
