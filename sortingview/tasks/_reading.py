"""Time-ordered, bounded reading of a recording around spikes.

:func:`iter_blocks` walks time-sorted spike frames and yields blocks of raw traces (frames x all channels)
that cover the snippets of consecutive spikes, each block at most ``max_block_bytes``. A pass therefore
reads each byte of the recording at most once, in time order, and memory does not grow with its length
(tasks that need a unit's peak channel first make two passes; see doc/tasks.md).

Binary int16/float recordings (``BinaryRecordingExtractor``, one segment, time axis 0) are read by
:func:`iter_blocks` through a memory map of just the block's byte range, which is unmapped before the next
block, and by :func:`map_blocks` (what the tasks use) with ``pread`` of just the snippets' bytes into a buffer
per thread of at most ``PREAD_BLOCK_BYTES``: mapping the file's pages into the process cost a page fault every
few snippets, most of a pass's time; copying the same bytes costs less. Either way only the bytes the
snippets need are read, and memory does not grow with the recording. A binary file too large for the page cache
(``direct_io.direct_wanted``) is read by :func:`_map_direct` instead: blocks read ahead on reader threads, whole
with ``O_DIRECT`` where the snippets touch a quarter of their pages or more. Every other recording is read through
``get_traces`` of the block's frame range; there a long gap between spikes starts a new block so the samples
between far-apart spikes are not read.

Samples stay raw (the file's dtype); :class:`TraceSource` carries the per-channel ``gains``/``offsets``
that turn them into microvolts (1 and 0 when the recording has no gains).
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from ..direct_io import direct_wanted
from ..errors import TaskInputError

DEFAULT_BLOCK_BYTES = 64 * 1024 * 1024
# binary files: the buffer each thread reads snippets into (it stays in the process for the whole pass)
PREAD_BLOCK_BYTES = 8 * 1024 * 1024
# ... when the snippets cover at most this share of the block's frames; denser blocks are memory-mapped (the
# snippets then touch most pages, and mapping them costs less than copying every snippet's bytes)
PREAD_SHARE = 0.5
# binary files larger than the page cache (direct_io.direct_wanted): blocks read ahead, of at most this many
# bytes; a block is read whole when its snippets touch at least DIRECT_SHARE of its pages
DIRECT_BLOCK_BYTES = 32 * 1024 * 1024
DIRECT_SHARE = 0.25
# generic path only: a gap longer than this (in frames) between two snippets starts a new get_traces call
GAP_FRAMES = 3000


@dataclass(frozen=True)
class RawFile:
    path: str
    offset: int
    dtype: np.dtype


@dataclass(frozen=True)
class TraceSource:
    """What the readers need to know about a recording (one segment)."""

    recording: Any
    num_frames: int
    num_channels: int
    sampling_frequency: float
    gains: np.ndarray  # float64, per channel; raw * gain + offset = microvolts
    offsets: np.ndarray
    has_gains: bool
    raw_file: RawFile | None

    def to_uv(self, raw: np.ndarray, channel_indices: np.ndarray | None = None) -> np.ndarray:
        """Scale raw samples (channels on the last axis) to microvolts, as float32."""
        if not self.has_gains:
            return np.asarray(raw, dtype=np.float32)
        g = self.gains if channel_indices is None else self.gains[channel_indices]
        o = self.offsets if channel_indices is None else self.offsets[channel_indices]
        return (raw * g + o).astype(np.float32)

    def scale_in_place(self, values: np.ndarray, channel_indices: np.ndarray) -> np.ndarray:
        """Scale float32 raw samples (channels on the last axis) to microvolts in place; return them."""
        if self.has_gains:
            values *= self.gains[channel_indices].astype(np.float32)
            values += self.offsets[channel_indices].astype(np.float32)
        return values


def trace_source(recording) -> TraceSource:
    """Describe ``recording`` for block reading; refuse multi-segment recordings with a clear error."""
    if recording.get_num_segments() != 1:
        raise TaskInputError(
            f"the recording has {recording.get_num_segments()} segments; sortingview views one segment at a "
            "time: select one with recording.select_segments([i]) before storing it"
        )
    n_ch = recording.get_num_channels()
    gains = recording.get_channel_gains() if recording.has_scaleable_traces() else None
    has_gains = gains is not None
    gains = np.ones(n_ch) if gains is None else np.asarray(gains, dtype=np.float64)
    offsets = recording.get_channel_offsets() if has_gains else None
    offsets = np.zeros(n_ch) if offsets is None else np.asarray(offsets, dtype=np.float64)
    return TraceSource(
        recording=recording,
        num_frames=int(recording.get_num_samples(0)),
        num_channels=n_ch,
        sampling_frequency=float(recording.get_sampling_frequency()),
        gains=gains,
        offsets=offsets,
        has_gains=has_gains,
        raw_file=_raw_file(recording),
    )


def _raw_file(recording) -> RawFile | None:
    from spikeinterface.core import BinaryRecordingExtractor

    if not isinstance(recording, BinaryRecordingExtractor):
        return None
    seg = recording._recording_segments[0]
    if seg.time_axis != 0 or not Path(seg.file_path).is_file():
        return None
    return RawFile(str(seg.file_path), int(seg.file_offset), np.dtype(seg.dtype))


def iter_blocks(source: TraceSource, frames: np.ndarray, before: int, after: int,
                max_block_bytes: int = DEFAULT_BLOCK_BYTES) -> Iterator[tuple[int, int, np.ndarray, int]]:
    """Yield ``(i0, i1, block, block_start)``: spikes ``frames[i0:i1]`` have their snippets inside ``block``.

    ``frames`` must be sorted and every snippet ``[t - before, t + after)`` inside the recording. ``block`` is
    raw (frames x channels) and only valid until the next iteration.
    """
    _check_frames(source, frames, before, after, "iter_blocks")
    itemsize = source.raw_file.dtype.itemsize if source.raw_file else 4
    max_frames = max(before + after, max_block_bytes // (source.num_channels * itemsize))
    gap = None if source.raw_file else getattr(source.recording, "read_gap_frames", GAP_FRAMES) + before + after
    for i0, i1 in _groups(np.asarray(frames, np.int64), before, after, max_frames, gap):
        start, end = int(frames[i0]) - before, int(frames[i1 - 1]) + after
        block = _read(source, start, end)
        yield i0, i1, block, start
        del block


def block_workers(source: TraceSource) -> int:
    """How many threads a pass may read and add blocks on: NUMBA_NUM_THREADS (the jobs a user gave the
    kernels), when the samples are 8- or 16-bit integers, so that sums in float64 are exact in any order and
    the result does not depend on how blocks were shared out; else 1."""

    dtype = np.dtype(source.recording.get_dtype())
    if dtype.kind not in "iu" or dtype.itemsize > 2:
        return 1
    return kernel_threads()


def kernel_threads() -> int:
    """NUMBA_NUM_THREADS (the jobs a user gave the kernels), at most the machine's cores."""
    import numba

    return max(1, min(int(numba.config.NUMBA_NUM_THREADS), os.cpu_count() or 1))


def map_blocks(source: TraceSource, frames: np.ndarray, before: int, after: int,
               func: Callable[[int, int, np.ndarray, int, int], None], workers: int = 1,
               max_block_bytes: int | None = None) -> None:
    """Call ``func(i0, i1, block, block_start, worker)`` for every block :func:`iter_blocks` yields, on
    ``workers`` threads (``worker`` is the thread's index, for per-thread accumulators; the numba kernels
    release the GIL). With one worker the blocks come in time order in this thread."""
    if source.raw_file is not None:
        _map_raw_blocks(source, frames, before, after, func, workers, max_block_bytes or DEFAULT_BLOCK_BYTES)
        return
    blocks = iter_blocks(source, frames, before, after, max_block_bytes or DEFAULT_BLOCK_BYTES)
    _share(blocks, workers, lambda item, worker: func(*item, worker))


def _share(items: Iterator, workers: int, handle: Callable[[Any, int], None]) -> None:
    """``handle(item, worker)`` for every item: in order in this thread with one worker, else on ``workers``
    threads that take the next item in turn (the iterator runs under a lock; ``handle`` outside it)."""
    if workers <= 1:
        for item in items:
            handle(item, 0)
        return
    lock = threading.Lock()

    def work(worker: int) -> None:
        while True:
            with lock:
                item = next(items, None)
            if item is None:
                return
            handle(item, worker)

    with ThreadPoolExecutor(workers) as pool:
        for future in [pool.submit(work, w) for w in range(workers)]:
            future.result()


def _check_frames(source: TraceSource, frames: np.ndarray, before: int, after: int, who: str) -> None:
    if len(frames) and (frames[0] - before < 0 or frames[-1] + after > source.num_frames):
        raise ValueError(f"{who} needs snippets inside the recording; filter with inside_recording first")
    if len(frames) > 1 and np.any(np.diff(frames) < 0):
        raise ValueError(f"{who} needs time-sorted frames")


def _map_raw_blocks(source: TraceSource, frames: np.ndarray, before: int, after: int,
                    func: Callable[[int, int, np.ndarray, int, int], None], workers: int, max_block_bytes: int) -> None:
    """:func:`map_blocks` of a binary file: each thread reads the snippets of its block (and only those rows)
    with ``pread`` into a buffer of its own, reused for every block it takes; rows between snippets are left
    as they are (the kernels read only inside snippets). Copying the bytes costs less than mapping the pages of
    the file into the process (one page fault every few snippets), which was most of a pass's time. Blocks
    where the snippets cover more than ``PREAD_SHARE`` of the frames are memory-mapped as before."""
    frames = np.asarray(frames, np.int64)
    _check_frames(source, frames, before, after, "map_blocks")
    raw = source.raw_file
    row = source.num_channels * raw.dtype.itemsize
    if _direct(raw):
        _map_direct(source, frames, before, after, func, workers, min(max_block_bytes, DIRECT_BLOCK_BYTES))
        return
    max_frames = max(before + after, min(max_block_bytes, PREAD_BLOCK_BYTES) // row)
    buffers: list[np.ndarray | None] = [None] * max(1, workers)  # one per thread, made when first needed
    fd = os.open(raw.path, os.O_RDONLY)

    def handle(group: tuple[int, int], worker: int) -> None:
        i0, i1 = group
        start, end = int(frames[i0]) - before, int(frames[i1 - 1]) + after
        if (i1 - i0) * (before + after) > PREAD_SHARE * (end - start):  # dense: most pages are read anyway
            func(i0, i1, _read(source, start, end), start, worker)
            return
        if end - start > max_frames:  # pread writes through an address: never past the buffer
            raise ValueError(f"a block of {end - start} frames does not fit the {max_frames}-frame buffer")
        if buffers[worker] is None:
            buffers[worker] = np.empty((max_frames, source.num_channels), raw.dtype)
        block = buffers[worker][:end - start]
        _pread_snippets(fd, raw, block, start, frames[i0:i1] - before, before + after)
        func(i0, i1, block, start, worker)

    try:
        _share(_groups(frames, before, after, max_frames, None), workers, handle)
    finally:
        os.close(fd)


def _pread_snippets(fd: int, raw: RawFile, block: np.ndarray, start: int, window_starts: np.ndarray,
                    length: int) -> None:
    """Read the windows ``[w, w + length)`` (frames, sorted) of the file into ``block``, a contiguous frames x
    channels buffer whose first row is frame ``start``; the rows between windows are left as they are."""
    from ._pread import pread_windows  # numba: imported when first needed, as the kernels are

    row = block.shape[1] * raw.dtype.itemsize
    if pread_windows(fd, block.ctypes.data, raw.offset + start * row, window_starts - start, length, row):
        raise OSError(f"reading {raw.path} failed (frames {start} to {start + len(block)})")


def reads_whole(source: TraceSource, num_snippets: int, length: int) -> bool:
    """Whether a pass over ``num_snippets`` snippets of ``length`` frames, spread over the recording, reads its
    blocks whole (a binary file read directly whose snippets touch at least ``DIRECT_SHARE`` of its pages):
    then more items in the same pass (every spike's amplitude beside the template spikes') read nothing more."""
    raw = source.raw_file
    if raw is None or not _direct(raw):
        return False
    row = source.num_channels * raw.dtype.itemsize
    return num_snippets * max(length * row, 4096) >= DIRECT_SHARE * source.num_frames * row


def _direct(raw: RawFile) -> bool:
    """Whether ``raw`` is read with :func:`_map_direct` (large, and its samples aligned in the file)."""
    return raw.offset % raw.dtype.itemsize == 0 and direct_wanted(raw.path)


def _map_direct(source: TraceSource, frames: np.ndarray, before: int, after: int,
                func: Callable[[int, int, np.ndarray, int, int], None], workers: int, max_block_bytes: int) -> None:
    """:func:`map_blocks` of a binary file larger than the page cache (``direct_io.direct_wanted``): blocks of
    up to ``max_block_bytes`` are read ahead on reader threads, in time order, and handed to ``workers``
    threads. A block whose snippets touch at least ``DIRECT_SHARE`` of its pages is read whole with
    ``O_DIRECT`` (no copy through the cache: the disk writes into the buffer, and the cores are left to the
    kernels); a sparser block's snippets are read with ``pread`` as in :func:`_map_raw_blocks`."""
    from ..direct_io import File, buffer_bytes_for, prefetched, read_range

    raw = source.raw_file
    row = source.num_channels * raw.dtype.itemsize
    length = before + after
    max_frames = max(length, max_block_bytes // row)
    touched = max(length * row, 4096)  # bytes of pages a snippet brings in, at least one page

    def fill(group: tuple[int, int], buffer: np.ndarray) -> np.ndarray:
        i0, i1 = group
        start, end = int(frames[i0]) - before, int(frames[i1 - 1]) + after
        if (i1 - i0) * touched >= DIRECT_SHARE * (end - start) * row:
            data = read_range(f, buffer, raw.offset + start * row, raw.offset + end * row)
            return data.view(raw.dtype).reshape(end - start, source.num_channels)
        block = buffer[:(end - start) * row].view(raw.dtype).reshape(end - start, source.num_channels)
        _pread_snippets(f.fd, raw, block, start, frames[i0:i1] - before, length)
        return block

    def handle(held, worker: int) -> None:
        (i0, i1), block = held.item, held.data
        try:
            func(i0, i1, block, int(frames[i0]) - before, worker)
        finally:
            held.release()

    with File(raw.path) as f:
        blocks = prefetched(_groups(frames, before, after, max_frames, None), fill,
                            buffer_bytes_for(max_frames * row), holders=max(1, workers))
        try:
            _share(blocks, workers, handle)
        finally:
            blocks.close()


def _groups(frames: np.ndarray, before: int, after: int, max_frames: int, gap: int | None):
    """Cut sorted spikes into runs whose snippets span at most ``max_frames`` (and, if ``gap``, no long gaps)."""
    n = len(frames)
    i0 = 0
    while i0 < n:
        limit = frames[i0] - before + max_frames - after  # last spike frame that still fits
        i1 = int(np.searchsorted(frames, limit, side="right"))
        i1 = max(i1, i0 + 1)
        if gap is not None and i1 - i0 > 1:
            jumps = np.nonzero(np.diff(frames[i0:i1]) > gap)[0]
            if len(jumps):
                i1 = i0 + int(jumps[0]) + 1
        yield i0, i1
        i0 = i1


def _read(source: TraceSource, start: int, end: int) -> np.ndarray:
    raw = source.raw_file
    if raw is None:
        return source.recording.get_traces(segment_index=0, start_frame=start, end_frame=end, return_in_uV=False)
    row = source.num_channels * raw.dtype.itemsize
    # a map of just this block: its pages leave the process when the block is dropped
    return np.memmap(raw.path, dtype=raw.dtype, mode="r", offset=raw.offset + start * row,
                     shape=(end - start, source.num_channels))
