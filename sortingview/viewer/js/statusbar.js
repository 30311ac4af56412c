// The status bar: backend state (polled), running spike sorters with their log's last line, pending tasks,
// signed-in user, channel and backend id.
import { getJson } from "./api.js";
import { state, subscribe, update } from "./store.js";
import { escapeHtml } from "./views/common.js";

let root;

export function mountStatusBar(el) {
  root = el;
  subscribe((keys) => {
    if (["pending", "backend", "userId", "backendId", "channel", "errors"].some((k) => keys.has(k))) render();
  });
  poll();
  render();
}

async function poll() {
  try {
    const q = state.channel ? `?channel=${encodeURIComponent(state.channel)}` : "";
    update({ backend: await getJson(`/api/backend-status${q}`) });
  } catch (e) {
    update({ backend: { error: e.message } });
  }
  setTimeout(poll, 5000);
}

function backendText(b) {
  if (!b) return { cls: "unknown", text: "backend: checking…" };
  if (b.error) return { cls: "down", text: `backend: ${b.error}` };
  if (b.mode === "inline") return { cls: "up", text: "tasks run inside the server" };
  const alive = b.backends || [];  // the server lists only backends with a recent heartbeat
  // backend ids are secrets: the status says only whether a backend has one
  const mine = alive.filter((x) => Boolean(x.hasBackendId) === Boolean(state.backendId));
  if (!alive.length) return { cls: "down", text: "no backend running: start one with sortingview-start-backend" };
  const queued = b.numQueued ?? null;
  const running = (b.running || []).length;
  const text = `${mine.length ? "backend alive" : "no backend for this backend id"} (${alive.length} backend${alive.length > 1 ? "s" : ""}, ${running} running${queued !== null ? `, ${queued} queued` : ""})`;
  return { cls: mine.length ? "up" : "down", text };
}

// running spike sorters with the last line of their log (the backend reads the log's tail for sorting jobs)
function sortersText(b) {
  const sorters = ((b && b.running) || []).filter((r) => r.handler === "sorting");
  if (!sorters.length) return null;
  const tails = sorters.map((r) => String(r.logTail || "").trim());
  const last = (tail) => tail.split("\n").pop().slice(-160);
  const first = sorters[0];
  const secs = Number.isFinite(first.runningSec) ? ` ${Math.round(first.runningSec)} s` : "";
  const text = `${sorters.length} sorter${sorters.length > 1 ? "s" : ""} running${secs}${tails[0] ? `: ${last(tails[0])}` : ""}`;
  return { text, title: tails.filter(Boolean).join("\n\n") };
}

function render() {
  if (!root) return;
  const b = backendText(state.backend);
  const sorting = sortersText(state.backend);
  const pending = [...state.pending.values()];
  const names = [...new Set(pending.map((p) => p.label))].join(", ");
  const nErr = Object.keys(state.errors).length;
  root.innerHTML = `
    <span class="dot ${b.cls}"></span><span class="backend-state">${escapeHtml(b.text)}</span>
    <span class="sep">|</span>
    ${sorting ? `<span class="sorters" title="${escapeHtml(sorting.title)}">${escapeHtml(sorting.text)}</span><span class="sep">|</span>` : ""}
    <span class="pending" data-count="${pending.length}">${pending.length ? `${pending.length} task${pending.length > 1 ? "s" : ""} pending: ${escapeHtml(names)}` : "no pending tasks"}</span>
    ${nErr ? `<span class="sep">|</span><span class="error">${nErr} view${nErr > 1 ? "s" : ""} failed</span>` : ""}
    <span class="spacer"></span>
    <span>channel: ${escapeHtml(state.channel || "default")}</span>
    <span class="sep">|</span>
    <span>backend id: ${escapeHtml(state.backendId || "(none)")}</span>
    <span class="sep">|</span>
    <span>${state.userId ? `signed in as ${escapeHtml(state.userId)}` : "not signed in"}</span>`;
}
