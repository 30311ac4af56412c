"""Average waveforms, and the per-unit templates every snippet-based task starts from.

A unit's template is computed from at most ``maxSpikesPerUnit`` of its spikes, drawn spread over the whole
recording with a seed that depends only on the unit (so every task sees the same spikes for a unit). Spikes
whose snippet would cross the start or end of the recording are left out (see ``compute/snippets.py``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..compute.neighborhood import nearest_channels
from ..compute.snippets import (
    accumulate_moments,
    exact_in_float32,
    gather_snippets,
    inside_recording,
    select_spread,
    unit_seed,
)
from ..compute.waveforms import mean_and_std, peak_channel_index, peak_frame_index, scale_waveforms
from ..errors import TaskInputError
from . import _shared, fused_pass
from ._objects import load_recording, load_sorting, resolve_units, unit_spike_train
from ._packing import channel_index_table, concatenated, spike_offsets
from ._reading import TraceSource, block_workers, kernel_threads, map_blocks, trace_source
from .registry import register_task
from .spike_pass import clear as clear_pass
from .spike_pass import keep as keep_pass
from .spike_pass import spike_pass

# the moment accumulators (2 or one per thread x groups x frames x channels float64) are kept under this many
# bytes per pass (500 units x 90 frames x 384 channels: 133 MB each)
_MOMENT_BYTES = 384 * 1024 * 1024


@dataclass
class UnitTemplate:
    unit: Any
    frames: np.ndarray  # the selected spike frames (sorted)
    mean: np.ndarray  # frames x channels, microvolts (raw units when the recording has no gains)
    std: np.ndarray | None  # None unless asked for (unit_templates(with_std=True))
    peak_channel: int | None  # None when the unit has no usable spike
    peak_frame: int | None


def _whole(value: Any) -> Any:
    """JSON may carry 30.0 for 30: integral floats count as integers."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def check_snippet_len(snippet_len: Any) -> tuple[int, int]:
    if isinstance(snippet_len, (list, tuple)):
        snippet_len = [_whole(v) for v in snippet_len]
    ok = (isinstance(snippet_len, (list, tuple)) and len(snippet_len) == 2
          and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in snippet_len))
    if not ok or snippet_len[0] + snippet_len[1] < 1:
        raise TaskInputError(f"snippetLen must be [framesBefore, framesAfter] (non-negative integers, total at "
                             f"least 1), e.g. [30, 60]; got {snippet_len!r}")
    return int(snippet_len[0]), int(snippet_len[1])


def check_positive(name: str, value: Any, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    value = _whole(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise TaskInputError(f"{name} must be a positive integer{' or null' if allow_none else ''}, got {value!r}")
    return value


def selected_frames(sorting, unit: Any, source: TraceSource, before: int, after: int,
                    max_spikes: int | None) -> np.ndarray:
    """The unit's spikes with a whole snippet inside the recording, at most ``max_spikes``, spread in time."""
    train = unit_spike_train(sorting, unit)
    train = train[inside_recording(train, before, after, source.num_frames)]
    return train[select_spread(len(train), max_spikes, unit_seed(unit))]


def merged_spikes(frames_per_unit: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """All units' frames in one time-sorted array, with the unit index of each."""
    groups = np.concatenate([np.full(len(f), i, np.int64) for i, f in enumerate(frames_per_unit)] or [[]])
    frames = np.concatenate(frames_per_unit or [[]]).astype(np.int64)
    order = np.argsort(frames, kind="stable")
    return frames[order], groups[order].astype(np.int64)


def unit_moments(source: TraceSource, frames_per_unit: list[np.ndarray], before: int,
                 after: int, with_std: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """Mean and std (microvolts; units x frames x channels) of each unit's snippets on every channel.

    Without ``with_std`` the std is None and the pass does a quarter of the work (the means are identical),
    on :func:`block_workers` threads.
    """
    n_units, length = len(frames_per_unit), before + after
    workers = 1 if with_std else block_workers(source)
    per_unit = (2 if with_std else workers) * length * source.num_channels * 8
    batch = max(1, _MOMENT_BYTES // per_unit)
    means, stds = [], []
    for b0 in range(0, max(n_units, 1), batch):
        part = frames_per_unit[b0:b0 + batch]
        sums, sumsq = _unit_sums(source, part, before, length, with_std, workers)
        counts = np.array([len(f) for f in part])
        if sumsq is None:
            means.append(means_of_sums(source, sums, counts))
            continue
        mean, std = scale_waveforms(*mean_and_std(sums, sumsq, counts), source.gains, source.offsets)
        means.append(mean.astype(np.float32))
        stds.append(std.astype(np.float32))
    std = np.concatenate(stds)[:n_units] if with_std else None
    return np.concatenate(means)[:n_units], std


def means_of_sums(source: TraceSource, sums: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Means in microvolts (float32) of raw float64 ``sums`` (units x frames x channels; divided in place)."""
    with np.errstate(invalid="ignore", divide="ignore"):  # in place, as mean_and_std and the scaling do
        sums /= np.asarray(counts).astype(np.float64)[:, None, None]
    sums *= source.gains
    sums += source.offsets
    return sums.astype(np.float32)


def _unit_sums(source: TraceSource, part: list[np.ndarray], before: int, length: int, with_std: bool,
               workers: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Sums (and sums of squares) of each unit's snippets, float64; each worker thread adds into its own.

    Sums alone of 8/16-bit samples are added in float32 when that is exact (at most 512 int16 spikes a unit:
    ``exact_in_float32``), 3x faster, and returned as float64: the same values.
    """
    count = max([len(f) for f in part] or [0])
    exact32 = not with_std and exact_in_float32(source.recording.get_dtype(), count)
    sums = [np.zeros((len(part), length, source.num_channels), np.float32 if exact32 else np.float64)
            for _ in range(workers)]
    sumsq = np.zeros_like(sums[0]) if with_std else None
    frames, groups = merged_spikes(part)

    def add(i0: int, i1: int, block: np.ndarray, start: int, worker: int) -> None:
        accumulate_moments(block, frames[i0:i1] - start, groups[i0:i1], before, sums[worker], sumsq)

    map_blocks(source, frames, before, length - before, add, workers)
    for other in sums[1:]:  # exact: sums of 8/16-bit integers (block_workers), in any order
        sums[0] += other
    return sums[0].astype(np.float64, copy=False), sumsq


def read_snippets(source: TraceSource, frames_per_unit: list[np.ndarray], channels_per_unit: list[np.ndarray],
                  before: int, after: int) -> list[np.ndarray]:
    """Each unit's snippets (n x frames x its channels, microvolts), read in one time-ordered pass."""
    width = max((len(c) for c in channels_per_unit), default=0)
    table = np.zeros((len(channels_per_unit), width), np.int64)
    for i, c in enumerate(channels_per_unit):
        table[i, :len(c)] = c
    frames, groups = merged_spikes(frames_per_unit)
    # output rows: units one after the other, each in time order (a stable sort by unit keeps time order)
    first = np.concatenate([[0], np.cumsum([len(f) for f in frames_per_unit])]).astype(np.int64)
    rank = np.empty(len(frames), np.int64)
    rank[np.argsort(groups, kind="stable")] = np.arange(len(frames))
    out = np.empty((len(frames), before + after, width), np.float32)

    def gather(i0: int, i1: int, block: np.ndarray, start: int, _worker: int) -> None:
        gather_snippets(block, frames[i0:i1] - start, groups[i0:i1], table, before, out, rank[i0:i1])

    # a copy into rows of its own per spike: the same on any number of threads (the kernel releases the GIL)
    map_blocks(source, frames, before, after, gather, kernel_threads())
    return [source.scale_in_place(out[first[g]:first[g + 1], :, :len(c)], c)
            for g, c in enumerate(channels_per_unit)]


def channel_locations(recording) -> np.ndarray:
    """Contact positions, or the channel index as a 1-d position when the recording has no probe."""
    try:
        return np.asarray(recording.get_channel_locations(), dtype=np.float64)
    except Exception:  # spikeinterface raises a bare Exception when no probe is attached
        return np.arange(recording.get_num_channels(), dtype=np.float64)[:, None]


def unit_templates(recording, sorting, units: list[Any], before: int, after: int,
                   max_spikes: int | None, *, with_std: bool = False) -> list[UnitTemplate]:
    """Templates of ``units`` (ids or merge groups) from one time-ordered pass over the recording.

    ``std`` of each template is None unless ``with_std``. The last result is kept for the next call with the
    same objects and arguments (see :data:`_LAST_TEMPLATES`).
    """
    key = (json.dumps(as_json_unit(list(units))), before, after, max_spikes)
    hit = _last_templates(recording, sorting, key, with_std)
    if hit is not None:
        return hit
    source = trace_source(recording)
    _check_same_rate(recording, sorting)
    shared = None if with_std else _shared_key(recording, sorting, units, before, after, max_spikes)
    if shared is None:
        out, mean = _templates(source, sorting, units, before, after, max_spikes, with_std)
    else:  # computed once for every process of the store (tasks/_shared.py)
        with _shared.once(_shared.TEMPLATES, shared) as slot:
            if slot.value is not None:
                out, mean = _templates_from_stored(units, slot.value)
            else:
                out, mean = _templates(source, sorting, units, before, after, max_spikes, with_std)
                slot.save(_for_storing(out, mean))
    _keep_here(recording, sorting, key, with_std, out, mean)
    return out


def keep_from_sums(recording, sorting, units: list[Any], frames: list[np.ndarray], before: int, after: int,
                   max_spikes: int | None, sums: np.ndarray, finish) -> None:
    """Keep the templates and the spike pass of a fused read made elsewhere (``fused_pass.FusedRead``, fed by
    the link's read: tasks/link_pass.py) as :func:`unit_templates` and ``spike_pass`` would have kept them: for
    this process's next task, and under the keys the store's processes share (tasks/_shared.py)."""
    source = trace_source(recording)
    mean = means_of_sums(source, sums, np.array([len(f) for f in frames]))
    out = _with_peaks(units, frames, mean, None)
    shared = _shared_key(recording, sorting, units, before, after, max_spikes)
    if shared is not None:
        with _shared.once(_shared.TEMPLATES, shared) as slot:
            if slot.value is None:
                slot.save(_for_storing(out, mean))
    _keep_here(recording, sorting, (json.dumps(as_json_unit(list(units))), before, after, max_spikes), False, out,
               mean)
    keep_pass(recording, sorting, source, finish(out)[0])


def _shared_key(recording, sorting, units: list[Any], before: int, after: int, max_spikes: int | None) -> dict | None:
    return _shared.key_for(recording, sorting, units=as_json_unit(list(units)), before=before, after=after,
                           maxSpikes=max_spikes)


def _for_storing(out: list[UnitTemplate], mean: np.ndarray) -> dict:
    return {"counts": np.array([len(t.frames) for t in out], np.int64),
            "frames": concatenated([t.frames for t in out], np.int64),
            "means": mean, "peaks": np.array([[-1, -1] if t.peak_channel is None else
                                              [t.peak_channel, t.peak_frame] for t in out], np.int64)}


def _keep_here(recording, sorting, key: tuple, with_std: bool, out: list[UnitTemplate], mean: np.ndarray) -> None:
    if mean.nbytes * (2 if with_std else 1) <= _KEEP_TEMPLATE_BYTES:
        _LAST_TEMPLATES[:] = [(recording, sorting, key, with_std, out)]


def _templates(source: TraceSource, sorting, units: list[Any], before: int, after: int, max_spikes: int | None,
               with_std: bool) -> tuple[list[UnitTemplate], np.ndarray]:
    """The templates of ``units`` and their means (units x frames x channels) from one pass."""
    frames = [selected_frames(sorting, u, source, before, after, max_spikes) for u in units]
    fused = None
    if not with_std and _shared.reusing() and fused_pass.wanted(source, frames, before, after):
        # one read for these templates and the spike pass the next tasks ask for (tasks/fused_pass.py)
        fused = fused_pass.templates_and_pass(source, sorting, units, frames, before, after,
                                              channel_locations(source.recording), _MOMENT_BYTES)
    if fused is not None:
        mean, std = means_of_sums(source, fused[0], np.array([len(f) for f in frames])), None
    else:
        mean, std = unit_moments(source, frames, before, after, with_std)
    out = _with_peaks(units, frames, mean, std)
    if fused is not None:
        keep_pass(source.recording, sorting, source, fused[1](out)[0])
    return out, mean


def _with_peaks(units: list[Any], frames: list[np.ndarray], mean: np.ndarray,
                std: np.ndarray | None) -> list[UnitTemplate]:
    out = []
    for i, u in enumerate(units):
        unit_std = None if std is None else std[i]
        if len(frames[i]) == 0:
            out.append(UnitTemplate(u, frames[i], mean[i], unit_std, None, None))
            continue
        pc = peak_channel_index(mean[i])
        out.append(UnitTemplate(u, frames[i], mean[i], unit_std, pc, peak_frame_index(mean[i][:, pc])))
    return out


def _templates_from_stored(units: list[Any], stored: dict) -> tuple[list[UnitTemplate], np.ndarray]:
    """The templates another process stored (``_templates`` and the peaks it found)."""
    mean = stored["means"]
    at = spike_offsets(stored["counts"])
    out = []
    for i, u in enumerate(units):
        frames = stored["frames"][at[i]:at[i + 1]]
        pc, pf = (int(x) for x in stored["peaks"][i])
        out.append(UnitTemplate(u, frames, mean[i], None, None if pc < 0 else pc, None if pc < 0 else pf))
    return out, mean


#: the last templates computed in this process: (recording, sorting, key, with_std, templates). The templates
#: pass over all channels is the costly part of every snippet task (500 units x 384 channels: seconds), and a
#: precompute asks for the same units' templates in unit_metrics, average_waveforms and spike_amplitudes.
#: Extractor objects are compared by identity (a recording is immutable content), so a hit is the same data.
_LAST_TEMPLATES: list = []
_KEEP_TEMPLATE_BYTES = 512 * 1024 * 1024


def clear() -> None:
    """Forget the kept templates and spike pass (tests)."""
    _LAST_TEMPLATES.clear()
    clear_pass()


def _last_templates(recording, sorting, key: tuple, with_std: bool) -> list[UnitTemplate] | None:
    if not _shared.reusing():
        _LAST_TEMPLATES.clear()
        return None
    for rec, srt, k, has_std, out in _LAST_TEMPLATES:
        if rec is recording and srt is sorting and k == key and (has_std or not with_std):
            return out
    return None


def _check_same_rate(recording, sorting) -> None:
    fr, fs = recording.get_sampling_frequency(), sorting.get_sampling_frequency()
    if abs(fr - fs) > 1e-6 * fr:
        raise TaskInputError(f"the recording is sampled at {fr} Hz but the sorting at {fs} Hz; they do not belong "
                             "together (spike frames would point at the wrong samples)")


def as_json_unit(unit: Any) -> Any:
    if isinstance(unit, (list, tuple)):
        return [as_json_unit(u) for u in unit]
    return unit.item() if hasattr(unit, "item") else unit


@register_task("sortingview.average_waveforms.1", handler="waveforms")
def average_waveforms(recording: str, sorting: str, unitIds: list | None = None,
                      snippetLen: list[int] = (30, 60), maxSpikesPerUnit: int = 500,
                      neighborhoodSize: int = 7) -> dict:
    """Average waveform and its standard deviation of each unit on the channels around its peak channel."""
    before, after = check_snippet_len(list(snippetLen))
    maxSpikesPerUnit = check_positive("maxSpikesPerUnit", maxSpikesPerUnit)
    neighborhoodSize = check_positive("neighborhoodSize", neighborhoodSize)
    rec, sort = load_recording(recording), load_sorting(sorting)
    return average_waveforms_of(rec, sort, resolve_units(sort, unitIds), before, after, maxSpikesPerUnit,
                                neighborhoodSize)


def average_waveforms_of(rec, sort, units: list[Any], before: int, after: int, max_spikes: int,
                         size: int) -> dict:
    """The result of ``average_waveforms`` for loaded extractors and validated inputs."""
    channel_ids = rec.get_channel_ids()
    locations = channel_locations(rec)
    entries = []
    templates = unit_templates(rec, sort, units, before, after, max_spikes)
    chans = [None if t.peak_channel is None else nearest_channels(locations, t.peak_channel, size)
             for t in templates]
    stds = spike_pass(rec, sort, templates, before, after, chans, [t.frames for t in templates]).stds
    for t, c, std in zip(templates, chans, stds, strict=True):
        entry = {"unitId": as_json_unit(t.unit), "numSpikes": len(t.frames), "peakChannelId": None,
                 "channelIds": [], "waveform": None, "waveformStdDev": None}
        if c is not None:
            entry.update(peakChannelId=as_json_unit(channel_ids[t.peak_channel]),
                         channelIds=[as_json_unit(x) for x in channel_ids[c]], waveform=t.mean[:, c],
                         waveformStdDev=std)
        entries.append(entry)
    return {"samplingFrequency": rec.get_sampling_frequency(), "snippetLen": [before, after],
            "averageWaveforms": entries}


@register_task("sortingview.average_waveforms.2", handler="waveforms")
def average_waveforms_packed(recording: str, sorting: str, unitIds: list | None = None,
                             snippetLen: list[int] = (30, 60), maxSpikesPerUnit: int = 500,
                             neighborhoodSize: int = 7) -> dict:
    """As ``.1``, packed: one units x frames x channels array for the means and one for the deviations."""
    before, after = check_snippet_len(list(snippetLen))
    maxSpikesPerUnit = check_positive("maxSpikesPerUnit", maxSpikesPerUnit)
    neighborhoodSize = check_positive("neighborhoodSize", neighborhoodSize)
    rec, sort = load_recording(recording), load_sorting(sorting)
    units = resolve_units(sort, unitIds)
    locations = channel_locations(rec)
    width = min(neighborhoodSize, rec.get_num_channels())
    templates = unit_templates(rec, sort, units, before, after, maxSpikesPerUnit)
    chans = [None if t.peak_channel is None else nearest_channels(locations, t.peak_channel, width)
             for t in templates]
    deviations = spike_pass(rec, sort, templates, before, after, chans, [t.frames for t in templates]).stds
    means = np.full((len(units), before + after, width), np.nan, np.float32)
    stds = means.copy()
    for i, (t, c) in enumerate(zip(templates, chans, strict=True)):
        if c is not None:
            means[i], stds[i] = t.mean[:, c], deviations[i]
    return {"samplingFrequency": rec.get_sampling_frequency(), "snippetLen": [before, after],
            "unitIds": [as_json_unit(u) for u in units],
            "numSpikes": np.array([len(t.frames) for t in templates], np.int64),
            "channelIds": [as_json_unit(c) for c in rec.get_channel_ids()],
            "peakChannelIndices": np.array([-1 if t.peak_channel is None else t.peak_channel for t in templates],
                                           np.int32),
            "channelIndices": channel_index_table(chans, width), "waveforms": means, "waveformStdDevs": stds}
