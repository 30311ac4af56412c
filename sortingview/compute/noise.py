"""Noise level of recording traces: MAD / 0.6745 per channel, on seeded random chunks.

MAD / 0.6745 is the standard deviation of Gaussian noise, but robust to the spikes riding on it. As
spikeinterface's ``get_noise_levels`` (method "mad"), the estimate is taken per chunk and averaged over the
chunks: that smooths the steps a single median has on int16-quantized data. The chunk positions come
from :func:`random_chunk_starts`, so a recording's noise levels are the same in every task that needs them
(``recording_info`` shows them, ``unit_metrics`` divides by them for the SNR).
"""
from __future__ import annotations

from typing import Iterable

import numba
import numpy as np

#: MAD of a standard normal distribution (the 75th percentile of |N(0, 1)|)
MAD_OF_STANDARD_NORMAL = 0.6744897501960817


def random_chunk_starts(num_frames: int, chunk_frames: int, num_chunks: int, seed: int = 0) -> tuple[np.ndarray, int]:
    """Sorted start frames of ``num_chunks`` random chunks and their length (at most the recording's).

    Sorted so that the chunks are read in time order; chunks may overlap on short recordings.
    """
    size = int(min(chunk_frames, num_frames))
    if size <= 0 or num_chunks <= 0:
        return np.zeros(0, dtype=np.int64), 0
    starts = np.random.default_rng(seed).integers(0, num_frames - size + 1, size=num_chunks)
    return np.sort(starts).astype(np.int64), size


def mad_noise_levels(chunks: Iterable[np.ndarray]) -> np.ndarray:
    """Per-channel noise of ``chunks`` (each frames x channels): MAD / 0.6745 of each chunk, averaged."""
    per_chunk = []
    for chunk in chunks:
        c = np.asarray(chunk, dtype=np.float32)
        deviation = np.abs(c - np.median(c, axis=0))
        per_chunk.append(np.median(deviation, axis=0) / MAD_OF_STANDARD_NORMAL)
    if not per_chunk:
        raise ValueError("noise levels need at least one chunk of traces")
    return np.mean(per_chunk, axis=0).astype(np.float32)


def mad_noise_levels_of_integers(chunks: Iterable[np.ndarray], gains: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """:func:`mad_noise_levels` of ``float32(raw * gains + offsets)`` for chunks of 8- or 16-bit integers.

    The same value, bit for bit, without scaling or partitioning the chunk: the medians are order statistics of
    the few distinct samples of each channel (counted), so each chunk costs a count per sample instead of two
    partitions of floats. Each distinct sample is scaled as ``TraceSource.to_uv`` scales it (float64, then
    float32), and a median of an even count is the float32 mean of the two middle values, as in numpy.
    """
    gains, offsets = np.asarray(gains, np.float64), np.asarray(offsets, np.float64)
    per_chunk = []
    for chunk in chunks:
        raw = np.ascontiguousarray(np.asarray(chunk).T)  # channels x frames
        if raw.dtype.kind not in "iu" or raw.dtype.itemsize > 2:
            raise ValueError(f"mad_noise_levels_of_integers needs 8- or 16-bit integer samples, got {raw.dtype}")
        per_chunk.append(_mad_per_channel(raw, gains, offsets) / MAD_OF_STANDARD_NORMAL)
    if not per_chunk:
        raise ValueError("noise levels need at least one chunk of traces")
    return np.mean(per_chunk, axis=0).astype(np.float32)


@numba.njit(cache=True, nogil=True)
def _median_of_counted(values, counts, n):
    """np.median (float32) of a multiset given as distinct ``values`` with ``counts`` (n in all)."""
    order = np.argsort(values)
    k1, k2 = (n - 1) // 2, n // 2
    a, b = values[order[0]], values[order[0]]
    seen = 0
    for j in order:
        if seen <= k1 < seen + counts[j]:
            a = values[j]
        if seen <= k2 < seen + counts[j]:
            b = values[j]
            break
        seen += counts[j]
    if k1 == k2:
        return a
    return (a + b) / np.float32(2.0)


@numba.njit(cache=True, nogil=True)
def _mad_per_channel(raw, gains, offsets):
    n_ch, n = raw.shape
    out = np.empty(n_ch, np.float32)
    for c in range(n_ch):
        lo, hi = np.int64(raw[c, 0]), np.int64(raw[c, 0])
        for i in range(n):
            lo, hi = min(lo, np.int64(raw[c, i])), max(hi, np.int64(raw[c, i]))
        counts = np.zeros(hi - lo + 1, np.int64)
        for i in range(n):
            counts[np.int64(raw[c, i]) - lo] += 1
        distinct = np.nonzero(counts)[0]
        uv = np.empty(len(distinct), np.float32)
        for j in range(len(distinct)):
            uv[j] = np.float32(np.float64(distinct[j] + lo) * gains[c] + offsets[c])
        weights = counts[distinct]
        median = _median_of_counted(uv, weights, n)
        deviation = np.abs(uv - median)
        out[c] = _median_of_counted(deviation, weights, n)
    return out
