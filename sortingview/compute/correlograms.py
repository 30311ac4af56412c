"""Exact auto- and cross-correlograms of spike trains (numba; parallel and deterministic).

Definition (design.md, "Tasks"): for spike a of unit i and spike b of unit j (a != b when i == j), with
lag = t_b - t_a in frames, bin_frames = binMs * fs / 1000 and half = windowMs * fs / 2000, the pair
counts in bin k = floor((lag + half) / bin_frames) when 0 <= k < n_bins, n_bins = windowMs / binMs.

Exactness: binMs, windowMs and fs are read as the decimal numbers they print as (0.1 is one tenth, not
the nearest binary double), and the bin of every integer lag is computed once with integer arithmetic
into a lookup table. A lag that sits exactly on a bin edge therefore always goes to the bin on its right,
as the definition says, whatever the bin width in frames (e.g. 0.3 ms at 30 kHz is 9 frames, 1 ms at
32556 Hz is 32.556 frames). The kept lags are exactly the integers in [-half, half).

Parallelism: the loops run over units with ``prange``, handed out one iteration at a time, and each
thread only writes the output rows of the units it owns, so counts never race and are identical from run
to run.
"""
from __future__ import annotations

import contextlib
import types
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

import numba
import numpy as np

from ..errors import TaskInputError

__all__ = ["CorrelogramBins", "correlogram_bins", "autocorrelograms", "cross_correlograms", "cross_correlogram"]


@dataclass(frozen=True)
class CorrelogramBins:
    """The binning of lags: ``lut[lag - lag_min]`` is the bin of every kept integer lag."""

    n_bins: int
    lag_min: int
    lag_max: int
    lut: np.ndarray
    bin_edges_sec: np.ndarray


def _exact(x: float, what: str) -> Fraction:
    try:
        value = Fraction(repr(float(x)))
    except (TypeError, ValueError, OverflowError) as exc:
        raise TaskInputError(f"{what} must be a finite number, got {x!r}") from exc
    if value <= 0:
        raise TaskInputError(f"{what} must be positive, got {x!r}")
    return value


def correlogram_bins(window_ms: float, bin_ms: float, sampling_frequency: float) -> CorrelogramBins:
    """Validate the window and bin size and build the exact lag -> bin table."""
    window = _exact(window_ms, "windowMs")
    width = _exact(bin_ms, "binMs")
    fs = _exact(sampling_frequency, "the sampling frequency")
    ratio = window / width
    if ratio.denominator != 1:
        raise TaskInputError(
            f"windowMs ({window_ms}) must be a whole multiple of binMs ({bin_ms}); e.g. windowMs="
            f"{float(width * max(1, round(ratio)))} gives {max(1, round(ratio))} bins"
        )
    n_bins = int(ratio)
    bin_frames = width * fs / 1000
    half = window * fs / 2000
    lag_min = -(half.numerator // half.denominator)          # smallest integer >= -half
    lag_max = -((-half.numerator) // half.denominator) - 1   # largest integer < half
    if lag_max - lag_min > 50_000_000:
        raise TaskInputError(f"windowMs={window_ms} spans {lag_max - lag_min} frames; use a window under ~1000 s")
    # k = floor((lag + half) / bin_frames) = floor((lag * D + H) / B) with integers D, H, B
    den = half.denominator * bin_frames.denominator // np.gcd(half.denominator, bin_frames.denominator)
    h_int = int(half * den)
    b_int = int(bin_frames * den)
    lags = np.arange(lag_min, lag_max + 1, dtype=object) if den * (2 * h_int + 1) > 2**62 else \
        np.arange(lag_min, lag_max + 1, dtype=np.int64)
    lut = ((lags * den + h_int) // b_int).astype(np.int32)
    edges = np.linspace(-float(window) / 2000, float(window) / 2000, n_bins + 1)
    return CorrelogramBins(n_bins, int(lag_min), int(lag_max), lut, edges)


@contextlib.contextmanager
def _threads():
    """Run with NUMBA_NUM_THREADS threads (the environment's choice), then restore the current setting.

    spikeinterface's numba functions call ``numba.set_num_threads(n_jobs)`` and leave it (1 by default), so
    a worker process that ran one of them would otherwise run these kernels on a single core.
    """
    previous = numba.get_num_threads()
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    # hand the prange iterations (units, groups of units) out one at a time as threads come free, instead of
    # one equal share per thread: on shared cores a descheduled thread no longer holds the others up
    # (all pairs of 400 units at load average 8 on 2 cores: 1.3-2.7 s against 2.0-3.0 s)
    chunksize = numba.set_parallel_chunksize(1)
    try:
        yield
    finally:
        numba.set_parallel_chunksize(chunksize)
        numba.set_num_threads(previous)


def _pack(trains: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate trains into one int64 array with offsets; check each is sorted integer frames."""
    arrays = []
    for idx, t in enumerate(trains):
        a = np.asarray(t)
        if a.ndim != 1:
            raise TaskInputError(f"spike train {idx} must be one-dimensional, got shape {a.shape}")
        if a.size and not np.issubdtype(a.dtype, np.integer):
            raise TaskInputError(f"spike train {idx} must hold integer frames, got dtype {a.dtype}")
        a = a.astype(np.int64, copy=False)
        if a.size > 1 and np.any(a[1:] < a[:-1]):
            raise TaskInputError(f"spike train {idx} is not sorted by time; sort it first (np.sort)")
        arrays.append(a)
    offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
    np.cumsum([a.size for a in arrays], out=offsets[1:])
    times = np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int64)
    return times, offsets


@numba.njit(parallel=True, cache=True, nogil=True)
def _auto_kernel(times, offsets, lut_fwd, lut_rev, reach, out):  # pragma: no cover - compiled
    # Each sorted pair a < b of a train is visited once and counted at lag d and at lag -d.
    for i in numba.prange(offsets.size - 1):
        start, stop = offsets[i], offsets[i + 1]
        row = out[i]
        for a in range(start, stop):
            t = times[a]
            for b in range(a + 1, stop):
                d = times[b] - t
                if d > reach:
                    break
                row[lut_fwd[d]] += 1
                row[lut_rev[d]] += 1


GROUP = 4  # units per parallel work item of the all-pairs kernel (a power of 2)


@numba.njit(parallel=True, cache=True, nogil=True)
def _cross_kernel(keys, shift, positions, group_offsets, n_units, lut_code, code_fwd, code_rev, reach,
                  fwd, rev):  # pragma: no cover - compiled
    # keys = time << shift | unit, in time order. A work item is a group of GROUP units: for each spike a
    # of its units, in time order, it visits the spikes b after a in the merged order (so each unordered
    # pair once, and neighbouring reference spikes share their window in cache). One increment per pair:
    # lut_code[d] names the pair (bin of lag d, bin of lag -d), and the group's histogram of codes per
    # (unit, unit) is decoded into fwd[i] (a as reference) and rev[i] (b as reference; transposed by the
    # caller). The int32 histogram belongs to the item's thread and is decoded before a cell could overflow.
    # The loop runs on unsigned integers: numba then skips its negative-index wrap-around on every access,
    # a quarter of the time of this loop (keys are non-negative and ascending, lags d >= 0).
    n = keys.size
    n_codes = code_fwd.size
    ukeys = keys.view(np.uint64)
    ushift = np.uint64(shift)
    mask = np.uint64((1 << shift) - 1)
    ureach = np.uint64(reach)
    ucodes = np.uint64(n_codes)
    un = np.uint64(n)
    one = np.uint64(1)
    limit = 2**31 - 1
    for g in numba.prange(group_offsets.size - 1):
        u0 = g * GROUP
        h = np.zeros(GROUP * n_units * n_codes, np.int32)
        pending = 0
        end = np.uint64(0)
        p = np.uint64(0)
        stop = group_offsets[g + 1]
        for e in range(group_offsets[g], stop + 1):
            if e < stop:
                p = np.uint64(positions[e])
                kp = ukeys[p]
                t = kp >> ushift
                if end <= p:
                    end = p + one
                while end < un and (ukeys[end] >> ushift) - t <= ureach:
                    end += one
            visits = np.int64(end - p)
            if e == stop or pending + visits > limit:
                _decode(h, u0, n_units, code_fwd, code_rev, fwd, rev)
                pending = 0
                if e == stop:
                    break
            pending += visits
            base = np.uint64((np.int64(kp & mask) - u0) * n_units) * ucodes
            for q in range(p + one, end):
                k = ukeys[q]
                h[base + (k & mask) * ucodes + np.uint64(lut_code[(k >> ushift) - t])] += 1


@numba.njit(cache=True, nogil=True)
def _decode(h, u0, n_units, code_fwd, code_rev, fwd, rev):  # pragma: no cover - compiled
    # add a group's code histogram to the fwd/rev rows of its units, and clear it
    n_codes = code_fwd.size
    width = fwd.shape[1] // n_units
    for local in range(GROUP):
        unit = u0 + local
        if unit >= n_units:
            break
        for j in range(n_units):
            cell = (local * n_units + j) * n_codes
            for c in range(n_codes):
                v = h[cell + c]
                if v:
                    fwd[unit, j * width + code_fwd[c]] += v
                    rev[unit, j * width + code_rev[c]] += v
                    h[cell + c] = 0


# The same kernels compiled without threads: small inputs finish before a thread pool would even start, and
# they do not wait for busy cores (a 20,000 x 20,000-spike pair takes about 1 ms).
def _serial(kernel, name: str):
    # a copy under its own name: numba's on-disk cache is keyed by the function's qualified name, not by
    # the parallel flag, so the same function compiled twice would overwrite one build with the other
    func = kernel.py_func
    copy = types.FunctionType(func.__code__, func.__globals__, name, func.__defaults__, func.__closure__)
    copy.__qualname__ = name
    return numba.njit(cache=True, nogil=True)(copy)


_auto_kernel_serial = _serial(_auto_kernel, "_auto_kernel_serial")
_cross_kernel_serial = _serial(_cross_kernel, "_cross_kernel_serial")
SERIAL_BELOW_SPIKES = 200_000


def _pair_codes(bins: CorrelogramBins) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """For d = 0..reach: a code naming (bin of lag d, bin of lag -d), spare bin n_bins when out of window.

    There are at most about 2 * n_bins codes: the two bins move monotonically with d.
    """
    fwd, rev, reach = _directed_luts(bins)
    pairs = fwd.astype(np.int64) * (bins.n_bins + 1) + rev
    unique, lut_code = np.unique(pairs, return_inverse=True)
    code_fwd = (unique // (bins.n_bins + 1)).astype(np.int64)
    code_rev = (unique % (bins.n_bins + 1)).astype(np.int64)
    return lut_code.astype(np.int32), code_fwd, code_rev, reach


def _directed_luts(bins: CorrelogramBins) -> tuple[np.ndarray, np.ndarray, int]:
    """Bins of lags +d and -d for d = 0..reach; lags outside the window go to a spare bin n_bins."""
    reach = max(bins.lag_max, -bins.lag_min)
    d = np.arange(reach + 1)
    fwd = np.where(d <= bins.lag_max, bins.lut[np.minimum(d, bins.lag_max) - bins.lag_min], bins.n_bins)
    rev = np.where(-d >= bins.lag_min, bins.lut[np.maximum(-d, bins.lag_min) - bins.lag_min], bins.n_bins)
    return fwd.astype(np.int32), rev.astype(np.int32), int(reach)


def autocorrelograms(trains: Sequence[np.ndarray], *, window_ms: float, bin_ms: float,
                     sampling_frequency: float) -> np.ndarray:
    """Autocorrelograms of sorted spike trains (frames): int64 array (n_units, n_bins)."""
    bins = correlogram_bins(window_ms, bin_ms, sampling_frequency)
    times, offsets = _pack(trains)
    lut_fwd, lut_rev, reach = _directed_luts(bins)
    out = np.zeros((len(offsets) - 1, bins.n_bins + 1), dtype=np.int64)
    with _threads(), numba.parallel_chunksize(1):  # units differ in size: hand them out one at a time
        kernel = _auto_kernel_serial if times.size < SERIAL_BELOW_SPIKES else _auto_kernel
        kernel(times, offsets, lut_fwd, lut_rev, reach, out)
    return out[:, :-1].copy()


def cross_correlograms(trains: Sequence[np.ndarray], *, window_ms: float, bin_ms: float,
                       sampling_frequency: float) -> np.ndarray:
    """Correlograms of every ordered pair: int64 array (n_units, n_units, n_bins).

    ``out[i, j, k]`` counts the pairs (spike a of unit i, spike b of unit j) whose lag t_b - t_a falls in
    bin k; the diagonal holds the autocorrelograms. Memory: about three times the output array.
    """
    bins = correlogram_bins(window_ms, bin_ms, sampling_frequency)
    concatenated, offsets = _pack(trains)
    n_units, width = len(offsets) - 1, bins.n_bins + 1
    if concatenated.size == 0:
        return np.zeros((n_units, n_units, bins.n_bins), dtype=np.int64)
    keys, shift = _merge(concatenated, offsets)
    # the spikes of each group of units as positions in the merged order (increasing, i.e. in time order)
    groups = (keys & ((1 << shift) - 1)) // GROUP
    n_groups = -(-n_units // GROUP)
    positions = np.argsort(groups.astype(np.uint16) if n_groups < 2**16 else groups, kind="stable")
    group_offsets = np.zeros(n_groups + 1, dtype=np.int64)
    np.cumsum(np.bincount(groups, minlength=n_groups), out=group_offsets[1:])
    lut_code, code_fwd, code_rev, reach = _pair_codes(bins)
    fwd = np.zeros((n_units, n_units * width), dtype=np.int64)
    rev = np.zeros((n_units, n_units * width), dtype=np.int64)
    with _threads(), numba.parallel_chunksize(1):  # groups differ in size: hand them out one at a time
        kernel = _cross_kernel_serial if keys.size < SERIAL_BELOW_SPIKES or n_groups == 1 else _cross_kernel
        kernel(keys, shift, positions, group_offsets, n_units, lut_code, code_fwd, code_rev, reach, fwd, rev)
    return _combine(fwd, rev, n_units, bins.n_bins)


def _merge(concatenated: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, int]:
    """All spikes in time order as keys ``(t - t_min) << shift | unit index`` (ties by unit), and shift."""
    n_units = len(offsets) - 1
    shift = max(1, (n_units - 1).bit_length())
    t_min = int(concatenated.min())
    span = int(concatenated.max()) - t_min + 1
    if span >= 2**62 >> shift:
        raise TaskInputError(f"spike frames span {span} frames, too many to correlate {n_units} units at once")
    keys = np.empty_like(concatenated)
    if not _bucket_sort(concatenated, offsets, t_min, shift, max(1, concatenated.size // 8), span, keys):
        keys.sort()  # spikes bunched in a few buckets: a comparison sort is safer than insertion sort
    return keys, shift


@numba.njit(cache=True, nogil=True)
def _bucket_sort(times, offsets, t_min, shift, n_buckets, span, out):  # pragma: no cover - compiled
    # Writes the keys (t - t_min) << shift | unit of all spikes, sorted, into out and returns True:
    # counting sort by time bucket, then insertion sort inside each bucket; O(n) for spike trains, whose
    # times spread over the recording. Returns False (keys in out, unsorted) when a bucket is too full.
    n = times.size
    scale = n_buckets / span
    bucket = np.empty(n, np.int64)
    starts = np.zeros(n_buckets + 1, np.int64)
    for u in range(offsets.size - 1):
        for x in range(offsets[u], offsets[u + 1]):
            out[x] = ((times[x] - t_min) << shift) | u
            b = min(int((times[x] - t_min) * scale), n_buckets - 1)
            bucket[x] = b
            starts[b + 1] += 1
    full = False
    for b in range(n_buckets):
        full = full or starts[b + 1] > 512
        starts[b + 1] += starts[b]
    if full:
        return False
    keys = out.copy()
    fill = starts[:-1].copy()
    for x in range(n):
        out[fill[bucket[x]]] = keys[x]
        fill[bucket[x]] += 1
    for b in range(n_buckets):
        for x in range(starts[b] + 1, starts[b + 1]):
            v = out[x]
            y = x - 1
            while y >= starts[b] and out[y] > v:
                out[y + 1] = out[y]
                y -= 1
            out[y + 1] = v
    return True


@numba.njit(parallel=True, cache=True, nogil=True)
def _combine(fwd, rev, n_units, n_bins):  # pragma: no cover - compiled
    # out[i, j] = fwd[i, j] + rev[j, i] (dropping the spare bin): a blocked transpose-add
    width = n_bins + 1
    out = np.empty((n_units, n_units, n_bins), np.int64)
    for i in numba.prange(n_units):
        for j in range(n_units):
            for k in range(n_bins):
                out[i, j, k] = fwd[i, j * width + k] + rev[j, i * width + k]
    return out


def cross_correlogram(train1: np.ndarray, train2: np.ndarray, *, window_ms: float, bin_ms: float,
                      sampling_frequency: float) -> np.ndarray:
    """The correlogram of one ordered pair (lags t2 - t1): int64 array (n_bins,)."""
    return cross_correlograms([train1, train2], window_ms=window_ms, bin_ms=bin_ms,
                              sampling_frequency=sampling_frequency)[0, 1]
