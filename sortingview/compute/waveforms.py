"""Average waveforms from accumulated snippet moments; peak channel and peak frame."""
from __future__ import annotations

import numpy as np


def mean_and_std(sums: np.ndarray, sumsq: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-group mean and standard deviation (ddof=0) from sums and sums of squares.

    ``sums``/``sumsq`` have shape (groups, frames, channels); ``counts`` the number of snippets per group.
    Groups with no snippet get NaN.
    """
    n = np.asarray(counts, dtype=np.float64)[:, None, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums / n
        var = sumsq / n - mean * mean
    # rounding can make a zero variance slightly negative
    return mean, np.sqrt(np.maximum(var, 0.0, where=np.isfinite(var), out=var))


def peak_channel_index(waveform: np.ndarray) -> int:
    """Channel (column) of ``waveform`` (frames x channels) with the largest absolute value."""
    return int(np.argmax(np.max(np.abs(waveform), axis=0)))


def peak_frame_index(trace: np.ndarray) -> int:
    """Frame of the largest absolute value of a one-channel waveform."""
    return int(np.argmax(np.abs(trace)))


def scale_waveforms(mean_raw: np.ndarray, std_raw: np.ndarray, gains: np.ndarray,
                    offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Raw-unit mean/std (channels on the last axis) to microvolts: mean * gain + offset, std * |gain|."""
    return mean_raw * gains + offsets, std_raw * np.abs(gains)
