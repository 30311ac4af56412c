"""The templates and the spike pass from one read, for files read in whole blocks.

A precompute reads the recording for the templates (``waveforms.unit_templates``: the template spikes'
snippets summed on all channels) and then once more for what depends on each template's peak
(``spike_pass``: every spike's amplitude on the peak channel at the peak frame, and the template spikes'
deviations on the channels around the peak). When the file is read in whole blocks anyway (a file larger
than the page cache, read directly: ``_reading.reads_whole``), the second read is the cost of a whole pass
(41.5 GB: 15 s) for a few samples per spike.

Here both come from one read. The peak is not known while the file is read, so a first look at a few
spikes of each unit (:data:`LOOK_SPIKES`, read snippet by snippet with ``O_DIRECT``: about 1 % of the file)
names **candidates**: the :data:`CANDIDATE_CHANNELS` channels where that estimate is largest, each with the
:data:`CANDIDATE_FRAMES` frames around its own peak. A unit the look cannot judge (its estimate's peak less
than :data:`CLEAR_RATIO` times the median channel's: units near the noise, about a fifth of a generated
Neuropixels sorting) has its template spikes read first, the same way but only on the frames around the
spike (:data:`UNCLEAR_WINDOW`), so its peak is known exactly before the pass when it lies there, as it does
for nearly all such units. The one pass then adds the template spikes' snippets on all channels (the
templates, exactly as ``unit_templates`` adds them), their sums and squares on the channels around every
candidate, and keeps every spike's samples at the candidate (channel, frame) pairs. Once the templates are
known, a unit whose peak channel and frame are among its candidates, and whose neighbourhood lies in the
channels kept, takes its amplitudes and deviations from what was kept: the same raw samples, and the same
integer sums, as the separate pass would read and add. The other units, if any, get a pass of their own
(``spike_pass._Plan``: for a few units, their spikes read one by one with ``O_DIRECT``), so the result is
the separate passes' result bit for bit (tests/test_fused_pass.py), whichever units the estimate misses.

Random reads ahead of a long sequential one cost more than their own time on some disks (a virtual disk
here read the 41.5 GB file in 16 s, and in 31-33 s after 12,000 snippets were read through the page cache
with its read-ahead; 19-21 s after the same snippets read directly): the look reads directly for that.

The result is handed to ``spike_pass`` as its kept pass for the neighbourhood ``average_waveforms`` shows by
default (:data:`NEIGHBORHOOD` channels); tasks asking for other channels make their own pass as before.
"""
from __future__ import annotations

import queue
import threading
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

from ..compute.neighborhood import nearest_channels
from ..compute.snippets import exact_in_float32, select_spread, unit_seed
from ..compute.waveforms import mean_and_std
from ._objects import unit_spike_train
from ._reading import TraceSource, block_workers, map_blocks, reads_whole

#: spikes per unit in the first look that names the candidates
LOOK_SPIKES = 24
#: channels, and frames around each one's peak, whose samples every spike keeps
CANDIDATE_CHANNELS = 4
CANDIDATE_FRAMES = 5
#: a unit whose estimated peak is less than this many times the median channel's is read first (its template
#: spikes), so that its peak is exact: the look names the peak of every unit above it on the generated
#: Neuropixels data (500 units; 91 below it, 41 of which the look alone would miss)
CLEAR_RATIO = 4.0
#: of such a unit's template spikes, the frames read before and after the spike: the exact template there, in
#: a fifth of a whole snippet's reads (1.0 s instead of 2.5-2.9 s for the 91 units above); a unit whose exact
#: peak lies outside (3 of the 91, 16,493 spikes) gets a pass of its own after the read
UNCLEAR_WINDOW = (7, 8)
#: the look's snippets are read on this many threads, one read in flight each
LOOK_THREADS = 16
#: the neighbourhood of the deviations kept (average_waveforms' default neighborhoodSize)
NEIGHBORHOOD = 7
#: every spike's candidate samples are kept in memory: at most this many spikes (2 bytes x 20 a spike: 800 MB)
MAX_SPIKES = 20_000_000


def wanted(source: TraceSource, frames: list[np.ndarray], before: int, after: int) -> bool:
    """Whether to fuse: a file read in whole blocks, with 8/16-bit integer samples (whose sums are exact in any
    order, as the separate passes rely on)."""
    dtype = np.dtype(source.recording.get_dtype())
    return dtype.kind in "iu" and dtype.itemsize <= 2 and reads_whole(source, sum(len(f) for f in frames),
                                                                      before + after)


def templates_and_pass(source: TraceSource, sorting, units: list, frames: list[np.ndarray], before: int,
                       after: int, locations: np.ndarray, max_sum_bytes: int):
    """(the template spikes' raw sums on all channels, float64 units x frames x channels, and a
    ``finish(templates) -> (SpikePass, units read again)``) from one read of the recording; None, having
    read nothing, when the sums would take more than ``max_sum_bytes`` or the sorting has more than
    :data:`MAX_SPIKES` spikes."""
    fused = FusedRead.planned(source, sorting, units, frames, before, after, locations, max_sum_bytes)
    if fused is None:
        return None
    map_blocks(source, fused.starts, 0, fused.length, fused.add, fused.workers)
    return fused.result()


class FusedRead:
    """What one read fills (the templates' sums, every spike's candidate samples, the sums around the
    candidates) once the first look has named the candidates, and :meth:`add`, which adds a block of the
    recording to them: the blocks come from ``map_blocks`` (:func:`templates_and_pass`) or from another read
    of the whole file, the link's (:class:`FromBytes`)."""

    @classmethod
    def planned(cls, source: TraceSource, sorting, units: list, frames: list[np.ndarray], before: int,
                after: int, locations: np.ndarray, max_sum_bytes: int, on_start=None) -> "FusedRead | None":
        """After the first look; None, having read nothing, when it would take more memory than allowed.
        ``on_start()``, if given, is called once the read is decided, before the first look."""
        workers = block_workers(source)
        if len(units) * (before + after) * source.num_channels * 8 * workers > max_sum_bytes:
            return None
        trains = [unit_spike_train(sorting, u) for u in units]
        if sum(len(t) for t in trains) > MAX_SPIKES:
            return None
        if on_start is not None:
            on_start()
        return cls(source, sorting, units, frames, before, after, locations, trains, workers)

    def __init__(self, source: TraceSource, sorting, units: list, frames: list[np.ndarray], before: int,
                 after: int, locations: np.ndarray, trains: list[np.ndarray], workers: int):
        self.source, self.sorting, self.before, self.after, self.locations = source, sorting, before, after, locations
        self.length = length = before + after
        self.workers, self.trains = workers, trains
        n = len(units)
        counts = np.array([len(t) for t in trains], np.int64)
        self.first_row = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        with ThreadPoolExecutor(1, thread_name_prefix="fused-order") as pool:
            # every snippet of the read in time order (seconds of numpy for millions of spikes), while the first
            # look waits for the disk
            ordered = pool.submit(self._in_time_order, frames)
            estimate = _first_look(source, units, frames, before, after)
            self.starts, self.offsets, self.groups, self.rows = ordered.result()
        cand_chan, cand_first = _candidates(estimate, [len(f) for f in frames], length)
        self.width = min(NEIGHBORHOOD, source.num_channels)
        self.kept = [np.unique(np.concatenate([nearest_channels(locations, int(c), self.width) for c in cand_chan[i]]))
                     if len(frames[i]) else np.zeros(1, np.int64) for i in range(n)]
        self.table = np.zeros((n, max(len(k) for k in self.kept) if n else 1), np.int64)
        for i, k in enumerate(self.kept):
            self.table[i, :len(k)] = k
            self.table[i, len(k):] = k[0]  # padding: added, never read
        frames_per = CANDIDATE_FRAMES if length >= CANDIDATE_FRAMES else length
        self.pick_chan = np.repeat(cand_chan, frames_per, axis=1)
        self.pick_frame = (cand_first[:, :, None] + np.arange(frames_per)).reshape(n, -1)

        dtype = np.dtype(source.recording.get_dtype())
        exact32 = exact_in_float32(dtype, max([len(f) for f in frames] or [0]))
        self.sums = [np.zeros((n, length, source.num_channels), np.float32 if exact32 else np.float64)
                     for _ in range(workers)]
        self.near = [np.zeros((n, length, self.table.shape[1])) for _ in range(workers)]
        self.near_sq = [np.zeros_like(self.near[0]) for _ in range(workers)]
        self.picks = np.zeros((int(self.first_row[-1]), self.pick_chan.shape[1]), dtype)

    def _in_time_order(self, frames: list[np.ndarray]) -> tuple[np.ndarray, ...]:
        """(window starts, the spike's frame in its window, unit, row in ``picks`` or -1 for a template spike)
        of every snippet, sorted by start."""
        before, trains, last_start = self.before, self.trains, self.source.num_frames - self.length
        starts, offsets, groups, rows = [], [], [], []
        for i in range(len(frames)):
            if len(frames[i]) == 0:
                continue
            starts.append(np.asarray(frames[i], np.int64) - before)  # template snippets: inside by selection
            offsets.append(np.zeros(len(frames[i]), np.int64))
            groups.append(np.full(len(frames[i]), i, np.int64))
            rows.append(np.full(len(frames[i]), -1, np.int64))
            at = trains[i] - before
            window = np.clip(at, 0, last_start)
            starts.append(window)
            offsets.append(at - window)
            groups.append(np.full(len(at), i, np.int64))
            rows.append(self.first_row[i] + np.arange(len(at), dtype=np.int64))
        cat = [np.concatenate(x) if x else np.zeros(0, np.int64) for x in (starts, offsets, groups, rows)]
        order = np.argsort(cat[0], kind="stable")
        return tuple(x[order] for x in cat)

    def add(self, i0: int, i1: int, block: np.ndarray, start: int, worker: int) -> None:
        """Add the snippets ``i0:i1`` (of the sorted ``starts``), inside ``block``, whose first row is frame
        ``start``, to the accumulators of thread ``worker``."""
        _fused_block(block, self.starts[i0:i1] - start, self.offsets[i0:i1], self.groups[i0:i1], self.rows[i0:i1],
                     self.length, self.sums[worker], self.table, self.near[worker], self.near_sq[worker],
                     self.pick_chan, self.pick_frame, self.picks)

    def result(self):
        """(the templates' sums, ``finish``), as :func:`templates_and_pass` returns them, once every snippet was
        added."""
        self.starts = self.offsets = self.groups = self.rows = None  # every snippet was added: 32 bytes a spike freed
        sums, near, near_sq = self.sums[0], self.near[0], self.near_sq[0]
        for w in range(1, len(self.sums)):  # integer sums: exact in any order
            sums += self.sums[w]
            near += self.near[w]
            near_sq += self.near_sq[w]
        total = sums.astype(np.float64, copy=False)

        def finish(templates: list):
            return _spike_pass_of(self.source, self.sorting, templates, self.before, self.after, self.width,
                                  self.locations, self.trains, self.first_row, self.picks, self.pick_chan,
                                  self.pick_frame, self.kept, near, near_sq)

        return total, finish


class FromBytes:
    """Feeds a :class:`FusedRead` from consecutive blocks of the recording's file read by someone else (the
    link's sha1, ``chunk_manifest.hash_in_chunks``), on worker threads of its own: each block's whole frames at
    once, and the snippets that cross from one block into the next from a **seam**, the few frames around the
    boundary copied out of both blocks (whichever block comes second adds them). Blocks may start and end
    anywhere in a frame. :meth:`take` is called per block in the file's order; it releases the block when done.

    At the first block, ``plan()`` is called and returns the fused read to feed, or None: the blocks are then
    let go (the file is being read: the time to plan the fused read, whose first look is random reads of the
    file; made then, rather than beside the hashing, because on the benchmark's disk the look beside the
    hashing, and the blocks read again after it, slowed the sequential read by up to 30 s). :meth:`close`
    waits and says whether every snippet was added."""

    def __init__(self, source: TraceSource, size: int, workers: int, plan=None):
        raw = source.raw_file
        self.size, self.plan = size, plan
        self.row = source.num_channels * raw.dtype.itemsize
        self.offset, self.dtype = raw.offset, raw.dtype
        self.num_frames = min(source.num_frames, max(0, (size - raw.offset) // self.row))
        self.fused: FusedRead | None = None
        self.seams: dict[int, list] = {}
        self.lock = threading.Lock()
        self.free: queue.SimpleQueue = queue.SimpleQueue()
        for w in range(workers):
            self.free.put(w)
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="fused-from-bytes")
        self.futures: list = []
        self.taken = 0

    def take(self, view: memoryview, offset: int, release) -> None:
        """Add the block ``view`` of the file's bytes from byte ``offset`` (on a worker thread), then
        ``release()``; without a fused read, let it go."""
        if self.plan is not None:  # the file is being read: time to plan
            plan, self.plan = self.plan, None
            self.fused = plan()
        if self.fused is None:
            release()
            return
        self.futures.append(self.pool.submit(self._take, view, offset, release))

    def close(self) -> bool:
        """Wait for the blocks taken; True when every byte of the file came and every snippet was added."""
        try:
            for f in list(self.futures):
                f.result()
        finally:
            self.pool.shutdown(wait=True)
        return self.fused is not None and self.taken == self.size and not self.seams

    def _frame_floor(self, byte: int) -> int:
        return min(self.num_frames, max(0, (byte - self.offset) // self.row))

    def _frame_ceil(self, byte: int) -> int:
        return min(self.num_frames, max(0, -(-(byte - self.offset) // self.row)))

    def _seam(self, boundary: int) -> tuple[int, int, int, int] | None:
        """(first snippet, end snippet, first frame, end frame) of the seam at byte ``boundary``, or None."""
        fa, fb = self._frame_floor(boundary), self._frame_ceil(boundary)
        length = self.fused.length
        starts = self.fused.starts
        i0 = int(np.searchsorted(starts, fa - length + 1, "left"))
        i1 = int(np.searchsorted(starts, fb, "left"))
        if i1 <= i0:
            return None
        return i0, i1, int(starts[i0]), int(starts[i1 - 1]) + length

    def _take(self, view: memoryview, offset: int, release) -> None:
        worker = self.free.get()
        try:
            end = offset + len(view)
            f0, f1 = self._frame_ceil(offset), self._frame_floor(end)
            length, starts = self.fused.length, self.fused.starts
            i0 = int(np.searchsorted(starts, f0, "left"))
            i1 = int(np.searchsorted(starts, f1 - length, "right"))
            if i1 > i0:
                block = np.frombuffer(view, self.dtype, (f1 - f0) * self.row // self.dtype.itemsize,
                                      self.offset + f0 * self.row - offset).reshape(f1 - f0, -1)
                self.fused.add(i0, i1, block, f0, worker)
            for boundary in (offset, end):
                if 0 < boundary < self.size:
                    self._seam_part(boundary, view, offset, worker)
            with self.lock:
                self.taken += len(view)
        finally:
            self.free.put(worker)
            release()

    def _seam_part(self, boundary: int, view: memoryview, offset: int, worker: int) -> None:
        seam = self._seam(boundary)
        if seam is None:
            return
        i0, i1, r0, r1 = seam
        lo, hi = self.offset + r0 * self.row, self.offset + r1 * self.row
        a, b = max(lo, offset), min(hi, offset + len(view))
        with self.lock:
            entry = self.seams.setdefault(boundary, [bytearray(hi - lo), 0])
            entry[0][a - lo:b - lo] = view[a - offset:b - offset]
            entry[1] += b - a
            complete = entry[1] == hi - lo
            if complete:
                del self.seams[boundary]
        if complete:
            rows = np.frombuffer(entry[0], self.dtype).reshape(r1 - r0, -1)
            self.fused.add(i0, i1, rows, r0, worker)


def _first_look(source: TraceSource, units: list, frames: list[np.ndarray], before: int,
                after: int) -> np.ndarray:
    """Estimated means (units x frames x channels): of :data:`LOOK_SPIKES` template spikes per unit; for a unit
    whose estimate is not clear (:func:`unclear`), of all of them (the exact template) on the frames of
    :data:`UNCLEAR_WINDOW` around the spike, and 0 elsewhere."""
    from .waveforms import means_of_sums  # (waveforms imports this module)

    look = [f[select_spread(len(f), LOOK_SPIKES, unit_seed(u))] for u, f in zip(units, frames, strict=True)]
    estimate = means_of_sums(source, _direct_sums(source, look, before, after), np.array([len(f) for f in look]))
    again = [i for i in range(len(units)) if len(frames[i]) > len(look[i]) and unclear(estimate[i])]
    if again:
        part = [frames[i] for i in again]
        w0, w1 = min(before, UNCLEAR_WINDOW[0]), min(after, UNCLEAR_WINDOW[1])
        estimate[again] = 0  # (outside the window: no candidate)
        estimate[again, before - w0:before + w1] = means_of_sums(source, _direct_sums(source, part, w0, w1),
                                                                 np.array([len(f) for f in part]))
    return estimate


def _direct_sums(source: TraceSource, frames_per_unit: list[np.ndarray], before: int, after: int) -> np.ndarray:
    """Sums (float64; added in float32: exact for 8/16-bit samples up to ``exact_in_float32``'s count, 512
    16-bit spikes a unit, as the template pass adds them; an estimate beyond, which only names candidates) of
    each unit's snippets, each read on its own (``O_DIRECT`` where the file system allows it) in a numba kernel on
    :data:`LOOK_THREADS` threads, one read in flight each; a thread adds the units of its own."""
    from ._pread import direct_window_sums, read_on_threads
    from .waveforms import merged_spikes

    raw = source.raw_file
    length = before + after
    row = source.num_channels * raw.dtype.itemsize
    threads = max(1, min(LOOK_THREADS, len(frames_per_unit)))
    sums = np.zeros((len(frames_per_unit), length, source.num_channels), np.float32)
    work = []
    for k in range(threads):
        mine = np.arange(k, len(frames_per_unit), threads)
        frames, groups = merged_spikes([frames_per_unit[i] for i in mine])
        work.append((frames - before, mine[groups]))

    def read(fd: int, buffer: np.ndarray, k: int) -> int:
        return direct_window_sums(fd, buffer.view(raw.dtype), buffer.ctypes.data, raw.offset, row, *work[k], length,
                                  sums)

    if read_on_threads(raw.path, threads, length * row + 2 * 4096, read):
        raise OSError(f"reading {raw.path} failed (a snippet of the first look): was the file truncated?")
    return sums.astype(np.float64)


def unclear(estimate: np.ndarray) -> bool:
    """Whether a unit's estimated mean (frames x channels) leaves its peak in doubt: its largest value is less
    than :data:`CLEAR_RATIO` times the median of the channels' largest values (or it is not finite)."""
    peaks = np.max(np.abs(estimate), axis=0)
    if not np.all(np.isfinite(peaks)):
        return True
    return not peaks.max() >= CLEAR_RATIO * np.median(peaks)


def _candidates(estimate: np.ndarray, counts: list[int], length: int) -> tuple[np.ndarray, np.ndarray]:
    """Per unit, the channels where the estimated template is largest and the first frame of each one's window
    of :data:`CANDIDATE_FRAMES` frames around its own peak (units x channels)."""
    n = estimate.shape[0]
    k = min(CANDIDATE_CHANNELS, estimate.shape[2])
    frames_per = min(CANDIDATE_FRAMES, length)
    chans = np.zeros((n, k), np.int64)
    first = np.zeros((n, k), np.int64)
    for i in range(n):
        if counts[i] == 0 or not np.all(np.isfinite(estimate[i])):
            continue
        peak = np.max(np.abs(estimate[i]), axis=0)
        chans[i] = np.argsort(-peak, kind="stable")[:k]
        for j, c in enumerate(chans[i]):
            centre = int(np.argmax(np.abs(estimate[i][:, c])))
            first[i, j] = min(max(centre - frames_per // 2, 0), length - frames_per)
    return chans, first


@numba.njit(cache=True, nogil=True)
def _fused_block(block, positions, offsets, groups, rows, length, sums, table, near, near_sq, pick_chan,
                 pick_frame, picks):
    for s in range(positions.shape[0]):
        g = groups[s]
        p = positions[s]
        r = rows[s]
        if r < 0:  # a template spike: its snippet on every channel, and around every candidate
            chans = table[g]
            for t in range(length):
                row = block[p + t]
                for c in range(row.shape[0]):
                    sums[g, t, c] += row[c]
                for k in range(chans.shape[0]):
                    v = np.float64(row[chans[k]])
                    near[g, t, k] += v
                    near_sq[g, t, k] += v * v
            continue
        for j in range(pick_chan.shape[1]):  # a spike: its samples at the candidates (inside its window)
            f = offsets[s] + pick_frame[g, j]
            if 0 <= f < length:
                picks[r, j] = block[p + f, pick_chan[g, j]]


def _spike_pass_of(source: TraceSource, sorting, templates: list, before: int, after: int, width: int,
                   locations: np.ndarray, trains: list[np.ndarray], first_row: np.ndarray, picks: np.ndarray,
                   pick_chan: np.ndarray, pick_frame: np.ndarray, kept: list[np.ndarray], near: np.ndarray,
                   near_sq: np.ndarray):
    """The ``SpikePass`` of ``templates`` (every spike; deviations on each peak's ``width`` nearest channels)
    from what the fused pass kept, with a pass of their own for the units whose peak it did not keep."""
    from .spike_pass import SpikePass, _channels_key, _Plan

    n = len(templates)
    chans: list = [None if t.peak_channel is None else nearest_channels(locations, t.peak_channel, width)
                   for t in templates]
    inside: list = [None] * n
    amplitudes: list = [None] * n
    stds: list = [None] * n
    missed = []
    for i, t in enumerate(templates):
        train = trains[i]
        if t.peak_channel is None:
            inside[i] = np.zeros(len(train), bool)
            amplitudes[i] = np.full(len(train), np.nan, np.float32)
            continue
        hit = np.nonzero((pick_chan[i] == t.peak_channel) & (pick_frame[i] == t.peak_frame))[0]
        if not len(hit) or not np.all(np.isin(chans[i], kept[i])):
            missed.append(i)
            continue
        columns = np.searchsorted(kept[i], chans[i])
        at = train + (t.peak_frame - before)
        inside[i] = (at >= 0) & (at < source.num_frames)
        amps = np.full(len(train), np.nan, np.float32)
        amps[inside[i]] = picks[first_row[i]:first_row[i + 1], hit[0]][inside[i]]
        amplitudes[i] = source.scale_in_place(amps[:, None], np.array([t.peak_channel]))[:, 0]
        _, std = mean_and_std(near[i:i + 1][:, :, columns], near_sq[i:i + 1][:, :, columns],
                              np.array([len(t.frames)]))
        stds[i] = (std[0] * np.abs(source.gains[chans[i]])).astype(np.float32)
    if missed:  # the first look did not name their peak: read them as the separate pass would
        plan = _Plan(source, [templates[i] for i in missed], [trains[i] for i in missed], before, after,
                     [chans[i] for i in missed])
        plan.read()
        for j, i in enumerate(missed):
            inside[i] = plan.inside[j]
        for j, (amps, std) in enumerate(zip(plan.unit_amplitudes(), plan.deviations(), strict=True)):
            amplitudes[missed[j]], stds[missed[j]] = amps, std
    result = SpikePass(templates, before, after, True, trains, inside, amplitudes, _channels_key(chans), stds)
    return result, len(missed)
