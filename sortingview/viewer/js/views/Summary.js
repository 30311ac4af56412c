// Summary (the data of sortingview.views.SortingSummary, type "Summary"): a table of the recording and the
// sorting as the original shows it: descriptions, channel and unit ids, noise level, sampling frequency,
// number of samples, duration in minutes, number of segments, and the recording / sorting objects as JSON
// when the data carries them.
import { el, noNegativeZero, values } from "./common.js";
import { isNum } from "../draw/widgets.js";

export const type = "Summary";

export function unitIds(data) { return Array.from(values(data.unitIds)); }

function isIdList(v) {
  const arr = values(v);
  if (!(Array.isArray(arr) || ArrayBuffer.isView(arr)) || (v.shape && v.shape.length !== 1)) return false;
  for (let i = 0; i < arr.length; i++) if (typeof arr[i] !== "number" && typeof arr[i] !== "string") return false;
  return true;
}

export function check(data) {
  for (const f of ["recordingDescription", "sortingDescription"]) {
    if (typeof data[f] !== "string") return `${f} must be a string`;
  }
  for (const f of ["unitIds", "channelIds"]) if (!isIdList(data[f])) return `${f} must be a list of ids`;
  for (const f of ["samplingFrequency", "numFrames", "numSegments", "noiseLevel"]) {
    if (!isNum(data[f])) return `${f} must be a number`;
  }
  if (!(data.samplingFrequency > 0)) return "samplingFrequency must be positive";
  return null;
}

// a measured value to `digits` significant digits without trailing zeros (20000, 0.3333, 12.35)
export function significant(v, digits = 4) {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  return noNegativeZero(String(Number(v.toPrecision(digits))));
}

export function summaryRows(data) {
  const rows = [
    ["Recording description", data.recordingDescription],
    ["Sorting description", data.sortingDescription],
    ["Channel IDs", Array.from(values(data.channelIds)).join(", ")],
    ["Unit IDs", Array.from(values(data.unitIds)).join(", ")],
    ["Noise level", significant(data.noiseLevel)],
    ["Sampling frequency", significant(data.samplingFrequency, 6)],
    ["Num. samples", String(data.numFrames)],
    ["Duration (minutes)", significant(data.numFrames / data.samplingFrequency / 60)],
    ["Num. segments (internal)", String(data.numSegments)],
  ];
  if (data.recordingObject !== undefined) rows.push(["Recording object", JSON.stringify(data.recordingObject)]);
  if (data.sortingObject !== undefined) rows.push(["Sorting object", JSON.stringify(data.sortingObject)]);
  return rows;
}

export function render(elem, data, ctx) {
  const body = summaryRows(data).map(([k, v]) => el("tr", {}, el("td", {}, k), el("td", { class: "value" }, v)));
  elem.replaceChildren(el("div", { class: "sv-summary", style: `height:${ctx.height}px;overflow-y:auto` },
    el("table", { class: "nice-table" }, el("tbody", {}, ...body))));
}
