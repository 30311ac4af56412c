// SortingCuration2 (and SortingCuration): label the selected units (label choices from the data), merge and
// unmerge them, save the curation. Changes go through ctx.curate; the page decides where they are written.
import { el, labelsOf, selectedInOrder } from "./common.js";

export const type = "SortingCuration2";
export const uses = ["selection", "curation", "order", "userId"];
export const control = true;
export const STANDARD_LABELS = ["accept", "reject", "noise", "artifact", "mua"];

export function check(data) {
  if (data.labelChoices !== undefined && !(Array.isArray(data.labelChoices) && data.labelChoices.every((l) => typeof l === "string" && l))) {
    return "labelChoices must be a list of non-empty strings";
  }
  return null;
}

// the label choices: the data's (else the standard five), the curation feed's, then any label already in use
export function labelChoicesOf(data, state) {
  const out = [...(data.labelChoices || STANDARD_LABELS)];
  const c = state.curation;
  for (const l of (c && c.labelChoices) || []) if (!out.includes(l)) out.push(l);
  for (const ls of Object.values((c && c.curation && c.curation.labelsByUnit) || {})) for (const l of ls) if (!out.includes(l)) out.push(l);
  return out;
}

function unitIdOf(state, key) { return state.unitIds.find((u) => String(u) === key) ?? key; }

// a label on all the selected units, or off all of them when every one has it (the checkbox of the original)
export function toggleLabelOnSelection(label, state, curate) {
  const keys = [...state.selection];
  if (!keys.length) return;
  const all = keys.every((k) => labelsOf(state, k).includes(label));
  curate([{ type: all ? "REMOVE_UNIT_LABEL" : "ADD_UNIT_LABEL", unitId: keys.map((k) => unitIdOf(state, k)), label }]);
}

export function render(root, data, ctx) {
  const s = ctx.state;
  const c = s.curation;
  if (!c) { root.replaceChildren(el("div", { class: "placeholder" }, "Loading the curation…")); return; }
  const sel = selectedInOrder(ctx);
  const closed = c.curation && c.curation.isClosed;
  const enabled = c.canCurate && !closed && sel.length > 0 && !c.saving;
  const labels = labelChoicesOf(data, s).map((l, i) => {
    const n = sel.filter((k) => labelsOf(s, k).includes(l)).length;
    const box = el("input", { type: "checkbox", disabled: !enabled, dataset: { label: l } });
    box.checked = n > 0 && n === sel.length;
    box.indeterminate = n > 0 && n < sel.length;
    box.addEventListener("change", () => toggleLabelOnSelection(l, s, ctx.curate));
    return el("label", { class: "label-row", title: i < 10 ? `shift+${(i + 1) % 10}` : null }, box, l,
      i < 10 ? el("kbd", {}, `⇧${(i + 1) % 10}`) : null);
  });
  const groups = ((c.curation && c.curation.mergeGroups) || []).map((g) => g.map(String));
  const inGroup = sel.some((k) => groups.some((g) => g.includes(k)));
  const ids = sel.map((k) => unitIdOf(s, k));
  const merge = el("button", { class: "merge", disabled: !(enabled && sel.length > 1),
    onclick: () => { ctx.curate([{ type: "MERGE_UNITS", unitIds: ids }]); ctx.select([], null); } }, "Merge selected units");
  const unmerge = el("button", { class: "unmerge", disabled: !(enabled && inGroup),
    onclick: () => { ctx.curate([{ type: "UNMERGE_UNITS", unitIds: ids }]); ctx.select([], null); } }, "Unmerge selected units");
  root.replaceChildren(el("div", { class: "curation-view" },
    el("div", { class: "selection-summary" }, sel.length ? `${sel.length} selected: ${sel.slice(0, 12).join(", ")}${sel.length > 12 ? "…" : ""}`
      : "Select units to label or merge them."),
    el("div", { class: "labels" }, labels),
    el("div", { class: "section" }, merge, unmerge),
    saveSection(c, ctx)));
}

function saveSection(c, ctx) {
  const where = c.kind === "feed" ? `curation feed ${c.uri}` : c.uri ? c.uri : "not saved yet";
  let who = c.userId ? `signed in as ${c.userId}` : "sign in to save";
  if (c.kind === "feed" && c.canWriteFeed) who = `curating as ${c.userId}: Save writes to the feed`;
  else if (c.kind === "feed" && c.userId) who = `${c.userId} may not write to this feed: Save stores a copy as a new sha1:// JSON`;
  else if (c.kind === "feed") who = "sign in to save (to the feed if it authorizes you, else as a new sha1:// JSON)";
  const save = el("button", { class: "save", disabled: !(c.dirty && c.canSave && !c.saving), onclick: () => ctx.saveCuration() },
    c.saving ? "Saving…" : "Save");
  return el("div", { class: "save-section" },
    el("div", { class: "section" }, save, el("span", { class: `status${c.dirty ? " dirty" : ""}` }, c.dirty ? "unsaved changes" : c.uri ? "saved" : "no changes")),
    el("div", { class: "status who" }, who),
    el("div", { class: "status uri", title: "state.sortingCuration of this link" }, where),
    c.error ? el("div", { class: "error" }, c.error) : null);
}
