"""Recording and sorting summaries: ``recording_info`` (with noise levels) and ``sorting_info``."""
from __future__ import annotations

import collections
import threading
import weakref
from typing import Any

import numpy as np

from ..compute.noise import mad_noise_levels, mad_noise_levels_of_integers, random_chunk_starts
from ._objects import load_recording, load_sorting
from ._reading import trace_source
from ._shared import reusing, uri_of
from .registry import register_task

#: defaults shared by every task that needs a recording's noise level (as spikeinterface's get_noise_levels)
NOISE_NUM_CHUNKS = 20
NOISE_CHUNK_FRAMES = 10000
NOISE_SEED = 0


def recording_noise_levels(recording, num_chunks: int = NOISE_NUM_CHUNKS, chunk_frames: int = NOISE_CHUNK_FRAMES,
                           seed: int = NOISE_SEED) -> np.ndarray:
    """Per-channel noise (MAD / 0.6745 on seeded random chunks, see ``compute/noise.py``), float32.

    In microvolts when the recording has gains, else in its raw units. Chunks are read one at a time in time
    order, so memory holds a single chunk whatever the recording's length. Kept per recording object, and per
    stored recording's URI (:func:`keep_noise_levels`) while templates are reused (``_shared.reusing``).
    """
    key = (num_chunks, chunk_frames, seed)
    known = _NOISE_LEVELS.setdefault(recording, {})
    uri = uri_of(recording) if reusing() else None  # (SORTINGVIEW_REUSE_TEMPLATES=0: each task on its own)
    if key not in known and key == _DEFAULTS and uri is not None:
        with _noise_lock:
            kept = _NOISE_BY_URI.get(uri)
        if kept is not None:
            known[key] = kept
    if key not in known:
        source = trace_source(recording)
        starts, size = random_chunk_starts(source.num_frames, chunk_frames, num_chunks, seed)
        chunks = (recording.get_traces(start_frame=int(s), end_frame=int(s) + size, return_in_uV=False)
                  for s in starts)
        dtype = np.dtype(recording.get_dtype())
        if dtype.kind in "iu" and dtype.itemsize <= 2:  # the same levels, counted instead of sorted (~40x faster)
            known[key] = mad_noise_levels_of_integers(chunks, source.gains, source.offsets)
        else:
            known[key] = mad_noise_levels(source.to_uv(c) for c in chunks)
        if key == _DEFAULTS and uri is not None:
            keep_noise_levels(uri, known[key])
    return known[key].copy()


def raw_file_noise_levels(source, num_chunks: int = NOISE_NUM_CHUNKS, chunk_frames: int = NOISE_CHUNK_FRAMES,
                          seed: int = NOISE_SEED) -> np.ndarray:
    """:func:`recording_noise_levels` of a binary file of 8/16-bit samples (``source.raw_file``), bit for bit,
    its chunks read with ``O_DIRECT`` where the file allows it: read beside another read of the file (the
    link's, tasks/link_pass.py), they leave nothing in the page cache to slow it."""
    from ..direct_io import File, aligned_buffer, buffer_bytes_for, read_range

    raw = source.raw_file
    starts, size = random_chunk_starts(source.num_frames, chunk_frames, num_chunks, seed)
    row = source.num_channels * raw.dtype.itemsize
    with File(raw.path) as f:
        buffer = aligned_buffer(buffer_bytes_for(size * row))
        chunks = (read_range(f, buffer, raw.offset + int(s) * row, raw.offset + (int(s) + size) * row)
                  .view(raw.dtype).reshape(size, source.num_channels) for s in starts)
        return mad_noise_levels_of_integers(chunks, source.gains, source.offsets)


def keep_noise_levels(uri: str, levels: np.ndarray) -> None:
    """Keep ``levels`` (with the defaults) as those of the stored recording object at ``uri``, for the next
    tasks of this process (the last few recordings')."""
    with _noise_lock:
        _NOISE_BY_URI[uri] = levels.copy()
        _NOISE_BY_URI.move_to_end(uri)
        while len(_NOISE_BY_URI) > _KEEP_NOISE:
            _NOISE_BY_URI.popitem(last=False)


_DEFAULTS = (NOISE_NUM_CHUNKS, NOISE_CHUNK_FRAMES, NOISE_SEED)
#: noise levels per recording object (immutable content), so that unit_metrics does not read the chunks
#: recording_info read again
_NOISE_LEVELS: "weakref.WeakKeyDictionary[Any, dict]" = weakref.WeakKeyDictionary()
#: and per stored recording's URI (each task loads an object of its own; the link keeps them here too)
_NOISE_BY_URI: "collections.OrderedDict[str, np.ndarray]" = collections.OrderedDict()
_KEEP_NOISE = 8
_noise_lock = threading.Lock()


def plain(value: Any) -> Any:
    """A numpy scalar as the Python value JSON needs (ids come back from JSON as str/int)."""
    return value.item() if hasattr(value, "item") else value


def _channel_locations(recording) -> list | None:
    try:
        locations = recording.get_channel_locations()
    except Exception:  # spikeinterface raises a bare Exception when a recording has no probe or locations
        return None
    return np.asarray(locations, dtype=float).tolist()


@register_task("sortingview.recording_info.1", handler="misc")
def recording_info(recording: str) -> dict:
    """Sampling frequency, size, channels (ids, locations) and per-channel noise levels of a recording."""
    rec = load_recording(recording)
    source = trace_source(rec)
    return {
        "samplingFrequency": source.sampling_frequency,
        "numFrames": source.num_frames,
        "durationSec": source.num_frames / source.sampling_frequency,
        "numChannels": source.num_channels,
        "channelIds": [plain(c) for c in rec.get_channel_ids()],
        "channelLocations": _channel_locations(rec),
        "channelGainsToUv": source.gains if source.has_gains else None,
        "dtype": str(rec.get_dtype()),
        "noiseLevels": recording_noise_levels(rec),
        "noiseLevelsUnit": "uV" if source.has_gains else "raw",
    }


@register_task("sortingview.sorting_info.1", handler="misc")
def sorting_info(sorting: str) -> dict:
    """Unit ids, sampling frequency and spike counts (total and per unit, all segments) of a sorting."""
    srt = load_sorting(sorting)
    unit_ids = [plain(u) for u in srt.get_unit_ids()]
    per_unit = np.asarray(srt.count_num_spikes_per_unit(outputs="array"), dtype=np.int64)
    return {
        "unitIds": unit_ids,
        "samplingFrequency": float(srt.get_sampling_frequency()),
        "numSegments": int(srt.get_num_segments()),
        "numSpikes": int(per_unit.sum()),
        "numSpikesPerUnit": per_unit,
    }
