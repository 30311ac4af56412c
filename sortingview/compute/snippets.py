"""Snippet kernels: which spikes to read, and gathering/accumulating snippets from a block of raw traces.

A block is a (frames x channels) array of raw samples (any numeric dtype, e.g. the int16 of a binary file)
that starts at some frame of the recording; spikes are given by their position inside the block. Scaling
to microvolts is left to the caller (``raw * gain + offset`` per channel), so the kernels work on raw
values and sums of int16 samples in float64 stay exact.

Edge rule: a snippet of a spike at frame ``t`` covers frames ``[t - before, t + after)``. Spikes whose
snippet would cross the start or the end of the recording are never read (no wrap-around, no padding);
:func:`inside_recording` says which spikes qualify.
"""
from __future__ import annotations

import zlib

import numba
import numpy as np


def inside_recording(frames: np.ndarray, before: int, after: int, num_frames: int) -> np.ndarray:
    """Boolean mask of the spikes whose whole snippet ``[t - before, t + after)`` lies in the recording."""
    frames = np.asarray(frames, dtype=np.int64)
    return (frames - before >= 0) & (frames + after <= num_frames)


def select_spread(num_spikes: int, max_count: int | None, seed: int) -> np.ndarray:
    """Indices (sorted) of at most ``max_count`` of ``num_spikes`` time-sorted spikes, spread over time.

    Stratified sampling: the n spikes are cut into k = ``max_count`` near-equal strata in time order (stratum
    i holds spikes ``[i n // k, (i + 1) n // k)``) and one spike is drawn at random from each, so the selection
    covers the whole recording (a uniform random subset can leave long stretches empty) and is reproducible
    for a given ``seed``.
    """
    if max_count is None or num_spikes <= max_count:
        return np.arange(num_spikes, dtype=np.int64)
    if max_count <= 0:
        return np.zeros(0, dtype=np.int64)
    bounds = np.arange(max_count + 1, dtype=np.int64) * num_spikes // max_count  # stratum i: [b_i, b_i+1)
    widths = np.diff(bounds)
    rng = np.random.default_rng(seed)
    return bounds[:-1] + np.floor(rng.random(max_count) * widths).astype(np.int64)


@numba.njit(cache=True, nogil=True)
def _accumulate(block, positions, groups, before, length, sums, sumsq):
    for s in range(positions.shape[0]):
        g = groups[s]
        start = positions[s] - before
        for t in range(length):
            row = block[start + t]
            for c in range(row.shape[0]):
                v = np.float64(row[c])
                sums[g, t, c] += v
                sumsq[g, t, c] += v * v


@numba.njit(cache=True, nogil=True)
def _accumulate_sums(block, positions, groups, before, length, sums):
    for s in range(positions.shape[0]):
        g = groups[s]
        start = positions[s] - before
        for t in range(length):
            row = block[start + t]
            for c in range(row.shape[0]):
                sums[g, t, c] += np.float64(row[c])


@numba.njit(cache=True, nogil=True)
def _accumulate_sums32(block, positions, groups, before, length, sums):
    for s in range(positions.shape[0]):
        g = groups[s]
        start = positions[s] - before
        for t in range(length):
            for c in range(block.shape[1]):
                sums[g, t, c] += np.float32(block[start + t, c])


def exact_in_float32(dtype: np.dtype, max_count: int) -> bool:
    """Whether sums of ``max_count`` samples of integer ``dtype`` are exact in float32 (every partial sum an
    integer of magnitude at most 2**24): then they equal the float64 sums once converted."""
    dtype = np.dtype(dtype)
    if dtype.kind not in "iu" or dtype.itemsize > 2:
        return False
    info = np.iinfo(dtype)
    return max_count * max(abs(int(info.min)), int(info.max)) <= 2**24


def accumulate_moments(block: np.ndarray, positions: np.ndarray, groups: np.ndarray, before: int,
                       sums: np.ndarray, sumsq: np.ndarray | None) -> None:
    """Add each spike's snippet (all channels) and its square to ``sums``/``sumsq`` of its group, in place.

    ``positions`` are spike frames relative to the block start, ``groups`` the row of ``sums`` (shape
    groups x frames x channels, float64) each spike adds to. With ``sumsq=None`` only the sums are kept
    (a quarter of the work: the mean alone is what finding a peak channel needs; the sums are the same either
    way), and ``sums`` may be float32 where :func:`exact_in_float32` says so (3x faster again).
    """
    positions, groups = np.asarray(positions, np.int64), np.asarray(groups, np.int64)
    if sumsq is None and sums.dtype == np.float32:  # the caller checked exact_in_float32 (3x faster)
        _accumulate_sums32(block, positions, groups, int(before), sums.shape[1], sums)
    elif sumsq is None:
        _accumulate_sums(block, positions, groups, int(before), sums.shape[1], sums)
    else:
        _accumulate(block, positions, groups, int(before), sums.shape[1], sums, sumsq)


@numba.njit(cache=True, nogil=True)
def _gather(block, positions, groups, channel_table, before, length, out, out_rows):
    for s in range(positions.shape[0]):
        chans = channel_table[groups[s]]
        start = positions[s] - before
        r = out_rows[s]
        for t in range(length):
            row = block[start + t]
            for k in range(chans.shape[0]):
                out[r, t, k] = row[chans[k]]


def gather_snippets(block: np.ndarray, positions: np.ndarray, groups: np.ndarray, channel_table: np.ndarray,
                    before: int, out: np.ndarray, out_rows: np.ndarray) -> None:
    """Copy snippets into ``out[out_rows[s]]`` (frames x channels), in place.

    Spike ``s`` (at ``positions[s]`` in the block) takes the channels ``channel_table[groups[s]]``, so one
    pass can serve units with different neighbourhoods. ``out`` has shape (n, frames, channels_per_group).
    """
    _gather(block, np.asarray(positions, np.int64), np.asarray(groups, np.int64),
            np.asarray(channel_table, np.int64), int(before), out.shape[1], out, np.asarray(out_rows, np.int64))


def unit_seed(unit) -> int:
    """A seed that depends only on the unit (id or merge group), so a unit gets the same spikes in every task."""
    key = ",".join(sorted(str(u) for u in unit)) if isinstance(unit, (list, tuple)) else str(unit)
    return zlib.crc32(key.encode())


@numba.njit(cache=True, nogil=True)
def _spike_pass(block, positions, offsets, groups, channel_table, peak_channels, length, sums, sumsq, values,
                value_rows):
    for s in range(positions.shape[0]):
        g = groups[s]
        if value_rows[s] >= 0:  # one sample: the spike's amplitude on its unit's peak channel
            values[value_rows[s]] = block[positions[s] + offsets[s], peak_channels[g]]
            continue
        chans = channel_table[g]
        for t in range(length):
            row = block[positions[s] + t]
            for k in range(chans.shape[0]):
                v = np.float64(row[chans[k]])
                sums[g, t, k] += v
                sumsq[g, t, k] += v * v


def spike_pass_block(block: np.ndarray, positions: np.ndarray, offsets: np.ndarray, groups: np.ndarray,
                     channel_table: np.ndarray, peak_channels: np.ndarray, sums: np.ndarray, sumsq: np.ndarray,
                     values: np.ndarray, value_rows: np.ndarray) -> None:
    """One block of a pass that reads two kinds of items, each at ``positions[s]`` (relative to the block):

    - a sample (``value_rows[s] >= 0``): ``block[positions[s] + offsets[s], peak_channels[groups[s]]]`` goes
      to ``values[value_rows[s]]`` (raw, the block's dtype converted to ``values``' dtype);
    - a snippet (``value_rows[s] < 0``): frames ``positions[s] + [0, sums.shape[1])`` on the channels
      ``channel_table[groups[s]]`` are added to ``sums``/``sumsq[groups[s]]`` (float64, in place).
    """
    _spike_pass(block, np.asarray(positions, np.int64), np.asarray(offsets, np.int64), np.asarray(groups, np.int64),
                np.asarray(channel_table, np.int64), np.asarray(peak_channels, np.int64), sums.shape[1], sums,
                sumsq, values, np.asarray(value_rows, np.int64))
