"""The one pass after the templates: every spike's amplitude and the template spikes' deviations, in one read.

The template pass (``waveforms.unit_templates``) sums each unit's snippets on all channels. What the other
snippet tasks of a precompute need depends on the template (its peak channel and frame) but is only a few
samples per spike:

- every spike's amplitude: the sample on the unit's peak channel at the template's peak frame
  (``spike_amplitudes``, and the median amplitude of the template spikes in ``unit_metrics``);
- the standard deviation of the template spikes on the channels around the peak (``average_waveforms``).

:func:`spike_pass` reads all of them in one time-ordered pass and a process keeps its last result for the next
task on the same templates (as it keeps the templates), so a precompute reads the recording twice: once for
the templates, once here. Every spike is read only where that is nearly free (:func:`dense`, or a file read in whole
blocks: ``_reading.reads_whole``) or asked for;
on sparse data a task's pass reads the spikes it needs (the template spikes, for ``unit_metrics``).
The values are those of the separate passes it replaces: the deviations come from the same float64 sums and
sums of squares, added in the same (time) order, on the same channels; the amplitudes are the same samples,
scaled in float32 as ``read_snippets`` scales them.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from ..compute.neighborhood import nearest_channels
from ..compute.snippets import select_spread, spike_pass_block, unit_seed
from ..compute.waveforms import mean_and_std
from . import _shared
from ._objects import unit_spike_train
from ._packing import concatenated, spike_offsets
from ._reading import TraceSource, block_workers, map_blocks, reads_whole, trace_source

#: a pass result is kept for the next task only up to this many spikes (13 bytes a spike)
_KEEP_SPIKES = 40_000_000
#: the deviations the pass shared between processes keeps: on each peak's this many nearest channels
#: (``average_waveforms``' default neighborhoodSize)
NEIGHBORHOOD = 7


@dataclass
class SpikePass:
    templates: list  # the templates it was computed for (compared by identity)
    before: int
    after: int
    complete: bool  # ``trains`` are the units' whole spike trains (else the spikes asked for)
    trains: list[np.ndarray]  # per unit: the spikes whose amplitudes were read (int64, sorted)
    inside: list[np.ndarray]  # per spike: its amplitude frame is in the recording (and the unit has a peak)
    amplitudes: list[np.ndarray]  # float32 per spike (microvolts; NaN where not ``inside``)
    std_key: tuple | None  # the channels of ``stds`` per unit, or None when no deviations were asked for
    stds: list[np.ndarray | None] | None  # frames x those channels, float32 (None for a unit without a peak)

    def has(self, frames_per_unit: list[np.ndarray] | None) -> bool:
        """Whether the amplitudes of these spikes (every spike when None) are in this result."""
        if self.complete:
            return True
        return frames_per_unit is not None and all(
            _rows(train, np.asarray(f, np.int64)) is not None
            for train, f in zip(self.trains, frames_per_unit, strict=True))


def _channels_key(std_channels: list | None) -> tuple | None:
    if std_channels is None:
        return None
    return tuple(None if c is None else tuple(int(x) for x in c) for c in std_channels)


def _rows(train: np.ndarray, frames: np.ndarray) -> np.ndarray | None:
    """Rows of ``frames`` in the sorted ``train``, or None when one is not in it."""
    rows = np.searchsorted(train, frames)
    if len(rows) and (rows.max() >= len(train) or np.any(train[rows] != frames)):
        return None
    return rows


def dense(templates: list, num_frames: int) -> bool:
    """Whether the template spikes' snippets cover the recording (their total length is at least its length):
    then a pass for them touches nearly every page, and reading every spike's amplitude in it costs little
    more. On sparse data (few channels, few template spikes) the amplitudes of every spike would read pages
    the snippets do not touch: only the spikes asked for are read."""
    covered = sum(len(t.frames) * (t.mean.shape[0] if t.mean is not None else 0) for t in templates)
    return covered >= num_frames


def spike_pass(rec, sort, templates: list, before: int, after: int = 0,
               std_channels: list[np.ndarray | None] | None = None,
               frames_per_unit: list[np.ndarray] | None = None) -> SpikePass:
    """The amplitudes of each templated unit's spikes (every spike, or at least ``frames_per_unit``: spikes of
    its train, sorted) and, with ``std_channels`` (per unit, None to skip a unit), the deviation of its
    template spikes on those channels; one pass, reused when asked again. Given ``frames_per_unit``, every
    spike is read all the same when the data are :func:`dense`."""
    key = _channels_key(std_channels)
    hit = _last_pass(templates, before, after, key, frames_per_unit)
    if hit is not None:
        return hit
    source = trace_source(rec)
    shared = _shared_pass(rec, sort, source, templates, before, after, std_channels, frames_per_unit)
    if shared is not None:  # computed once for every process of the store (tasks/_shared.py)
        shared_key, after, std_channels = shared
        with _shared.once(_shared.PASS, shared_key) as slot:
            result = None if slot.value is None else _from_stored(slot.value, sort, templates, before, after,
                                                                   std_channels)
            if result is None:
                result = _read(source, sort, templates, before, after, std_channels, None)
                slot.save(_for_storing(result))
    else:
        complete = (frames_per_unit is None or dense(templates, source.num_frames)
                    or reads_whole(source, sum(len(f) for f in frames_per_unit), before + after))
        result = _read(source, sort, templates, before, after, std_channels, None if complete else frames_per_unit)
    _keep_here(result)
    return result


def _keep_here(result: SpikePass) -> None:
    """Keep ``result`` for this process's next task on the same templates (unless too large or reuse is off)."""
    if sum(len(t) for t in result.trains) <= _KEEP_SPIKES and _shared.reusing():
        _LAST_PASS[:] = [result]


def keep(rec, sort, source: TraceSource, result: SpikePass) -> None:
    """Keep a complete pass computed elsewhere (``fused_pass``, with the templates) as if :func:`spike_pass`
    had read it: for this process's next task, and for the store's other processes when the pass is one they
    share (:func:`_shared_pass`: every spike, deviations on each peak's :data:`NEIGHBORHOOD` channels)."""
    _keep_here(result)
    shared = _shared_pass(rec, sort, source, result.templates, result.before, result.after, None, None)
    if shared is None or not result.complete:
        return
    key, after, chans = shared
    if after != result.after or _channels_key(chans) != result.std_key:
        return
    with _shared.once(_shared.PASS, key) as slot:
        if slot.value is None:
            slot.save(_for_storing(result))


def _read(source: TraceSource, sort, templates: list, before: int, after: int, std_channels: list | None,
          frames_per_unit: list[np.ndarray] | None) -> SpikePass:
    """One pass: every spike of each unit (``frames_per_unit`` None), or those spikes."""
    complete = frames_per_unit is None
    trains = ([unit_spike_train(sort, t.unit) for t in templates] if complete
              else [np.asarray(f, np.int64) for f in frames_per_unit])
    plan = _Plan(source, templates, trains, before, after, std_channels)
    plan.read()
    return SpikePass(templates, before, after, complete, trains, plan.inside, plan.unit_amplitudes(),
                     _channels_key(std_channels), plan.deviations() if std_channels is not None else None)


def _shared_pass(rec, sort, source: TraceSource, templates: list, before: int, after: int,
                 std_channels: list | None, frames_per_unit: list[np.ndarray] | None) -> tuple | None:
    """(key, after, channels) of the pass every process of the store shares for these templates, when this
    request is one it answers; else None. That pass reads every spike, with the deviations on each peak's
    :data:`NEIGHBORHOOD` nearest channels over the templates' own snippet length (``average_waveforms``'
    default), whichever task asks first: ``unit_metrics`` and ``spike_amplitudes`` take what they need of it."""
    if not templates or _shared.key_for(rec, sort) is None:  # not shared: no need to work out the rest
        return None
    from .waveforms import as_json_unit, channel_locations  # (waveforms imports this module)

    length = templates[0].mean.shape[0]
    width = min(NEIGHBORHOOD, source.num_channels)
    locations = None
    chans = []
    for t in templates:
        if t.peak_channel is None:
            chans.append(None)
            continue
        if locations is None:
            locations = channel_locations(rec)
        chans.append(nearest_channels(locations, t.peak_channel, width))
    if std_channels is not None and (after != length - before or _channels_key(std_channels) != _channels_key(chans)):
        return None
    every = (frames_per_unit is None or dense(templates, source.num_frames)
             or reads_whole(source, sum(len(t.frames) for t in templates), length))
    if not every:
        return None
    frames = np.concatenate([np.asarray(t.frames, np.int64) for t in templates])
    key = _shared.key_for(rec, sort, units=[as_json_unit(t.unit) for t in templates], before=before,
                          after=length - before, neighborhood=width,
                          templateSpikes=[len(t.frames) for t in templates],
                          templateSpikesSha1=hashlib.sha1(frames.tobytes()).hexdigest())
    return None if key is None else (key, length - before, chans)


def _for_storing(p: SpikePass) -> dict:
    length = p.before + p.after
    width = max([len(c) for c in p.std_key if c is not None] or [1])
    stds = np.full((len(p.templates), length, width), np.nan, np.float32)
    for i, d in enumerate(p.stds):
        if d is not None:
            stds[i] = d
    return {"counts": np.array([len(t) for t in p.trains], np.int64), "inside": concatenated(p.inside, bool),
            "amplitudes": concatenated(p.amplitudes, np.float32),
            "hasStd": np.array([d is not None for d in p.stds], bool), "stds": stds}


def _from_stored(stored: dict, sort, templates: list, before: int, after: int,
                 std_channels: list) -> SpikePass | None:
    """The pass another process stored, for these templates; None if the sorting's trains do not match it."""
    trains = [unit_spike_train(sort, t.unit) for t in templates]
    counts = stored["counts"]
    if [len(t) for t in trains] != [int(c) for c in counts]:
        return None
    at = spike_offsets(counts)
    inside = [stored["inside"][at[i]:at[i + 1]].astype(bool) for i in range(len(counts))]
    amplitudes = [stored["amplitudes"][at[i]:at[i + 1]] for i in range(len(counts))]
    stds = [stored["stds"][i, :, :len(c)] if has and c is not None else None
            for i, (has, c) in enumerate(zip(stored["hasStd"], std_channels, strict=True))]
    return SpikePass(templates, before, after, True, trains, inside, amplitudes, _channels_key(std_channels), stds)


_LAST_PASS: list[SpikePass] = []


def _last_pass(templates: list, before: int, after: int, key: tuple | None,
               frames_per_unit: list[np.ndarray] | None) -> SpikePass | None:
    if not _shared.reusing():
        _LAST_PASS.clear()
        return None
    for p in _LAST_PASS:
        same = p.templates is templates and p.before == before
        if same and (key is None or (p.std_key == key and p.after == after)) and p.has(frames_per_unit):
            return p
    return None


def unit_amplitudes(result: SpikePass, index: int, max_spikes: int | None = None,
                    frames: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(spike frames, amplitudes) of unit ``index``: of ``frames`` (spikes of its train) when given, else of
    its train (at most ``max_spikes``, spread in time); spikes whose amplitude frame is outside are left out."""
    train, inside, amps = result.trains[index], result.inside[index], result.amplitudes[index]
    if frames is None:
        if not result.complete:
            raise ValueError("unit_amplitudes: this pass read only some spikes; give their frames")
        rows = select_spread(len(train), max_spikes, unit_seed(result.templates[index].unit))
        spikes = train[rows]
    else:
        spikes = np.asarray(frames, np.int64)
        rows = _rows(train, spikes)
        if rows is None:
            raise ValueError("unit_amplitudes: frames must be spikes of the unit's train that the pass read")
    keep = inside[rows]
    return spikes[keep], amps[rows][keep]


#: threads that read a sparse pass's items one by one (one read in flight each: the disk's queue)
DIRECT_ITEM_THREADS = 16
#: a pass whose items touch less than this share of a large file's pages reads them one by one
SPARSE_SHARE = 0.0625


def _sparse_direct(source: TraceSource, rows: np.ndarray, length: int) -> bool:
    """Whether a pass's items (samples where ``rows >= 0``, snippets of ``length`` frames elsewhere) are read
    one by one with ``O_DIRECT`` (:func:`_pread.direct_spike_items`): a binary file read directly, of which
    they touch less than :data:`SPARSE_SHARE` of the pages (a sample one or two pages, not a window's)."""
    from ._reading import _direct

    raw = source.raw_file
    if raw is None or not len(rows) or not _direct(raw):
        return False
    row = source.num_channels * raw.dtype.itemsize
    samples = int(np.count_nonzero(rows >= 0))
    touched = samples * 8192 + (len(rows) - samples) * (length * row + 8192)
    return touched < SPARSE_SHARE * source.num_frames * row


class _Plan:
    """The items of one pass (samples for amplitudes, snippets for deviations), read in time order."""

    def __init__(self, source: TraceSource, templates: list, trains: list[np.ndarray], before: int, after: int,
                 std_channels: list | None):
        self.source, self.templates, self.trains, self.before = source, templates, trains, before
        n = len(templates)
        self.chans = std_channels if std_channels is not None else [None] * n
        self.counts = np.array([len(t.frames) if c is not None else 0
                                for t, c in zip(templates, self.chans, strict=True)], np.int64)
        self.length = before + after if self.counts.sum() else 1  # a sample is read as a window of this length
        width = max([len(c) for c in self.chans if c is not None] or [1])
        self.table = np.zeros((n, width), np.int64)
        for i, c in enumerate(self.chans):
            if c is not None:
                self.table[i, :len(c)] = c
        self.peaks = np.array([t.peak_channel or 0 for t in templates], np.int64)
        self.offsets_in_values = np.concatenate([[0], np.cumsum([len(t) for t in trains])]).astype(np.int64)
        self.values = np.full(int(self.offsets_in_values[-1]), np.nan, np.float32)
        self.inside: list[np.ndarray] = []
        self.sums = np.zeros((n, self.length if self.counts.sum() else 1, width))
        self.sumsq = np.zeros_like(self.sums)

    def _items(self) -> tuple[np.ndarray, ...]:
        starts, offsets, groups, rows = [], [], [], []
        last = self.source.num_frames - self.length  # the last window start inside the recording
        for i, (t, train) in enumerate(zip(self.templates, self.trains, strict=True)):
            frames = train + (0 if t.peak_frame is None else t.peak_frame - self.before)
            inside = (frames >= 0) & (frames < self.source.num_frames) & (t.peak_channel is not None)
            self.inside.append(inside)
            at = frames[inside]
            window = np.minimum(at, last)
            starts += [window, np.asarray(t.frames, np.int64)[:self.counts[i]] - self.before]
            offsets += [at - window, np.zeros(self.counts[i], np.int64)]
            groups.append(np.full(len(at) + self.counts[i], i, np.int64))
            rows += [self.offsets_in_values[i] + np.nonzero(inside)[0], np.full(self.counts[i], -1, np.int64)]
        cat = [np.concatenate(x or [np.zeros(0, np.int64)]).astype(np.int64) for x in (starts, offsets, groups, rows)]
        order = np.argsort(cat[0], kind="stable")  # time order; a unit's snippets keep their (time) order
        return tuple(x[order] for x in cat)

    def read(self) -> None:
        """Read the items block by block, on ``block_workers`` threads: each adds into sums of its own (exact
        for the integer samples it is used for), the amplitudes go to rows of their own. Items that touch
        few of a large file's pages (:func:`_sparse_direct`: the units a fused read missed) are read one by
        one with ``O_DIRECT`` instead, a sample's frame alone."""
        starts, offsets, groups, rows = self._items()
        if _sparse_direct(self.source, rows, self.length):
            self._read_direct(starts, offsets, groups, rows)
            return
        workers = block_workers(self.source)
        sums = [self.sums] + [np.zeros_like(self.sums) for _ in range(workers - 1)]
        sumsq = [self.sumsq] + [np.zeros_like(self.sumsq) for _ in range(workers - 1)]

        def add(i0: int, i1: int, block: np.ndarray, start: int, worker: int) -> None:
            spike_pass_block(block, starts[i0:i1] - start, offsets[i0:i1], groups[i0:i1], self.table, self.peaks,
                             sums[worker], sumsq[worker], self.values, rows[i0:i1])

        map_blocks(self.source, starts, 0, self.length, add, workers)
        for a, b in zip(sums[1:], sumsq[1:], strict=True):
            self.sums += a
            self.sumsq += b

    def _read_direct(self, starts, offsets, groups, rows) -> None:
        from ._pread import direct_spike_items, read_on_threads

        raw = self.source.raw_file
        row = self.source.num_channels * raw.dtype.itemsize
        threads = max(1, min(DIRECT_ITEM_THREADS, len(starts)))
        sums = [self.sums] + [np.zeros_like(self.sums) for _ in range(threads - 1)]
        sumsq = [self.sumsq] + [np.zeros_like(self.sumsq) for _ in range(threads - 1)]

        def read(fd: int, buffer: np.ndarray, k: int) -> int:
            mine = slice(k, None, threads)
            return direct_spike_items(fd, buffer.view(raw.dtype), buffer.ctypes.data, raw.offset, row, starts[mine],
                                      offsets[mine], groups[mine], rows[mine], self.length, self.table, self.peaks,
                                      sums[k], sumsq[k], self.values)

        if read_on_threads(raw.path, threads, self.length * row + 2 * 4096, read):
            raise OSError(f"reading {raw.path} failed (a spike of the pass): was the file truncated?")
        for a, b in zip(sums[1:], sumsq[1:], strict=True):
            self.sums += a
            self.sumsq += b

    def unit_amplitudes(self) -> list[np.ndarray]:
        out = []
        for i, t in enumerate(self.templates):
            amps = self.values[self.offsets_in_values[i]:self.offsets_in_values[i + 1]]
            if t.peak_channel is not None:
                self.source.scale_in_place(amps[:, None], np.array([t.peak_channel]))
            out.append(amps)
        return out

    def deviations(self) -> list[np.ndarray | None]:
        """As ``unit_moments`` computes the std (mean_and_std, then scaled), on each unit's channels."""
        out: list[np.ndarray | None] = []
        for i, c in enumerate(self.chans):
            if c is None or self.templates[i].peak_channel is None:
                out.append(None)
                continue
            w = len(c)
            _, std = mean_and_std(self.sums[i:i + 1, :, :w], self.sumsq[i:i + 1, :, :w], self.counts[i:i + 1])
            out.append((std[0] * np.abs(self.source.gains[np.asarray(c)])).astype(np.float32))
        return out


def clear() -> None:
    """Forget the kept pass (tests)."""
    _LAST_PASS.clear()

