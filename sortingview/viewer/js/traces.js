// Raw traces: the channels stacked by depth in a time window that pans and zooms (buttons, wheel, drag),
// min/max-downsampled by the task so that every spike stays visible, with the selected units' spikes marked.
import { AXIS, FONT, GRID, errorBox, niceStep, note, setupCanvas, ticks, formatTick } from "./plot.js";
import { amplitudesOf, unitAmplitudes } from "./amplitudes.js";
import { colorsFor, mergesChanged, onResize, peekTask, reportError, requestTask, viewUnits } from "./ondemand.js";
import { displayedOrder } from "./selection.js";
import { state, subscribe, update, writeUrlState } from "./store.js";

const TASK = "sortingview.timeseries_segment.1";
const MAX_MARKED_UNITS = 12;
const MIN_WINDOW_SEC = 0.002;
const AREA = { left: 46, right: 58, top: 16, bottom: 34 };
let root;
let dom = null;          // {tools, label, errors, canvas}
let lastResult = null;   // the last window that arrived: drawn while the next one is on its way
let settling = null;     // timer while the user pans/zooms: the task is requested when it fires
let gain = 1;            // amplitude zoom (buttons)

let frameRequested = false;

// at most one drawing per animation frame: a burst of wheel or drag events costs one frame, not one each
function scheduleRender() {
  if (frameRequested) return;
  frameRequested = true;
  requestAnimationFrame(() => { frameRequested = false; if (state.view === "traces") render(); });
}

export function mountTraces(el) {
  root = el;
  subscribe((keys) => {
    if (state.view !== "traces") return;
    if (keys.has("tracesWindow") && settling) scheduleRender();
    else if (mergesChanged(keys)) render();
    else if (["view", "tracesWindow", "selection", "ondemand", "recordingInfo", "figure", "errors"].some((k) => keys.has(k))) render();
  });
  onResize(el, () => { if (state.view === "traces") render(); });
}

const info = () => state.recordingInfo;
const duration = () => info().numFrames / info().samplingFrequency;

function currentWindow() {
  const w = state.tracesWindow;
  const d = duration();
  if (!w) return [0, Math.min(1, d)];
  return [Math.max(0, Math.min(w[0], d - MIN_WINDOW_SEC)), Math.min(d, Math.max(w[1], w[0] + MIN_WINDOW_SEC))];
}

function setWindow(t0, t1) {
  const d = duration();
  let len = Math.min(d, Math.max(MIN_WINDOW_SEC, t1 - t0));
  let start = Math.min(Math.max(0, t0), d - len);
  if (len >= d) { start = 0; len = d; }
  clearTimeout(settling);
  settling = setTimeout(() => { settling = null; render(); writeUrlState(); }, 150);
  update({ tracesWindow: [start, start + len] });
}

function taskInput([t0, t1], width) {
  const fs = info().samplingFrequency;
  const startFrame = Math.max(0, Math.floor(t0 * fs));
  const endFrame = Math.min(info().numFrames, Math.max(startFrame + 1, Math.ceil(t1 * fs)));
  // two rows (min, max) per bin: at most about one bin per pixel column
  return { recording: state.figure.recordingUri, startFrame, endFrame, maxSamples: Math.max(2, 2 * Math.round(width)) };
}

function render() {
  if (!state.figure || !info()) {
    root.innerHTML = "";
    dom = null;
    const err = state.errors.recordingInfo;
    root.appendChild(err ? errorBox(err) : note("Loading the recording's description…", "placeholder"));
    return;
  }
  if (!dom) buildDom();
  const w = currentWindow();
  const width = Math.max(320, root.clientWidth - 16);
  const height = Math.max(240, root.clientHeight - dom.tools.offsetHeight - 24);
  const input = taskInput(w, width - AREA.left - AREA.right);
  const entry = settling ? peekTask(TASK, input) : requestTask(TASK, input, "traces");
  reportError("traces", entry);
  dom.errors.innerHTML = "";
  if (entry && entry.status === "error") dom.errors.appendChild(errorBox(entry.error));
  if (entry && entry.status === "done") lastResult = entry.result;
  dom.label.textContent = `${w[0].toFixed(3)}–${w[1].toFixed(3)} s (${formatDuration(w[1] - w[0])})`
    + (entry && entry.status === "pending" ? " · loading…" : "");
  draw(w, width, height);
}

function formatDuration(sec) {
  return sec >= 1 ? `${Number(sec.toPrecision(3))} s` : `${Number((sec * 1000).toPrecision(3))} ms`;
}

function buildDom() {
  root.innerHTML = `<div class="view-tools">
      <button data-act="back" title="back one window">«</button><button data-act="left" title="back half a window">‹</button>
      <button data-act="right" title="forward half a window">›</button><button data-act="fwd" title="forward one window">»</button>
      <button data-act="in" title="zoom in: half the window (mouse wheel up; drag to pan)">+</button><button data-act="out" title="zoom out: twice the window (mouse wheel down)">−</button>
      <span class="win-label"></span><span class="sp"></span>
      <span title="amplitude scale">µV</span> <button data-act="gain-up" title="larger traces">×2</button><button data-act="gain-down" title="smaller traces">÷2</button>
    </div><div class="trace-errors"></div><canvas class="traces"></canvas>`;
  dom = { tools: root.querySelector(".view-tools"), label: root.querySelector(".win-label"),
    errors: root.querySelector(".trace-errors"), canvas: root.querySelector("canvas.traces") };
  dom.tools.addEventListener("click", (ev) => {
    const act = ev.target.dataset && ev.target.dataset.act;
    if (!act) return;
    const [t0, t1] = currentWindow();
    const len = t1 - t0;
    const mid = (t0 + t1) / 2;
    if (act === "back") setWindow(t0 - len, t1 - len);
    else if (act === "fwd") setWindow(t0 + len, t1 + len);
    else if (act === "left") setWindow(t0 - len / 2, t1 - len / 2);
    else if (act === "right") setWindow(t0 + len / 2, t1 + len / 2);
    else if (act === "in") setWindow(mid - len / 4, mid + len / 4);
    else if (act === "out") setWindow(mid - len, mid + len);
    else if (act === "gain-up" || act === "gain-down") { gain *= act === "gain-up" ? 2 : 0.5; render(); }
  });
  dom.canvas.addEventListener("wheel", onWheel, { passive: false });
  dom.canvas.addEventListener("pointerdown", onDrag);
}

// wheel: zoom around the time under the pointer; shift+wheel or a horizontal wheel pans
function onWheel(ev) {
  ev.preventDefault();
  const [t0, t1] = currentWindow();
  const len = t1 - t0;
  const plotW = dom.canvas.clientWidth - AREA.left - AREA.right;
  if (ev.shiftKey || Math.abs(ev.deltaX) > Math.abs(ev.deltaY)) {
    const d = (ev.shiftKey ? ev.deltaY : ev.deltaX) / plotW * len;
    setWindow(t0 + d, t1 + d);
    return;
  }
  const f = Math.min(Math.max((ev.offsetX - AREA.left) / plotW, 0), 1);
  const at = t0 + f * len;
  const newLen = len * (ev.deltaY > 0 ? 1.25 : 0.8);
  setWindow(at - f * newLen, at + (1 - f) * newLen);
}

function onDrag(ev) {
  const canvas = dom.canvas;
  canvas.setPointerCapture(ev.pointerId);
  canvas.classList.add("dragging");
  const [t0, t1] = currentWindow();
  const perPx = (t1 - t0) / (canvas.clientWidth - AREA.left - AREA.right);
  const x0 = ev.clientX;
  const move = (e) => { const d = (x0 - e.clientX) * perPx; setWindow(t0 + d, t1 + d); };
  canvas.addEventListener("pointermove", move);
  canvas.addEventListener("pointerup", () => {
    canvas.removeEventListener("pointermove", move);
    canvas.classList.remove("dragging");
  }, { once: true });
}

// channels top to bottom: the deepest contact (largest y) at the top, as the waveforms view draws the probe
function channelOrder(ids) {
  const all = info().channelIds.map(String);
  const locs = info().channelLocations;
  const y = (c) => {
    const i = all.indexOf(c);
    if (!locs || i < 0) return -i;
    return locs.shape ? locs.get(i, 1) * 1e6 + locs.get(i, 0) : locs[i][1] * 1e6 + locs[i][0];
  };
  return ids.map((c, j) => ({ id: c, col: j, y: y(c) })).sort((a, b) => b.y - a.y);
}

function median(values) {
  const v = [...values].filter(Number.isFinite).sort((a, b) => a - b);
  return v.length ? v[Math.floor(v.length / 2)] : 0;
}

function draw(w, width, height) {
  const area = { left: AREA.left, top: AREA.top, width: width - AREA.left - AREA.right, height: height - AREA.top - AREA.bottom };
  const X = (t) => area.left + ((t - w[0]) / (w[1] - w[0])) * area.width;
  if (settling && snapshot && snapshot.width === width && snapshot.height === height) {
    drawPreview(w, area, X);
    return;
  }
  const started = performance.now();
  const ctx = setupCanvas(dom.canvas, width, height);
  drawTimeAxis(ctx, area, w, X);
  if (!lastResult) { dom.canvas.dataset.drawn = "0"; snapshot = null; return; }
  const r = lastResult;
  const chans = channelOrder(r.channelIds.map(String));
  const spacing = area.height / chans.length;
  const noise = median(info().noiseLevels ? Array.from(info().noiseLevels.data || info().noiseLevels) : []);
  // about 20 noise SDs fill a channel's slot at gain 1: spikes of a few hundred uV reach the neighbours
  const uvPerSlot = Math.max(noise * 20, 1e-6) / gain;
  const pxPerUv = spacing / uvPerSlot;
  const rowY = new Map(chans.map((c, i) => [c.id, area.top + spacing * (i + 0.5)]));
  ctx.save();
  ctx.beginPath(); ctx.rect(area.left, area.top, area.width, area.height); ctx.clip();
  const segments = drawTraces(ctx, r, chans, rowY, pxPerUv, X);
  const marks = drawSpikes(ctx, w, area, X, rowY, (t, c) => traceAt(r, t, c, pxPerUv));
  ctx.restore();
  drawChannelLabels(ctx, chans, rowY, spacing);
  drawScaleBar(ctx, area, uvPerSlot, spacing, r.unit === "uV" ? "µV" : "raw");
  dom.canvas.dataset.drawn = String(chans.length);
  dom.canvas.dataset.segments = String(segments);
  dom.canvas.dataset.spikes = String(marks);
  dom.canvas.dataset.dsFactor = String(r.dsFactor);
  dom.canvas.dataset.window = JSON.stringify([r.startFrame, r.endFrame]);
  dom.canvas.dataset.mode = "exact";
  takeSnapshot(w, width, height);
  performance.measure("sv:traces-exact", { start: started });  // read by bench/bench_viewer_scale.py
  performance.mark("sv:traces-drawn");
}

// While the user pans or zooms, each frame shows the last exact drawing moved and stretched to the new window
// (one image copy instead of hundreds of channel paths); the exact drawing follows when the window settles.
let snapshot = null;  // {image, window, width, height}

function takeSnapshot(w, width, height) {
  const image = snapshot && snapshot.image.width === dom.canvas.width && snapshot.image.height === dom.canvas.height
    ? snapshot.image : document.createElement("canvas");
  image.width = dom.canvas.width;
  image.height = dom.canvas.height;
  image.getContext("2d").drawImage(dom.canvas, 0, 0);
  snapshot = { image, window: w, width, height };
}

function drawPreview(w, area, X) {
  const ctx = setupCanvas(dom.canvas, snapshot.width, snapshot.height);
  const s = snapshot.image.width / snapshot.width;  // device pixels per CSS pixel
  const img = snapshot.image;
  // the channel labels and the scale bar, as they were
  ctx.drawImage(img, 0, 0, area.left * s, img.height, 0, 0, area.left, snapshot.height);
  const right = area.left + area.width;
  ctx.drawImage(img, right * s, 0, img.width - right * s, img.height, right, 0, snapshot.width - right, snapshot.height);
  drawTimeAxis(ctx, area, w, X);
  ctx.save();
  ctx.beginPath(); ctx.rect(area.left + 1, area.top + 1, area.width - 1, area.height - 1); ctx.clip();
  const [s0, s1] = snapshot.window;
  ctx.drawImage(img, (area.left + 1) * s, (area.top + 1) * s, (area.width - 1) * s, (area.height - 1) * s,
    X(s0) + (area.width ? (X(s1) - X(s0)) / area.width : 0), area.top + 1, ((X(s1) - X(s0)) * (area.width - 1)) / area.width, area.height - 1);
  ctx.restore();
  dom.canvas.dataset.mode = "preview";
  performance.mark("sv:traces-drawn");
}

function drawTraces(ctx, r, chans, rowY, pxPerUv, X) {
  const fs = r.samplingFrequency;
  const tr = r.traces;
  const rows = tr.shape[0];
  let segments = 0;
  ctx.strokeStyle = r.dsFactor === 1 ? "#2d3748" : "#4a5568";
  ctx.lineWidth = r.dsFactor === 1 ? 1 : 0.8;
  for (const c of chans) {
    const y0 = rowY.get(c.id);
    ctx.beginPath();
    if (r.dsFactor === 1) {
      for (let i = 0; i < rows; i++) ctx.lineTo(X((r.startFrame + i) / fs), y0 - tr.get(i, c.col) * pxPerUv);
    } else {
      // one vertical stroke from min to max per bin, joined to the next: a band where the signal lies
      for (let m = 0; 2 * m + 1 < rows; m++) {
        const x = X((r.startFrame + (m + 0.5) * r.dsFactor) / fs);
        ctx.lineTo(x, y0 - tr.get(2 * m, c.col) * pxPerUv);
        ctx.lineTo(x, y0 - tr.get(2 * m + 1, c.col) * pxPerUv);
      }
    }
    ctx.stroke();
    segments++;
  }
  return segments;
}

// the selected units' spikes in the window: a tick on top, and the trace around the spike on the unit's peak
// channel drawn over in the unit's colour
function drawSpikes(ctx, w, area, X, rowY, path) {
  const units = viewUnits(displayedOrder()).slice(0, MAX_MARKED_UNITS);
  const colors = colorsFor(units.map((x) => x.key));
  let marks = 0;
  for (const unit of units) {
    const k = unit.key;
    const entry = amplitudesOf(unit);
    if (entry.status !== "done") continue;
    const u = unitAmplitudes(entry);
    const t = u.timesSec.data;
    const chan = String(u.peakChannelId);
    ctx.fillStyle = colors.get(k);
    ctx.strokeStyle = colors.get(k);
    ctx.lineWidth = 1.8;
    for (let j = lowerBound(t, w[0]); j < t.length && t[j] <= w[1]; j++) {
      const x = X(t[j]);
      ctx.fillRect(x - 1, area.top, 2, 9);
      if (rowY.has(chan)) {
        ctx.beginPath();
        for (const [tt, v] of path([t[j] - 0.0008, t[j] + 0.0016], chan)) ctx.lineTo(X(tt), rowY.get(chan) - v);
        ctx.stroke();
      }
      marks++;
    }
  }
  ctx.lineWidth = 1;
  return marks;
}

// [time, offset in px] of the points of a channel's drawn trace in [t0, t1]
function traceAt(r, [t0, t1], chan, pxPerUv) {
  const fs = r.samplingFrequency;
  const col = r.channelIds.map(String).indexOf(chan);
  const out = [];
  if (col < 0) return out;
  const tr = r.traces;
  if (r.dsFactor === 1) {
    const i0 = Math.max(0, Math.floor(t0 * fs) - r.startFrame);
    const i1 = Math.min(tr.shape[0] - 1, Math.ceil(t1 * fs) - r.startFrame);
    for (let i = i0; i <= i1; i++) out.push([(r.startFrame + i) / fs, tr.get(i, col) * pxPerUv]);
    return out;
  }
  const m0 = Math.max(0, Math.floor((t0 * fs - r.startFrame) / r.dsFactor));
  const m1 = Math.min(tr.shape[0] / 2 - 1, Math.floor((t1 * fs - r.startFrame) / r.dsFactor));
  for (let m = m0; m <= m1; m++) {
    const tm = (r.startFrame + (m + 0.5) * r.dsFactor) / fs;
    out.push([tm, tr.get(2 * m, col) * pxPerUv], [tm, tr.get(2 * m + 1, col) * pxPerUv]);
  }
  return out;
}

function lowerBound(a, v) {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (a[mid] < v) lo = mid + 1; else hi = mid; }
  return lo;
}

function drawTimeAxis(ctx, area, w, X) {
  ctx.strokeStyle = GRID;
  ctx.fillStyle = AXIS;
  ctx.font = FONT;
  ctx.textAlign = "center"; ctx.textBaseline = "top";
  ctx.beginPath();
  for (const t of ticks(w[0], w[1], Math.max(2, Math.floor(area.width / 100)))) {
    const x = Math.round(X(t)) + 0.5;
    ctx.moveTo(x, area.top); ctx.lineTo(x, area.top + area.height);
    ctx.fillText(formatTick(t), x, area.top + area.height + 4);
  }
  ctx.stroke();
  ctx.strokeStyle = AXIS;
  ctx.strokeRect(area.left + 0.5, area.top + 0.5, area.width, area.height);
  ctx.textBaseline = "bottom";
  ctx.fillText("time (s)", area.left + area.width / 2, area.top + area.height + 32);
}

function drawChannelLabels(ctx, chans, rowY, spacing) {
  const every = Math.max(1, Math.ceil(12 / spacing));  // labels at least 12 px apart
  ctx.fillStyle = AXIS;
  ctx.font = "10px system-ui, sans-serif";
  ctx.textAlign = "right"; ctx.textBaseline = "middle";
  chans.forEach((c, i) => { if (i % every === 0) ctx.fillText(c.id, AREA.left - 5, rowY.get(c.id)); });
  ctx.save();
  ctx.translate(9, AREA.top + 40);
  ctx.rotate(-Math.PI / 2);
  ctx.textAlign = "right";
  ctx.fillText("channel", 0, 0);
  ctx.restore();
}

function drawScaleBar(ctx, area, uvPerSlot, spacing, unit) {
  const v = niceStep(uvPerSlot, 1);
  const h = (v / uvPerSlot) * spacing;
  const x = area.left + area.width + 8;
  const y = area.top + area.height;
  ctx.strokeStyle = AXIS;
  ctx.lineWidth = 2;
  ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(x, y - h); ctx.stroke();
  ctx.fillStyle = AXIS;
  ctx.font = "10px system-ui, sans-serif";
  ctx.textAlign = "left"; ctx.textBaseline = "middle";
  ctx.fillText(formatTick(v), x + 4, y - h / 2 - 6);
  ctx.fillText(unit, x + 4, y - h / 2 + 6);
}
