"""Timeseries segments for the traces view, served from a cached min/max pyramid (``compute/timeseries.py``).

A window [startFrame, endFrame) is returned at the smallest power-of-3 downsampling factor that fits in
``maxSamples`` rows. Factors up to 27 are read straight from the recording (at most 27 x maxSamples / 2
frames). Factors of 81 and more come from pyramid levels kept on disk, one file per level under
``<store dir>/sortingview/pyramids/<recording sha1>/``, built lazily: a level is cut into chunks of 729 bins,
and a chunk is computed only when a window needs it (level 4 from the traces, 81 frames per bin; every
higher level from three chunks of the level below), then flagged as done in the same file. Any window at
any zoom therefore reads at most ~729 x 2 bins x channels per level from the pyramid, the recording is read
at most once in total to build it, and memory stays bounded by one chunk (59,049 frames x channels).

Concurrent builders (several workers) write identical bytes for a chunk and set its flag after the data,
so a reader never sees a flagged chunk that is not written. Stores without a directory (in memory) skip the
cache and reduce the window from the traces block by block.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np

from ..compute.timeseries import bin_range, choose_ds_factor, combine_minmax, interleave, minmax_bins
from ..errors import TaskInputError
from ..store.uri import parse_uri
from ._objects import load_recording
from ._reading import TraceSource, trace_source
from .info import plain
from .registry import register_task

STORED_FROM_LEVEL = 4  # 3**4 = 81 frames per bin: 2/81 of the recording's size for the first stored level
CHUNK_BINS = 729  # bins per chunk at every level
DIRECT_BLOCK_BYTES = 48 * 1024 * 1024  # traces per read: a level-4 chunk of 384 int16 channels
FORMAT_VERSION = 1


@dataclass(frozen=True)
class _Level:
    """One stored level: data (bins, 2, channels) in the recording's dtype, then one flag byte per chunk."""

    path: str
    n_bins: int
    n_chunks: int
    shape: tuple
    dtype: np.dtype

    @property
    def _bin_bytes(self) -> int:
        return 2 * self.shape[2] * self.dtype.itemsize

    def done(self, c0: int, c1: int) -> np.ndarray:
        return np.fromfile(self.path, dtype=np.uint8, count=c1 - c0, offset=self.n_bins * self._bin_bytes + c0)

    def read(self, b0: int, b1: int) -> np.ndarray:
        data = np.fromfile(self.path, dtype=self.dtype, count=(b1 - b0) * 2 * self.shape[2],
                           offset=b0 * self._bin_bytes)
        return data.reshape(b1 - b0, 2, self.shape[2])

    def write_chunk(self, chunk: int, b0: int, lo: np.ndarray, hi: np.ndarray) -> None:
        """Write bins from ``b0`` and then flag the chunk: the flag reaches the disk only after the data
        (fdatasync in between), so even a power cut never leaves a flagged chunk of zeros."""
        block = np.stack([lo, hi], axis=1).astype(self.dtype, copy=False)
        from ..store.private import open_for_write

        fd = open_for_write(self.path)  # never through a planted link, of the file or of a folder above it
        try:
            os.pwrite(fd, block.tobytes(), b0 * self._bin_bytes)
            os.fdatasync(fd)
            os.pwrite(fd, b"\x01", self.n_bins * self._bin_bytes + chunk)
        finally:
            os.close(fd)


class Pyramid:
    """Lazily built min/max levels of one recording (one segment, all channels, raw dtype)."""

    def __init__(self, recording, source: TraceSource, directory: str | None):
        self.recording = recording
        self.source = source
        self.directory = directory
        self.dtype = np.dtype(recording.get_dtype())
        self._levels: dict[int, _Level] = {}
        self._buffer: np.ndarray | None = None

    def minmax(self, level: int, b0: int, b1: int) -> tuple[np.ndarray, np.ndarray]:
        """Raw minima and maxima (bins x channels) of bins [b0, b1) at factor 3**level (level >= 1)."""
        if level < STORED_FROM_LEVEL or self.directory is None:
            return self._direct(3**level, b0, b1)
        lev = self._level(level)
        c0, c1 = b0 // CHUNK_BINS, -(-b1 // CHUNK_BINS)
        for c, done in zip(range(c0, c1), lev.done(c0, c1), strict=True):
            if not done:
                self._build_chunk(level, c)
        window = lev.read(b0, b1)
        return window[:, 0], window[:, 1]

    # --- building ------------------------------------------------------------------------------------------
    def _direct(self, ds: int, b0: int, b1: int) -> tuple[np.ndarray, np.ndarray]:
        """Reduce frames [b0 * ds, b1 * ds) of the recording block by block (blocks hold whole bins)."""
        n = self.source.num_frames
        per_frame = self.source.num_channels * self.dtype.itemsize
        block = max(ds, (DIRECT_BLOCK_BYTES // per_frame) // ds * ds)
        mins, maxs = [], []
        for start in range(b0 * ds, min(b1 * ds, n), block):
            lo, hi = minmax_bins(self._read(start, min(start + block, b1 * ds, n)), ds)
            mins.append(lo)
            maxs.append(hi)
        empty = np.zeros((0, self.source.num_channels), self.dtype)
        return (np.concatenate(mins) if mins else empty), (np.concatenate(maxs) if maxs else empty)

    def _read(self, start: int, end: int) -> np.ndarray:
        """Raw frames [start, end), valid until the next read. A binary file is read with one readinto() of
        the byte range into a reused buffer: page-faulting a memory map in 4 kB steps, or allocating fresh
        pages for every block, is several times slower. Other recordings go through ``get_traces``."""
        raw = self.source.raw_file
        if raw is None or raw.dtype != self.dtype:
            return self.recording.get_traces(start_frame=start, end_frame=end, return_in_uV=False)
        n_ch = self.source.num_channels
        count = (end - start) * n_ch
        if self._buffer is None or self._buffer.size < count:
            self._buffer = np.empty(count, dtype=raw.dtype)
        view = self._buffer[:count]
        with open(raw.path, "rb") as f:
            f.seek(raw.offset + start * n_ch * raw.dtype.itemsize)
            if f.readinto(memoryview(view).cast("B")) != view.nbytes:
                raise TaskInputError(f"the recording file {raw.path} is shorter than its object says; was it "
                                     "truncated after it was stored?")
        return view.reshape(end - start, n_ch)

    def _build_chunk(self, level: int, chunk: int) -> None:
        b0 = chunk * CHUNK_BINS
        b1 = min(b0 + CHUNK_BINS, self._level(level).n_bins)
        if level == STORED_FROM_LEVEL:
            lo, hi = self._direct(3**level, b0, b1)
        else:
            lo, hi = combine_minmax(*self.minmax(level - 1, 3 * b0, min(3 * b1, self._level(level - 1).n_bins)), 3)
        self._level(level).write_chunk(chunk, b0, lo, hi)

    # --- files ---------------------------------------------------------------------------------------------
    def _level(self, level: int) -> _Level:
        if level not in self._levels:
            n_bins = -(-self.source.num_frames // 3**level)
            n_chunks = -(-n_bins // CHUNK_BINS)
            shape = (n_bins, 2, self.source.num_channels)
            path = os.path.join(self.directory, f"level{level}.bin")
            lev = _Level(path, n_bins, n_chunks, shape, self.dtype)
            size = int(np.prod(shape)) * self.dtype.itemsize + n_chunks
            _create_sparse(path, size)
            if os.path.getsize(path) != size:
                raise TaskInputError(f"pyramid file {path} has an unexpected size; delete the folder "
                                     f"{self.directory} and it will be rebuilt")
            self._levels[level] = lev
        return self._levels[level]


def _create_sparse(path: str, size: int) -> None:
    """Create a zero-filled (sparse) file of ``size`` bytes unless it exists; atomic for racing creators."""
    from ..store.private import ensure_file

    ensure_file(path, size=size)  # the store's modes (group-usable in a shared store), never through a link


def pyramid_directory(recording_uri: str, source: TraceSource, dtype: np.dtype) -> str | None:
    """``<store dir>/sortingview/pyramids/<sha1>/`` (None for a store without a directory)."""
    from ..store import get_store

    root = get_store().directory
    if root is None:
        return None
    sha1 = parse_uri(recording_uri).sha1
    directory = os.path.join(root, "sortingview", "pyramids", sha1)
    from ..store.private import makedirs, write_file

    makedirs(directory)
    meta = {"version": FORMAT_VERSION, "numFrames": source.num_frames, "numChannels": source.num_channels,
            "dtype": np.dtype(dtype).str, "chunkBins": CHUNK_BINS, "storedFromLevel": STORED_FROM_LEVEL}
    meta_path = os.path.join(directory, "pyramid.json")
    if not os.path.exists(meta_path):
        write_file(meta_path, json.dumps(meta).encode("utf-8"))
    else:
        with open(meta_path) as f:
            if json.load(f) != meta:
                raise TaskInputError(f"the pyramid cache in {directory} was built differently; delete that folder "
                                     "and it will be rebuilt")
    return directory


def _channel_indices(recording, channel_ids: list | None) -> np.ndarray:
    ids = [plain(c) for c in recording.get_channel_ids()]
    if channel_ids is None:
        return np.arange(len(ids))
    text = {str(c): i for i, c in enumerate(ids)}
    missing = [c for c in channel_ids if str(c) not in text]
    if missing or not channel_ids:
        raise TaskInputError(f"channelIds must list channels of the recording; {missing or 'none given'} "
                             f"not among {ids[:20]}{' ...' if len(ids) > 20 else ''}")
    return np.array([text[str(c)] for c in channel_ids])


def _scaled(raw: np.ndarray, source: TraceSource, chans: np.ndarray) -> np.ndarray:
    return source.to_uv(raw[:, chans], chans)


def _level_of(ds: int) -> int:
    level = 0
    while ds > 1:
        ds //= 3
        level += 1
    return level


@register_task("sortingview.timeseries_segment.1", handler="timeseries")
def timeseries_segment(recording: str, startFrame: int, endFrame: int, channelIds: list | None = None,
                       maxSamples: int = 2000) -> dict:
    """Traces of frames [startFrame, endFrame), min/max-downsampled by a power of 3 to fit ``maxSamples`` rows."""
    rec = load_recording(recording)
    source = trace_source(rec)
    _check_window(source, startFrame, endFrame, maxSamples)
    directory = None
    if choose_ds_factor(startFrame, endFrame, maxSamples) >= 3**STORED_FROM_LEVEL:
        directory = pyramid_directory(recording, source, rec.get_dtype())
    return timeseries_segment_of(rec, directory, startFrame, endFrame, channelIds, maxSamples)


def _check_window(source: TraceSource, start: int, end: int, max_samples: int) -> None:
    if not 0 <= start < end <= source.num_frames:
        raise TaskInputError(f"need 0 <= startFrame < endFrame <= numFrames ({source.num_frames}); got "
                             f"startFrame={start}, endFrame={end}")
    if max_samples < 2:
        raise TaskInputError(f"maxSamples must be at least 2, got {max_samples}")


def timeseries_segment_of(rec, pyramid_dir: str | None, start: int, end: int, channel_ids: list | None,
                          max_samples: int) -> dict:
    """The task's body on a loaded recording, with its pyramid folder (None: no cache)."""
    source = trace_source(rec)
    _check_window(source, start, end, max_samples)
    chans = _channel_indices(rec, channel_ids)
    ds = choose_ds_factor(start, end, max_samples)
    result = {"dsFactor": ds, "samplingFrequency": source.sampling_frequency,
              "channelIds": [plain(rec.get_channel_ids()[i]) for i in chans],
              "unit": "uV" if source.has_gains else "raw"}
    if ds == 1:
        raw = rec.get_traces(start_frame=start, end_frame=end, return_in_uV=False)
        return {**result, "startFrame": start, "endFrame": end, "traces": _scaled(raw, source, chans)}
    b0, b1 = bin_range(start, end, ds)
    lo, hi = Pyramid(rec, source, pyramid_dir).minmax(_level_of(ds), b0, b1)
    lo, hi = _scaled(lo, source, chans), _scaled(hi, source, chans)
    # a negative gain swaps which raw extreme is the smaller one
    lo, hi = np.minimum(lo, hi), np.maximum(lo, hi)
    return {**result, "startFrame": b0 * ds, "endFrame": min(b1 * ds, source.num_frames),
            "traces": interleave(lo, hi)}
