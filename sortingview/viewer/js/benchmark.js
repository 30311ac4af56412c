// The benchmark page: /api/benchmark's numbers as tables and accuracy-vs-SNR scatters; every number is a link.
const params = new URLSearchParams(location.search);
const $ = (sel) => document.querySelector(sel);

function el(tag, text, attrs = {}) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

const fmt = (x) => (x === null || x === undefined ? "–" : Number(x).toFixed(3));

function linkCell(text, href, cls) {
  const td = el("td");
  const a = el("a", text, { href, class: cls || "bm-num" });
  td.appendChild(a);
  return td;
}

function row(cells) {
  const tr = el("tr");
  for (const c of cells) tr.appendChild(c);
  return tr;
}

// the first `names` columns hold names (left-aligned like their cells), the others numbers
function headerRow(labels, names = 1) {
  return row(labels.map((n, i) => el("th", n, i < names ? { class: "name" } : {})));
}

function sorterAnchor(data, sorter) {
  return `#sorter-${[...new Set(data.rows.map((r) => r.sorter))].indexOf(sorter)}`;
}

function renderSummary(data) {
  const t = $("#bm-summary");
  t.appendChild(headerRow(["sorter", "study", "GT units", "accuracy", "precision", "recall",
    ...data.snrThresholds.map((s) => `well detected, SNR ≥ ${s}`)], 2));
  for (const s of data.summaries) {
    const href = s.sortingIds.length === 1 ? data.links[s.sortingIds[0]] : sorterAnchor(data, s.sorter);
    const tr = row([el("td", s.sorter, { class: "name" }), el("td", s.study, { class: "name" }),
      linkCell(s.numGtUnits, href), linkCell(fmt(s.accuracy), href), linkCell(fmt(s.precision), href),
      linkCell(fmt(s.recall), href), ...s.wellDetected.map((n) => linkCell(n, href))]);
    tr.dataset.sorter = s.sorter;
    tr.dataset.study = s.study;
    t.appendChild(tr);
  }
}

function renderMatrix(data) {
  const t = $("#bm-matrix");
  const sorters = [...new Set(data.rows.map((r) => r.sorter))];
  const recs = [...new Map(data.rows.map((r) => [r.recordingId, r.recordingLabel])).entries()];
  t.appendChild(headerRow(["sorter", ...recs.map(([, label]) => label)]));
  for (const s of sorters) {
    const cells = [el("td", s, { class: "name" })];
    for (const [rid] of recs) {
      const r = data.rows.find((x) => x.sorter === s && x.recordingId === rid);
      if (!r) { cells.push(el("td", "–")); continue; }
      const td = linkCell(fmt(r.accuracy), data.links[r.sortingId], "bm-cell");
      td.title = `precision ${fmt(r.precision)}, recall ${fmt(r.recall)}, ${r.numWellDetected} of ${r.numGtUnits} well detected`;
      td.dataset.sortingId = r.sortingId;
      td.dataset.accuracy = r.accuracy;
      cells.push(td);
    }
    t.appendChild(row(cells));
  }
}

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

function text(x, y, content, attrs = {}) {
  const t = svg("text", { x, y, "font-size": 11, fill: "#444", ...attrs });
  t.textContent = content;
  return t;
}

// the axes of one scatter: accuracy 0, 0.5, 1 on the left, SNR 0, half, max below; the plot area keeps a
// margin of a point's radius so points at the ends are drawn whole
function scatterAxes(s, box, maxSnr) {
  const { L, R, T, Bot } = box;
  s.appendChild(svg("line", { x1: L, y1: Bot, x2: R, y2: Bot, stroke: "#999" }));
  s.appendChild(svg("line", { x1: L, y1: T, x2: L, y2: Bot, stroke: "#999" }));
  for (const v of [0, 0.5, 1]) {
    const y = Bot - v * (Bot - T);
    s.appendChild(svg("line", { x1: L - 4, y1: y, x2: L, y2: y, stroke: "#999" }));
    s.appendChild(text(L - 6, y + 4, String(v), { "text-anchor": "end", class: "y-tick" }));
  }
  [0, maxSnr / 2, maxSnr].forEach((v, i) => {
    const x = L + (v / maxSnr) * (R - L);
    s.appendChild(svg("line", { x1: x, y1: Bot, x2: x, y2: Bot + 4, stroke: "#999" }));
    const anchor = i === 2 ? "end" : "middle";  // the last number ends at the axis' end, inside the plot
    s.appendChild(text(x, Bot + 15, String(Number(v.toPrecision(3))), { "text-anchor": anchor, class: "x-tick" }));
  });
}

function renderScatter(data) {
  const box = $("#bm-scatter");
  const maxSnr = Math.max(1, ...data.units.map((u) => u.snr || 0));
  const W = 300, H = 230, PAD = 6;
  const area = { L: 40, R: W - PAD - 4, T: 24 + PAD, Bot: H - 34 };
  for (const sorter of new Set(data.units.map((u) => u.sorter))) {
    const s = svg("svg", { width: W, height: H, class: "scatter" });
    s.dataset.sorter = sorter;
    s.dataset.area = JSON.stringify([area.L, area.T, area.R, area.Bot]);
    scatterAxes(s, area, maxSnr);
    s.appendChild(text(area.L + 4, 16, sorter, { "font-size": 12, fill: "#222" }));
    s.appendChild(text((area.L + area.R) / 2, H - 4, "SNR", { "text-anchor": "middle" }));
    s.appendChild(text(12, (area.T + area.Bot) / 2, "accuracy",
      { "text-anchor": "middle", transform: `rotate(-90 12 ${(area.T + area.Bot) / 2})` }));
    for (const u of data.units.filter((x) => x.sorter === sorter)) {
      if (u.snr === null) continue;
      const a = svg("a", { href: data.links[u.sortingId] });
      const c = svg("circle", { cx: area.L + (u.snr / maxSnr) * (area.R - area.L), cy: area.Bot - (u.accuracy || 0) * (area.Bot - area.T),
        r: 3.5, fill: "#2b6cb0", "fill-opacity": 0.7, class: "bm-point" });
      const tip = svg("title", {});
      tip.textContent = `GT unit ${u.gtUnitId}: SNR ${fmt(u.snr)}, accuracy ${fmt(u.accuracy)}`;
      c.appendChild(tip);
      a.appendChild(c);
      s.appendChild(a);
    }
    box.appendChild(s);
  }
}

function renderLinks(data) {
  const box = $("#bm-links");
  [...new Set(data.rows.map((r) => r.sorter))].forEach((sorter, i) => {
    const div = el("div", null, { id: `sorter-${i}`, class: "panel" });
    div.appendChild(el("strong", sorter));
    const ul = el("ul");
    for (const r of data.rows.filter((x) => x.sorter === sorter)) {
      const li = el("li");
      li.appendChild(el("a", `${r.recordingLabel}: ${r.numSortedUnits} units`, { href: data.links[r.sortingId] }));
      const confusion = (data.confusionLinks || {})[r.sortingId];
      if (confusion) li.append(" · ", el("a", "confusion matrix", { href: confusion, class: "bm-confusion" }));
      ul.appendChild(li);
    }
    div.appendChild(ul);
    box.appendChild(div);
  });
}

async function main() {
  const q = new URLSearchParams();
  for (const k of ["w", "wellDetected", "snr"]) if (params.get(k)) q.set(k, params.get(k));
  const resp = await fetch(`/api/benchmark?${q}`);
  const data = await resp.json();
  if (!resp.ok) { $("#bm-status").textContent = data.error || `error ${resp.status}`; return; }
  document.title = `sortingview: benchmark ${data.label}`;
  $("#fig-title").textContent = `Benchmark: ${data.label}`;
  $("#bm-status").textContent = `${data.rows.length} sortings; well detected means accuracy ≥ ${data.wellDetected}`;
  renderSummary(data);
  renderMatrix(data);
  renderScatter(data);
  renderLinks(data);
  document.body.dataset.ready = "1";
}

main().catch((e) => { $("#bm-status").textContent = String(e); });
