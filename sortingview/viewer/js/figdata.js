// A views figure's root and every view's JSON, fetched as soon as the page starts: views.html loads this
// module on its own (async, no imports), so the fetches run while the viewer's other modules are still loading.
// figure.js imports the same module instance and awaits `figureData`.
const MAX_VIEW_BYTES = 512 * 1024 * 1024;

// the sha1 of a sha1:// URI (with or without ?label=...), else an error naming the URI
export function sha1Of(uri) {
  const m = /^sha1:\/\/([0-9a-f]{40})(\?.*)?$/.exec(String(uri));
  if (!m) throw new Error(`${uri} is not a sha1:// URI`);
  return m[1];
}

// the parsed JSON of a store file; its encoded arrays are decoded later, when a view is first shown
export async function loadStoreJson(uri) {
  const resp = await fetch(`/api/file/${sha1Of(uri)}`);
  if (!resp.ok) throw new Error(resp.status === 404 ? `${uri} is not in this server's store` : `${uri}: ${resp.status} ${resp.statusText}`);
  if (Number(resp.headers.get("Content-Length") || 0) > MAX_VIEW_BYTES) throw new Error(`${uri} is too large to show`);
  return resp.json();
}

// {root, views: Map viewId -> Promise<{data} | {error}>} or {error}; never rejects
async function loadFigure(uri) {
  let root;
  try { root = await loadStoreJson(uri); } catch (error) { return { error }; }
  const views = new Map();
  for (const v of Array.isArray(root && root.views) ? root.views : []) {
    if (!v || typeof v.viewId !== "string") continue;
    views.set(v.viewId, loadStoreJson(v.dataUri).then((data) => ({ data }), (e) => ({ error: e.message })));
  }
  return { root, views };
}

export const figureData = loadFigure(new URLSearchParams(window.location.search).get("d"));
