// Entry point of the workspace viewer (spikesortingview-1): read the figURL, load the figure data, start the
// tasks, and mount the views: each is a registered view module (js/views/) fed with task results.
import { getJson, runTask, toList } from "./api.js";
import { mountAcg } from "./acg.js";
import { followCurationFeed, loadCuration, mountCuration } from "./curation.js";
import { installKeys } from "./keys.js";
import { checkToken, wireSignIn } from "./signin.js";
import { mountStatusBar } from "./statusbar.js";
import { readUrlState, setError, state, subscribe, unitKey, update, writeUrlState } from "./store.js";
import { mountTable } from "./table.js";
import { messageBox, renderView } from "./viewhost.js";
import { mountWaveforms } from "./waveforms.js";
import { mountCrossCorrelograms } from "./crosscorr.js";
import { mountAmplitudes } from "./amplitudes.js";
import { unpackAutocorrelograms, unpackAverageWaveforms, unpackUnitMetrics } from "./packed.js";

const $ = (sel) => document.querySelector(sel);
// each tab: its view element and the tools shown next to the tabs while it is open
const VIEWS = {
  autocorrelograms: ["#acg-view", "#acg-tools"],
  waveforms: ["#waveform-view", "#waveform-tools"],
  crosscorrelograms: ["#ccg-view", "#merge-tools"],
  amplitudes: ["#amp-view", "#merge-tools"],
  traces: ["#traces-view", "#merge-tools"],
  features: ["#features-view", "#merge-tools"],
};

// a traces window [startSec, endSec] from the link's state, or null
function validWindow(t) {
  return Array.isArray(t) && t.length === 2 && t.every(Number.isFinite) && t[0] < t[1] ? [t[0], t[1]] : null;
}

async function start() {
  const params = new URLSearchParams(window.location.search);
  const s = readUrlState(params);
  const storedBackend = localStorage.getItem("sortingview.backendId");
  update({
    figureUri: params.get("d"),
    channel: params.get("channel") || null,
    backendId: params.has("backend") ? params.get("backend") : storedBackend,
    token: localStorage.getItem("sortingview.token"),
    view: VIEWS[s.view] ? s.view : "autocorrelograms",
    tracesWindow: validWindow(s.t),
    applyMerges: s.merges === true,
    acgMode: s.acg === "selected" ? "selected" : "all",
    selection: new Set((s.units || []).map(unitKey)),
    sort: Array.isArray(s.sort) ? { column: String(s.sort[0]), ascending: s.sort[1] !== "desc" } : state.sort,
  });
  document.title = params.get("label") || "sortingview";
  mountTable($("#units"));
  mountAcg($("#acg-view"));
  mountWaveforms($("#waveform-view"));
  mountCrossCorrelograms($("#ccg-view"));
  mountAmplitudes($("#amp-view"));
  renderView($("#traces-view"), "WorkspaceTraces", { type: "WorkspaceTraces", workspace: true });
  renderView($("#features-view"), "WorkspaceFeatures", { type: "WorkspaceFeatures", workspace: true });
  mountCuration($("#curation"));
  mountStatusBar($("#statusbar"));
  installKeys();
  wireHeader();
  wireSplitter();
  let figure;
  try {
    figure = await getJson(`/api/figure?d=${encodeURIComponent(state.figureUri)}`);
  } catch (e) {
    $("#units").replaceChildren(messageBox(`Cannot load this figure: ${e.message}`));
    return;
  }
  performance.mark("sv:figure");
  update({ figure });
  $("#fig-title").textContent = params.get("label") || figure.label || "sortingview";
  $("#fig-sub").textContent = `recording ${figure.recordingLabel || figure.recordingId} · sorting ${figure.sortingLabel || figure.sortingId}`;
  if (state.token) checkToken();
  subscribe((keys) => { if (keys.has("curation")) loadMergedAcgs(); });
  loadCuration().then(followCurationFeed);
  loadData(figure);
}

// merged units get their own autocorrelogram (the union of the members' spike trains), for merge decisions
let mergeSignature = "";
function loadMergedAcgs() {
  const groups = (state.curation && state.curation.curation && state.curation.curation.mergeGroups) || [];
  const sig = JSON.stringify(groups);
  if (sig === mergeSignature) return;
  mergeSignature = sig;
  if (!groups.length) { update({ mergedAcg: {} }); return; }
  runTask("sortingview.autocorrelograms.2", { sorting: state.figure.sortingUri, unitIds: groups },
    { label: "merged autocorrelograms" })
    .then((r) => {
      if (mergeSignature !== sig) return;  // the merges changed meanwhile; a newer request is on its way
      update({ mergedAcg: unpackAutocorrelograms(r).byUnit });  // keyed "3+7"
      setError("mergedAutocorrelograms", null);
    })
    .catch((e) => setError("mergedAutocorrelograms", e));
}

function loadData(f) {
  const rec = f.recordingUri;
  const sor = f.sortingUri;
  if (Array.isArray(f.unitIds)) update({ unitIds: f.unitIds, unitsLoaded: true });
  const acgTask = runTask("sortingview.autocorrelograms.2", { sorting: sor }, { label: "autocorrelograms" });
  if (!Array.isArray(f.unitIds)) {
    runTask("sortingview.sorting_info.1", { sorting: sor }, { label: "sorting info" })
      .then((r) => update({ unitIds: toList(r.unitIds), unitsLoaded: true }))
      .catch((e) => setError("units", e));
  }
  runTask("sortingview.unit_metrics.2", { recording: rec, sorting: sor }, { label: "unit metrics" })
    .then((r) => {
      performance.mark("sv:metrics-decoded");
      update({ metrics: unpackUnitMetrics(r) });
      performance.mark("sv:table-drawn");
    })
    .catch((e) => setError("metrics", e));
  acgTask.then((r) => {
    performance.mark("sv:acg-decoded");
    update({ acg: unpackAutocorrelograms(r) });
    performance.mark("sv:acg-drawn");
  }).catch((e) => setError("autocorrelograms", e));
  const recInfo = runTask("sortingview.recording_info.1", { recording: rec }, { label: "recording info" })
    .then((r) => update({ recordingInfo: r }))
    .catch((e) => setError("recordingInfo", e));
  // waveforms of every unit in one cached task: the peak-channel column and instant selection follow from it
  acgTask.catch(() => null).then(() => recInfo).then(() => {
    runTask("sortingview.average_waveforms.2", { recording: rec, sorting: sor }, { label: "average waveforms" })
      .then((r) => update(unpackAverageWaveforms(r)))
      .catch((e) => setError("waveforms", e));
  });
}

function wireHeader() {
  for (const tab of document.querySelectorAll(".tab")) {
    tab.addEventListener("click", () => { update({ view: tab.dataset.view }); writeUrlState(); });
  }
  $("#acg-mode").addEventListener("change", (ev) => { update({ acgMode: ev.target.value }); writeUrlState(); });
  $("#overlay").addEventListener("change", (ev) => update({ overlay: ev.target.checked }));
  $("#apply-merges").addEventListener("change", (ev) => { update({ applyMerges: ev.target.checked }); writeUrlState(); });
  subscribe((keys) => {
    if (keys.has("view")) showView();
  });
  showView();
  wireSignIn({ afterSignIn: loadCuration, afterSignOut: loadCuration });
  $("#settings-btn").addEventListener("click", () => {
    $("#backend-input").value = state.backendId || "";
    $("#settings-dialog").showModal();
  });
  $("#settings-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const v = $("#backend-input").value.trim();
    if (v) localStorage.setItem("sortingview.backendId", v); else localStorage.removeItem("sortingview.backendId");
    update({ backendId: v || null });
    $("#settings-dialog").close();
    loadData(state.figure);
  });
  $("#settings-cancel").addEventListener("click", () => $("#settings-dialog").close());
  $("#help-btn").addEventListener("click", () => $("#help-dialog").showModal());
  $("#copy-link").addEventListener("click", async () => {
    writeUrlState();
    try { await navigator.clipboard.writeText(window.location.href); $("#copy-link").textContent = "Copied"; } catch (e) { window.prompt("Link to this view:", window.location.href); }
    setTimeout(() => { $("#copy-link").textContent = "Copy link"; }, 1500);
  });
}

// the units table and the plots share the width; the splitter between them moves (and is remembered)
function wireSplitter() {
  const main = document.querySelector("main");
  const saved = localStorage.getItem("sortingview.unitsWidth");
  if (saved) main.style.setProperty("--units-width", saved);
  const splitter = $("#splitter");
  splitter.addEventListener("pointerdown", (ev) => {
    splitter.setPointerCapture(ev.pointerId);
    splitter.classList.add("dragging");
    const move = (e) => {
      const px = Math.min(Math.max(e.clientX, 260), window.innerWidth - 520);
      main.style.setProperty("--units-width", `${px}px`);
    };
    const up = () => {
      splitter.removeEventListener("pointermove", move);
      splitter.classList.remove("dragging");
      localStorage.setItem("sortingview.unitsWidth", main.style.getPropertyValue("--units-width"));
    };
    splitter.addEventListener("pointermove", move);
    splitter.addEventListener("pointerup", up, { once: true });
  });
}

function showView() {
  for (const tab of document.querySelectorAll(".tab")) tab.classList.toggle("active", tab.dataset.view === state.view);
  for (const [view, [el]] of Object.entries(VIEWS)) $(el).hidden = state.view !== view;
  // a tools element may serve several views: shown when the open view has it
  const shown = VIEWS[state.view][1];
  for (const tools of new Set(Object.values(VIEWS).map((v) => v[1]))) $(tools).hidden = tools !== shown;
  $("#apply-merges").checked = state.applyMerges;
  $("#acg-mode").value = state.acgMode;
}

start();
