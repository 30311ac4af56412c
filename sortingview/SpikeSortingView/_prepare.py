"""Prepare the data of a SpikeSortingView: one pass over a recording, one .npz file in the store.

As the original (2022) helper, the recording is read in segments of ``segment_duration_sec`` (each padded by
the snippet length): a first pass finds each unit's peak channel (largest mean |value| at its spike frames,
from the first segments holding 10 of its spikes) and its channel neighbourhood (the
``channel_neighborhood_size`` contacts nearest the peak); a second pass records each spike's amplitude (the
value on the peak channel at the spike frame) and the snippets of up to ``max_num_snippets_per_segment``
spikes per unit and segment on the unit's neighbourhood. Snippets are gathered with the compute kernels
(``compute.snippets``); spikes whose snippet would cross the start or end of the recording are not sampled.
Traces are in microvolts when the recording has gains.
"""
from __future__ import annotations

import math
import os
import tempfile
from typing import Any, List, Tuple, Union

import numpy as np

from .. import store
from ..errors import SortingviewError

#: a unit's peak channel is settled once this many of its spikes have been seen (as the original)
PEAK_MIN_SPIKES = 10


class SpikeSortingViewError(SortingviewError, ValueError):
    """SpikeSortingView.create was given something it cannot prepare (the message says what)."""


def _check_args(segment_duration_sec: float, snippet_len: Tuple[int, int], max_num_snippets_per_segment: Any,
                channel_neighborhood_size: int) -> Tuple[int, int]:
    if not (isinstance(segment_duration_sec, (int, float)) and segment_duration_sec > 0):
        raise SpikeSortingViewError(f"segment_duration_sec must be a positive number, got {segment_duration_sec!r}")
    if len(snippet_len) != 2 or min(int(snippet_len[0]), int(snippet_len[1])) < 0 or sum(snippet_len) < 1:
        raise SpikeSortingViewError(f"snippet_len must be (frames before, frames after), got {snippet_len!r}")
    if max_num_snippets_per_segment is not None and int(max_num_snippets_per_segment) < 0:
        raise SpikeSortingViewError("max_num_snippets_per_segment must be None or >= 0, got "
                                    f"{max_num_snippets_per_segment!r}")
    if int(channel_neighborhood_size) < 1:
        raise SpikeSortingViewError(f"channel_neighborhood_size must be >= 1, got {channel_neighborhood_size!r}")
    return int(snippet_len[0]), int(snippet_len[1])


def _read(recording: Any, start: int, end: int) -> np.ndarray:
    scaled = bool(getattr(recording, "has_scaleable_traces", lambda: False)())
    traces = recording.get_traces(segment_index=0, start_frame=start, end_frame=end, return_in_uV=scaled)
    return np.asarray(traces, dtype=np.float32)


def _segments(num_frames: int, per_segment: int, before: int, after: int):
    """(start, end, padded start, padded end) of each segment."""
    for iseg in range(math.ceil(num_frames / per_segment)):
        start = iseg * per_segment
        end = min(start + per_segment, num_frames)
        yield start, end, max(start - before, 0), min(end + after, num_frames)


def _in_segment(trains: List[np.ndarray], start: int, end: int) -> List[Tuple[int, int]]:
    return [(int(np.searchsorted(t, start)), int(np.searchsorted(t, end))) for t in trains]


def _peak_channels(recording: Any, trains: List[np.ndarray], segments: list) -> np.ndarray:
    n_units, n_channels = len(trains), recording.get_num_channels()
    sums = np.zeros((n_units, n_channels), dtype=np.float64)
    counts = np.zeros(n_units, dtype=np.int64)
    for start, end, pstart, pend in segments:
        todo = [u for u in range(n_units) if counts[u] < PEAK_MIN_SPIKES]
        if not todo:
            break
        traces = _read(recording, pstart, pend)
        bounds = _in_segment(trains, start, end)
        for u in todo:
            frames = trains[u][bounds[u][0]:bounds[u][1]]
            sums[u] += traces[frames - pstart].sum(axis=0)
            counts[u] += len(frames)
    empty = [u for u in range(n_units) if counts[u] == 0]
    if empty:
        raise SpikeSortingViewError(f"units at positions {empty[:10]} have no spikes in the recording, so they have "
                                    "no peak channel; remove them with sorting.select_units(...)")
    return np.argmax(np.abs(sums / counts[:, None]), axis=1)


def _sample(frames: np.ndarray, max_count: Union[int, None]) -> np.ndarray:
    """At most ``max_count`` frames evenly strided over the segment (the original's subsampling)."""
    if max_count is None or len(frames) <= max_count:
        return frames
    if max_count == 0:
        return frames[:0]
    stride = len(frames) // max_count
    return frames[0: stride * max_count: stride]


def _second_pass(recording: Any, trains: List[np.ndarray], segments: list, peaks: np.ndarray, table: np.ndarray,
                 snippet_len: Tuple[int, int], max_snippets: Union[int, None]) -> dict:
    from ..compute.snippets import gather_snippets, inside_recording

    before, after = snippet_len
    num_frames = recording.get_num_frames(segment_index=0)
    amplitudes = [np.zeros(len(t), dtype=np.float32) for t in trains]
    picked: List[List[np.ndarray]] = [[] for _ in trains]
    blocks: List[List[np.ndarray]] = [[] for _ in trains]
    for start, end, pstart, pend in segments:
        traces = _read(recording, pstart, pend)
        for u, (i0, i1) in enumerate(_in_segment(trains, start, end)):
            frames = trains[u][i0:i1]
            amplitudes[u][i0:i1] = traces[frames - pstart, peaks[u]]
            chosen = _sample(frames[inside_recording(frames, before, after, num_frames)], max_snippets)
            out = np.zeros((len(chosen), before + after, table.shape[1]), dtype=np.float32)
            gather_snippets(traces, chosen - pstart, np.full(len(chosen), u), table, before, out,
                            np.arange(len(chosen)))
            picked[u].append(chosen)
            blocks[u].append(out)
    sub_frames = [np.concatenate(p) if p else np.zeros(0, np.int64) for p in picked]
    snippets = [np.concatenate(b) if b else np.zeros((0, before + after, table.shape[1]), np.float32)
                for b in blocks]
    return {
        "spike_amplitudes": np.concatenate(amplitudes) if amplitudes else np.zeros(0, np.float32),
        "subsampled_frames": np.concatenate(sub_frames) if sub_frames else np.zeros(0, np.int64),
        "subsampled_offsets": _offsets(sub_frames),
        "snippets": np.concatenate(snippets) if snippets else np.zeros((0, before + after, table.shape[1]),
                                                                       np.float32),
    }


def _offsets(arrays: List[np.ndarray]) -> np.ndarray:
    out = np.zeros(len(arrays) + 1, dtype=np.int64)
    np.cumsum([len(a) for a in arrays], out=out[1:])
    return out


def _neighbourhoods(locations: np.ndarray, peaks: np.ndarray, size: int) -> np.ndarray:
    from ..compute.neighborhood import nearest_channels

    return np.array([nearest_channels(locations, int(p), size) for p in peaks], dtype=np.int64).reshape(
        len(peaks), min(size, len(locations)))


def prepare_spikesortingview_data(*, recording: Any, sorting: Any, segment_duration_sec: float,
                                  snippet_len: Tuple[int, int], max_num_snippets_per_segment: Union[int, None],
                                  channel_neighborhood_size: int, bandpass_filter: bool = False) -> str:
    """Compute the data of a SpikeSortingView and store it; returns the ``sha1://`` URI of the .npz file."""
    snippet_len = _check_args(segment_duration_sec, snippet_len, max_num_snippets_per_segment,
                              channel_neighborhood_size)
    if recording.get_num_segments() != 1 or sorting.get_num_segments() != 1:
        raise SpikeSortingViewError(
            f"SpikeSortingView reads one-segment recordings and sortings; this recording has "
            f"{recording.get_num_segments()} segments and the sorting {sorting.get_num_segments()}. Join them with "
            "spikeinterface's concatenate_recordings / concatenate_sortings, or select one segment")
    if bandpass_filter:
        import spikeinterface.preprocessing as spre

        recording = spre.bandpass_filter(recording)
    fs = float(recording.get_sampling_frequency())
    num_frames = int(recording.get_num_frames(segment_index=0))
    per_segment = max(1, math.ceil(segment_duration_sec * fs))
    segments = list(_segments(num_frames, per_segment, *snippet_len))
    unit_ids = np.array(sorting.get_unit_ids())
    trains = [np.sort(np.asarray(sorting.get_unit_spike_train(unit_id=u, segment_index=0), dtype=np.int64))
              for u in unit_ids]
    trains = [t[(t >= 0) & (t < num_frames)] for t in trains]
    locations = _channel_locations(recording)
    peaks = _peak_channels(recording, trains, segments)
    table = _neighbourhoods(locations, peaks, int(channel_neighborhood_size))
    data = _second_pass(recording, trains, segments, peaks, table, snippet_len,
                        None if max_num_snippets_per_segment is None else int(max_num_snippets_per_segment))
    data.update({
        "unit_ids": unit_ids, "channel_ids": np.array(recording.get_channel_ids()), "channel_locations": locations,
        "sampling_frequency": np.array([fs]), "num_frames": np.array([num_frames], dtype=np.int64),
        "num_segments": np.array([len(segments)]), "num_frames_per_segment": np.array([per_segment]),
        "snippet_len": np.array(snippet_len, dtype=np.int64),
        "max_num_snippets_per_segment": np.array([-1 if max_num_snippets_per_segment is None
                                                  else int(max_num_snippets_per_segment)]),
        "channel_neighborhood_size": np.array([int(channel_neighborhood_size)]),
        "spike_frames": np.concatenate(trains) if trains else np.zeros(0, np.int64),
        "spike_offsets": _offsets(trains), "peak_channel_indices": peaks.astype(np.int64),
        "neighborhoods": table, "traces_sample": _read(recording, 0, min(num_frames, int(fs))),
    })
    return _store_npz(data)


def _channel_locations(recording: Any) -> np.ndarray:
    """The contacts' (x, y); without a probe, channels in a column 20 um apart (neighbourhoods by index)."""
    if recording.get_property("location") is None:
        return np.column_stack([np.zeros(recording.get_num_channels()), 20.0 * np.arange(recording.get_num_channels())])
    return np.asarray(recording.get_channel_locations(), dtype=np.float64)[:, :2]


def _store_npz(data: dict) -> str:
    with tempfile.TemporaryDirectory() as tmpdir:
        path = os.path.join(tmpdir, "spikesortingview.npz")
        np.savez(path, **data)
        return store.store_file(path, label="spikesortingview.npz")
