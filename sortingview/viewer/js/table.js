// The workspace viewer's units table: the UnitsTable view module fed with the unit ids, the unit_metrics task's
// metrics, the peak channels and the workspace's external metrics (headers in purple).
import { errorBox } from "./plot.js";
import { NO_UNITS, hasNoUnits, state } from "./store.js";
import { mountView } from "./viewhost.js";

const CORE = ["numEvents", "firingRateHz", "snr", "isiViolationFraction"];
let root;

export function mountTable(el) {
  root = el;
  mountView(el, "UnitsTable", { getData: tableData, dataKeys: ["unitIds", "unitsLoaded", "metrics", "peakChannels", "figure", "errors"] });
}

function rank(name) {
  const i = CORE.indexOf(name);
  return i < 0 ? CORE.length : i;
}

// the workspace's external metrics (e.g. ground-truth accuracy) first, right after Labels, so the narrow table
// shows them without scrolling; then the core quality metrics, the peak channel and the other metrics
function columns() {
  const metrics = [...state.metrics].sort((a, b) => rank(a.name) - rank(b.name));
  const external = ((state.figure && state.figure.externalUnitMetrics) || []).map((m) => (
    { key: `x:${m.name}`, label: m.label || m.name, tooltip: m.tooltip || `${m.name} (external)`, dtype: "float", external: true, metric: m }));
  const cols = metrics.map((m) => ({ key: `m:${m.name}`, label: m.label || m.name, tooltip: m.tooltip || m.name, dtype: "float", metric: m }));
  // the peak channel sits right after the core quality metrics
  const peakAt = cols.findIndex((c) => c.key === "m:isiViolationFraction");
  cols.splice(peakAt >= 0 ? peakAt + 1 : cols.length, 0,
    { key: "peak", label: "Peak ch.", tooltip: "Channel with the largest average waveform amplitude", dtype: "int" });
  return [...external, ...cols];
}

// the UnitsTable data of this sorting, or null (with a placeholder drawn) while the unit ids are coming
function tableData() {
  renderErrors();
  if (!state.unitIds.length) {
    const text = hasNoUnits() ? NO_UNITS : "Loading units…";
    root.replaceChildren(Object.assign(document.createElement("div"), { className: "placeholder", textContent: text }));
    return null;
  }
  const cols = columns();
  const rows = state.unitIds.map((u) => {
    const key = String(u);
    const values = {};
    for (const c of cols) {
      const v = c.metric ? (c.metric.data || {})[key] : state.peakChannels[key];
      if (v !== undefined && v !== null) values[c.key] = v;
    }
    return { unitId: u, values };
  });
  return { type: "UnitsTable", columns: cols.map(({ metric, ...c }) => c), rows };
}

function renderErrors() {
  const box = document.querySelector("#units-errors");
  if (!box) return;
  box.replaceChildren(...["units", "metrics"].filter((v) => state.errors[v]).map((v) => errorBox(state.errors[v])));
}
