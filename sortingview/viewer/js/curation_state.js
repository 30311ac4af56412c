// The curation reducer in JavaScript, mirroring sortingview/workspace/curation.py (apply_action): the state
// {labelsByUnit, mergeGroups, isClosed} after one action of the original vocabulary. Pure; no I/O.

export function emptyCuration() { return { labelsByUnit: {}, mergeGroups: [], isClosed: false }; }

function sortKey(u) {
  const t = String(u);
  return typeof u === "number" || /^\d+$/.test(t) ? [0, Number(t), ""] : [1, 0, t];
}

function cmpUnits(a, b) {
  const x = sortKey(a);
  const y = sortKey(b);
  return x[0] - y[0] || x[1] - y[1] || (x[2] < y[2] ? -1 : x[2] > y[2] ? 1 : 0);
}

// merge groups that share a unit are united (transitively); groups of one unit disappear
export function unionGroups(groups) {
  const byKey = new Map();
  let merged = [];
  for (const g of groups) {
    let set = new Set(g.map(String));
    g.forEach((u) => byKey.set(String(u), u));
    const touching = merged.filter((m) => [...m].some((u) => set.has(u)));
    for (const m of touching) set = new Set([...set, ...m]);
    merged = merged.filter((m) => !touching.includes(m));
    merged.push(set);
  }
  return merged.filter((m) => m.size >= 2)
    .map((m) => [...m].map((k) => byKey.get(k)).sort(cmpUnits))
    .sort((a, b) => cmpUnits(a[0], b[0]));
}

const asList = (v) => (Array.isArray(v) ? v : [v]);

export function applyCurationAction(state, action) {
  const t = action.type;
  if (state.isClosed && t !== "REOPEN_CURATION" && t !== "CLOSE_CURATION") return state;
  const next = { labelsByUnit: { ...state.labelsByUnit }, mergeGroups: state.mergeGroups.map((g) => [...g]), isClosed: state.isClosed };
  if (t === "ADD_UNIT_LABEL") {
    for (const u of asList(action.unitId)) {
      next.labelsByUnit[String(u)] = [...new Set([...(next.labelsByUnit[String(u)] || []), action.label])].sort();
    }
  } else if (t === "REMOVE_UNIT_LABEL") {
    for (const u of asList(action.unitId)) {
      const rest = (next.labelsByUnit[String(u)] || []).filter((l) => l !== action.label);
      if (rest.length) next.labelsByUnit[String(u)] = rest; else delete next.labelsByUnit[String(u)];
    }
  } else if (t === "MERGE_UNITS") {
    next.mergeGroups = unionGroups([...next.mergeGroups, action.unitIds]);
  } else if (t === "UNMERGE_UNITS") {
    const leaving = new Set(action.unitIds.map(String));
    next.mergeGroups = unionGroups(next.mergeGroups.map((g) => g.filter((u) => !leaving.has(String(u)))));
  } else if (t === "CLOSE_CURATION") next.isClosed = true;
  else if (t === "REOPEN_CURATION") next.isClosed = false;
  return next;
}

// a curation loaded from a sha1:// JSON (Spyglass and the original write {labelsByUnit, mergeGroups}): the same
// canonical form as the Python normalize_state, or an error naming the field
export function normalizeCuration(obj) {
  if (!obj || typeof obj !== "object" || Array.isArray(obj)) throw new Error("a curation must be an object {labelsByUnit, mergeGroups}");
  const labels = obj.labelsByUnit || {};
  const groups = obj.mergeGroups || [];
  if (typeof labels !== "object" || Array.isArray(labels) || !Object.values(labels).every(Array.isArray)) {
    throw new Error("labelsByUnit must map unit ids to lists of labels");
  }
  if (!Array.isArray(groups) || !groups.every(Array.isArray)) throw new Error("mergeGroups must be a list of lists of unit ids");
  const out = emptyCuration();
  for (const [u, ls] of Object.entries(labels)) if (ls.length) out.labelsByUnit[u] = [...new Set(ls.map(String))].sort();
  out.mergeGroups = unionGroups(groups);
  out.isClosed = !!obj.isClosed;
  return out;
}
