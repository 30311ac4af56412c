"""Noise level of recording traces: MAD / 0.6745 per channel, on seeded random chunks.

MAD / 0.6745 is the standard deviation of Gaussian noise, but robust to the spikes riding on it. As
spikeinterface's ``get_noise_levels`` (method "mad"), the estimate is taken per chunk and averaged over the
chunks: that smooths the steps a single median has on int16-quantized data. The chunk positions come
from :func:`random_chunk_starts`, so a recording's noise levels are the same in every task that needs them
(``recording_info`` shows them, ``unit_metrics`` divides by them for the SNR).
"""
from __future__ import annotations

from typing import Iterable

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
