// The import page: sign in, browse the server's import folder, import, create a workspace, start sorters,
// watch the jobs. Everything shown from the server is set with textContent.
const $ = (sel) => document.querySelector(sel);
const state = { token: localStorage.getItem("sortingview.token"), path: "", selected: null, workspaceUri: null,
  recordings: [] };

function el(tag, text, attrs = {}) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

async function call(url, body) {
  const headers = state.token ? { Authorization: `Bearer ${state.token}` } : {};
  const init = body === undefined ? { headers } :
    { method: "POST", headers: { ...headers, "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const resp = await fetch(url, init);
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    const err = new Error(data.error || `${resp.status}`);
    err.status = resp.status;
    throw err;
  }
  return data;
}

function say(message) { $("#im-message").textContent = message || ""; }

async function guarded(fn) {
  try { say(""); await fn(); } catch (e) { say(`${e.status ? e.status + ": " : ""}${e.message}`); }
}

async function loadConfig() {
  const c = await call("/api/import/config");
  $("#im-user").textContent = c.userId ? `Signed in as ${c.userId}${c.canImport ? "" : " (not an importer)"}.`
    : "Not signed in.";
  const lines = Object.entries(c.handlers || {}).map(([worker, hs]) =>
    `${worker}: ${Object.entries(hs || {}).map(([h, how]) => `${h} ${how}`).join(", ")}`);
  const queued = Object.entries(c.queued || {}).map(([h, n]) => `${h} ${n}`).join(", ");
  $("#im-handlers").textContent = `${lines.join("\n") || "no live backend"}\nqueued: ${queued || "none"}`;
  const sel = $("#im-sorter");
  sel.textContent = "";
  for (const s of c.sorters) sel.appendChild(el("option", s, { value: s }));
  if (!c.enabled) say("This server has no import folder (start it with --import-folder PATH).");
  return c;
}

async function browse(path) {
  const listing = await call(`/api/import/list?${new URLSearchParams({ path })}`);
  state.path = listing.path;
  $("#im-path").textContent = `/${listing.path}`;
  const ul = $("#im-files");
  ul.textContent = "";
  for (const e of listing.entries) {
    const what = e.importAs ? ` [${e.importAs.kind}: ${e.importAs.format}]` : "";
    const li = el("li", `${e.name}${e.isDir ? "/" : ""}${what}`,
      { class: [e.isDir ? "dir" : "", e.importAs ? "importable" : ""].join(" ").trim() });
    li.dataset.path = e.path;
    li.addEventListener("click", () => guarded(async () => {
      if (e.importAs) { state.selected = e.path; $("#im-selected").textContent = e.path; }
      else if (e.isDir) await browse(e.path);
    }));
    if (e.isDir && e.importAs) li.addEventListener("dblclick", () => guarded(() => browse(e.path)));
    ul.appendChild(li);
  }
  if (listing.truncated) ul.appendChild(el("li", "(more entries not shown)"));
}

function setWorkspace(uri) {
  state.workspaceUri = uri;
  $("#im-ws-current").textContent = uri ? `Workspace: ${uri}` : "";
}

function renderRecordings() {
  const ul = $("#im-recordings");
  ul.textContent = "";
  for (const r of state.recordings) {
    const li = el("li");
    const box = el("input", null, { type: "radio", name: "im-rec", value: r.recordingId });
    box.checked = r === state.recordings[state.recordings.length - 1];
    const label = el("label");
    label.append(box, ` ${r.label} (${r.recordingId})`);
    li.appendChild(label);
    ul.appendChild(li);
  }
}

function chosenRecording() {
  const r = document.querySelector("input[name=im-rec]:checked");
  if (!r) throw new Error("import a recording first (and choose it)");
  return r.value;
}

function workspaceUri() {
  const typed = $("#im-ws-uri").value.trim();
  if (typed) setWorkspace(typed);
  if (!state.workspaceUri) throw new Error("create a workspace first (or paste the URI of one)");
  return state.workspaceUri;
}

function selectedPath() {
  if (!state.selected) throw new Error("choose a file or folder in the import folder first");
  return state.selected;
}

async function refreshJobs() {
  const { jobs } = await call("/api/import/jobs");
  const t = $("#im-jobs");
  t.textContent = "";
  const head = el("tr");
  for (const h of ["sorter", "recording", "status", "running", "sorting", "log / error"]) head.appendChild(el("th", h));
  t.appendChild(head);
  for (const j of jobs) {
    const tr = el("tr", null, { class: "im-job" });
    tr.dataset.jobId = j.jobId;
    tr.dataset.status = j.status;
    const status = el("td", j.status, { class: `name status-${j.status}` });
    const unended = j.status === "queued" || j.status === "running";
    if (j.stopRequestedBy && unended) {
      // a handler that cannot interrupt a task (inline, dask) runs it to its end; the server then drops it
      const text = j.stoppable === false ? "(cannot be stopped: it runs to its end, then is not added)" : "(stopping)";
      status.append(" ", el("span", text, { class: "im-stopping" }));
    } else if (unended && !j.stopRequestedBy) {
      const cancel = el("button", "cancel", {
        class: "im-cancel",
        title: j.status === "queued" ? "Take this job out of the queue" : "Stop the sorter (its worker process is killed)",
      });
      cancel.addEventListener("click", () => guarded(async () => {
        await call("/api/import/cancel", { jobId: j.jobId });
        await refreshJobs();
      }));
      status.append(" ", cancel);
    }
    tr.append(el("td", j.sorter, { class: "name" }), el("td", j.recordingId, { class: "name" }), status,
      el("td", j.runningSec == null ? "" : `${Number(j.runningSec).toFixed(0)} s`));
    const sorting = el("td", j.sortingId || "");
    if (j.url) {
      sorting.appendChild(document.createTextNode(" "));
      sorting.appendChild(el("a", "open", { href: j.url, class: "im-view" }));
    }
    tr.appendChild(sorting);
    const log = el("td", null, { class: "name" });
    const text = j.error || (Array.isArray(j.logTail) ? j.logTail.join("\n") : (j.logTail || ""));
    if (text) log.appendChild(el("pre", text, { class: "log" }));
    tr.appendChild(log);
    t.appendChild(tr);
  }
}

function wire() {
  $("#im-signin-btn").addEventListener("click", () => guarded(async () => {
    const token = $("#im-token").value.trim();
    await call("/api/signin", { token });
    state.token = token;
    localStorage.setItem("sortingview.token", token);
    $("#im-token").value = "";
    await start();
  }));
  $("#im-up").addEventListener("click", () => guarded(() => browse(state.path.split("/").slice(0, -1).join("/"))));
  $("#im-ws-create").addEventListener("click", () => guarded(async () => {
    const r = await call("/api/import/workspace", { label: $("#im-ws-label").value.trim() });
    $("#im-ws-uri").value = "";
    setWorkspace(r.workspaceUri);
    state.recordings = [];
    renderRecordings();
  }));
  $("#im-add-recording").addEventListener("click", () => guarded(async () => {
    const label = $("#im-label").value.trim() || null;
    const r = await call("/api/import/recording", { workspaceUri: workspaceUri(), path: selectedPath(), label });
    state.recordings.push({ recordingId: r.recordingId, label: label || selectedPath() });
    renderRecordings();
  }));
  $("#im-add-sorting").addEventListener("click", () => guarded(async () => {
    const label = $("#im-label").value.trim() || null;
    const r = await call("/api/import/sorting", { workspaceUri: workspaceUri(), recordingId: chosenRecording(),
      path: selectedPath(), label });
    say(`sorting ${r.sortingId} added`);
  }));
  $("#im-sort").addEventListener("click", () => guarded(async () => {
    let params;
    try { params = JSON.parse($("#im-params").value || "{}"); } catch (e) { throw new Error(`parameters: ${e.message}`); }
    await call("/api/import/sort", { workspaceUri: workspaceUri(), recordingIds: [chosenRecording()],
      sorters: { [$("#im-sorter").value]: params } });
    await refreshJobs();
  }));
}

async function start() {
  const c = await loadConfig();
  if (c.enabled && c.canImport) {
    await browse("");
    await refreshJobs();
  }
  document.body.dataset.ready = "1";
}

wire();
guarded(start);
setInterval(() => { if (document.body.dataset.ready) refreshJobs().catch(() => {}); }, 1500);
