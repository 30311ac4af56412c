// The curation panel: labels, merges, close/reopen and the history; writes only for authorized users.
import { getJson, postJson } from "./api.js";
import { escapeHtml } from "./table.js";
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

function describe(a) {
  const t = a.type || "?";
  if (t === "ADD_UNIT_LABEL") return `+ <b>${escapeHtml(a.label)}</b> on unit ${escapeHtml(a.unitId)}`;
  if (t === "REMOVE_UNIT_LABEL") return `− <b>${escapeHtml(a.label)}</b> from unit ${escapeHtml(a.unitId)}`;
  if (t === "MERGE_UNITS") return `merge units ${escapeHtml((a.unitIds || []).join(", "))}`;
  if (t === "UNMERGE_UNITS") return `unmerge units ${escapeHtml((a.unitIds || []).join(", "))}`;
  if (t === "CLOSE_CURATION") return "closed the curation";
  if (t === "REOPEN_CURATION") return "reopened the curation";
  return escapeHtml(t);
}

function render() {
  if (!root) return;
  const c = state.curation;
  if (!c) {
    root.innerHTML = `<h3>Curation</h3><div class="placeholder">${state.curationError ? `<span class="error">${escapeHtml(state.curationError)}</span>` : "Loading curation…"}</div>`;
    return;
  }
  const closed = c.curation && c.curation.isClosed;
  const can = c.canCurate && !state.busy;
  const sel = [...state.selection];
  const enabled = can && !closed && sel.length > 0;
  const who = c.userId
    ? (c.canCurate ? `Curating as <b>${escapeHtml(c.userId)}</b>` : `Signed in as <b>${escapeHtml(c.userId)}</b>, who is not authorized to curate this sorting: read-only.`)
    : "Read-only: sign in as an authorized user to curate.";
  const labels = labelChoices().map((l, i) => {
    const n = sel.filter((k) => labelsOf(k).includes(l)).length;
    const cls = n && n === sel.length ? "on" : n ? "some" : "";
    return `<button class="label-btn ${cls}" data-label="${escapeHtml(l)}" ${enabled ? "" : "disabled"} title="toggle '${escapeHtml(l)}' on the selected units (key ${i + 1})">${i < 9 ? `<kbd>${i + 1}</kbd>` : ""}${escapeHtml(l)}</button>`;
  }).join("");
  const groups = ((c.curation && c.curation.mergeGroups) || []).map((g) => g.map(unitKey));
  const inGroup = sel.some((k) => groups.some((g) => g.includes(k)));
  const history = [...(c.history || [])].reverse().map((h) => `<li><span class="h-num">#${h.messageNumber}</span> <span class="h-user">${escapeHtml(h.userId || "script")}</span> <span class="h-time">${new Date(h.timestamp).toLocaleString()}</span><div>${describe(h.action)}</div></li>`).join("");
  // the panel is redrawn whenever the curation changes (also by others): keep what is being typed
  const typing = root.querySelector("#custom-label");
  const typed = typing ? { value: typing.value, focused: document.activeElement === typing } : null;
  root.innerHTML = `
    <h3>Curation ${closed ? '<span class="closed-tag">closed</span>' : ""}</h3>
    <div class="who ${c.canCurate ? "can" : "readonly"}">${who}</div>
    <div class="selection-summary">${sel.length ? `${sel.length} unit${sel.length > 1 ? "s" : ""} selected: ${escapeHtml(sel.slice(0, 12).join(", "))}${sel.length > 12 ? "…" : ""}` : "Select units in the table to label or merge them."}</div>
    <div class="label-buttons">${labels}</div>
    <form class="custom-label"><input id="custom-label" placeholder="custom label" ${enabled ? "" : "disabled"} maxlength="64"><button type="submit" ${enabled ? "" : "disabled"}>Add</button></form>
    <div class="merge-buttons">
      <button id="merge" ${enabled && sel.length > 1 ? "" : "disabled"} title="merge the selected units (key m)">Merge selected</button>
      <button id="unmerge" ${enabled && inGroup ? "" : "disabled"} title="unmerge the selected units (key u)">Unmerge</button>
      ${closed ? `<button id="reopen-curation" ${can ? "" : "disabled"}>Reopen curation</button>` : `<button id="close-curation" ${can ? "" : "disabled"}>Close curation</button>`}
    </div>
    ${state.curationError ? `<div class="error">${escapeHtml(state.curationError)}</div>` : ""}
    <h4>History</h4>
    <ol class="history">${history || '<li class="empty">No curation yet.</li>'}</ol>`;
  const input = root.querySelector("#custom-label");
  if (typed && input) {
    input.value = typed.value;
    if (typed.focused && !input.disabled) input.focus();
  }
}
