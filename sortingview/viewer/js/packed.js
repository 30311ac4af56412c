// Unpacking the `.2` task results (doc/tasks.md, "Packed results"): a few large arrays plus index fields
// (unitIds, spikeOffsets, channelIndices) become the per-unit shapes the views and the store hold. Rows are
// typed-array views into the decoded arrays (no copy).
import { NDArray, toList } from "./api.js";
import { unitKey } from "./store.js";

// A unit's key: its id as text; a merge group (a list of ids) as its members' keys joined by "+"
export const packedKey = (id) => (Array.isArray(id) ? id.map(unitKey).join("+") : unitKey(id));

// autocorrelograms.2 -> {binEdgesSec, byUnit: {key: counts}}
export function unpackAutocorrelograms(r) {
  const byUnit = {};
  r.unitIds.forEach((u, i) => { byUnit[packedKey(u)] = r.binCounts.row(i); });
  return { binEdgesSec: r.binEdgesSec.data, byUnit };
}

// cross_correlograms.2 -> [{unitId1, unitId2, binCounts}], the ids as the task gives them
export function unpackCrossCorrelograms(r) {
  return r.unitIds1.map((u1, k) => ({ unitId1: u1, unitId2: r.unitIds2[k], binCounts: r.binCounts.row(k) }));
}

// spike_amplitudes.2 -> [{unitId, peakChannelId, timesSec, amplitudes}], one per unit of the result
export function unpackSpikeAmplitudes(r) {
  const offsets = r.spikeOffsets.data;
  return r.unitIds.map((u, i) => {
    const [a, b] = [offsets[i], offsets[i + 1]];
    return {
      unitId: u, peakChannelId: r.peakChannelIds[i],
      timesSec: new NDArray([b - a], "float64", r.timesSec.data.subarray(a, b)),
      amplitudes: new NDArray([b - a], "float32", r.amplitudes.data.subarray(a, b)),
    };
  });
}

// average_waveforms.2 -> {waveforms: {key: {unitId, numSpikes, peakChannelId, channelIds, waveform,
// waveformStdDev}}, peakChannels: {key: channel id}}; waveforms are (frames x channels), null for a unit
// without a peak channel (as in `.1`)
export function unpackAverageWaveforms(r) {
  const channelIds = toList(r.channelIds);
  const [n, frames, k] = r.waveforms.shape;
  const waveforms = {};
  const peakChannels = {};
  for (let i = 0; i < n; i++) {
    const key = packedKey(r.unitIds[i]);
    const peak = r.peakChannelIndices.data[i];
    const peakChannelId = peak < 0 ? null : channelIds[peak];
    const slice = (a) => new NDArray([frames, k], "float32", a.data.subarray(i * frames * k, (i + 1) * frames * k));
    const chans = Array.from(r.channelIndices.row(i)).filter((c) => c >= 0).map((c) => channelIds[c]);
    waveforms[key] = {
      unitId: r.unitIds[i], numSpikes: r.numSpikes.data[i], peakChannelId, channelIds: peak < 0 ? [] : chans,
      waveform: peak < 0 ? null : slice(r.waveforms), waveformStdDev: peak < 0 ? null : slice(r.waveformStdDevs),
    };
    peakChannels[key] = peakChannelId;
  }
  return { waveforms, peakChannels };
}

// unit_metrics.2 -> [{name, label, tooltip, data: {key: value}}], null where the value is NaN (undefined)
export function unpackUnitMetrics(r) {
  const n = r.unitIds.length;
  return r.metrics.map((m, j) => {
    const data = {};
    r.unitIds.forEach((u, i) => {
      const v = r.values.data[j * n + i];
      data[packedKey(u)] = Number.isNaN(v) ? null : v;
    });
    return { ...m, data };
  });
}
