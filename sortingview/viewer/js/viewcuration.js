// Curation of a views figure: loaded from the link's state.sortingCuration (sha1:// JSON or a curation feed),
// changed locally with the reducer of curation_state.js, and saved: to the feed (each action, as the signed-in
// user) when the feed authorizes that user, else as a new sha1:// JSON whose URI replaces the one in the link.
import { getJson, postJson } from "./api.js";
import { applyCurationAction, emptyCuration } from "./curation_state.js";
import { state, update, writeUrlState } from "./store.js";

function setCuration(patch) { update({ curation: { ...state.curation, ...patch } }); }

// state.curation of a figure without a sortingCuration URI: local changes, saved as a new JSON
export function startLocalCuration() {
  update({ curation: { kind: "local", uri: null, curation: emptyCuration(), labelChoices: [], canCurate: true,
    canSave: !!state.userId, pending: [], dirty: false, error: null } });
}

export async function loadViewsCuration(uri) {
  if (!uri) { startLocalCuration(); return; }
  try {
    const r = await getJson(`/api/views/curation?uri=${encodeURIComponent(uri)}`);
    update({ curation: { ...r, pending: [], dirty: false, error: null } });
    if (r.userId && !state.userId) update({ userId: r.userId });
    if (r.kind === "feed") followFeed(r.uri, r.numMessages);
  } catch (e) {
    startLocalCuration();
    setCuration({ error: `cannot load the curation ${uri}: ${e.message}` });
  }
}

// changes written to a curation feed by others (another browser, a script) appear by themselves, unless this
// page has unsaved changes of its own (they would be lost); one follower per feed
let following = null;
async function followFeed(uri, start) {
  if (following === uri) return;
  following = uri;
  let next = start;
  while (following === uri && state.curation && state.curation.uri === uri) {
    try {
      const r = await getJson(`/api/feed/${uri.slice("feed://".length)}?start=${next}&wait=20`);
      if (!r.records.length) continue;
      next = r.records[r.records.length - 1].messageNumber + 1;
      const c = state.curation;
      if (c && c.uri === uri && !c.dirty && !c.saving) {
        following = null;  // the reload starts a new follower from the feed's length
        await loadViewsCuration(uri);
        return;
      }
    } catch (e) {
      await new Promise((res) => setTimeout(res, 3000));
    }
  }
}

// the SortingCuration2 view's dispatch: apply locally, remember for saving
export function curateLocally(actions) {
  const c = state.curation;
  if (!c || !c.canCurate || !actions.length) return;
  let cur = c.curation;
  for (const a of actions) cur = applyCurationAction(cur, a);
  setCuration({ curation: cur, pending: [...c.pending, ...actions], dirty: true, error: null });
}

export async function saveViewsCuration() {
  const c = state.curation;
  if (!c || c.saving) return;
  setCuration({ saving: true, error: null });
  try {
    if (c.kind === "feed" && c.canWriteFeed) {
      for (const [i, action] of c.pending.entries()) {
        try {
          await postJson("/api/curation", { workspace: c.workspace, sortingId: c.sortingId, action });
        } catch (e) {
          setCuration({ pending: c.pending.slice(i) });  // what was written is not sent twice
          throw e;
        }
      }
      await loadViewsCuration(c.uri);
    } else {
      const r = await postJson("/api/views/curation", { curation: c.curation });
      setCuration({ kind: "sha1", uri: r.uri, curation: r.curation, pending: [], dirty: false });
      writeUrlState();  // the new URI goes into the link's state (history.replaceState)
    }
  } catch (e) {
    setCuration({ error: `not saved: ${e.message}` });
  } finally {
    setCuration({ saving: false });
  }
}
