"""Min/max downsampling of traces for display, by factors that are powers of 3.

Downsampling by ``ds`` splits time into bins of ``ds`` frames aligned on multiples of ``ds`` (bin b holds
frames [b * ds, (b + 1) * ds), the last bin of a recording may be shorter) and keeps, per channel, the
minimum and the maximum of each bin: a plot of both shows every spike however far one zooms out, which an
average or a decimation would hide. Powers of 3 make the levels nest: a bin of level p is exactly 3 bins
of level p - 1, so a level is computed from the one below and a pyramid of levels serves any zoom.

Displayed traces interleave the two: rows 2b and 2b + 1 are the minimum and the maximum of bin b.
"""
from __future__ import annotations

import numpy as np

__all__ = ["choose_ds_factor", "bin_range", "minmax_bins", "combine_minmax", "interleave"]


def bin_range(start_frame: int, end_frame: int, ds: int) -> tuple[int, int]:
    """Bins [b0, b1) of factor ``ds`` that the frames [start_frame, end_frame) touch."""
    return start_frame // ds, -(-end_frame // ds)


def choose_ds_factor(start_frame: int, end_frame: int, max_samples: int) -> int:
    """The smallest power of 3 at which the window fits in ``max_samples`` rows.

    Factor 1 returns the frames themselves (end - start rows); a factor ds > 1 returns two rows (min and
    max) for each bin the window touches.
    """
    if max_samples < 2:
        raise ValueError("max_samples must be at least 2 (one min/max pair)")
    if end_frame - start_frame <= max_samples:
        return 1
    ds = 3
    while True:
        b0, b1 = bin_range(start_frame, end_frame, ds)
        if 2 * (b1 - b0) <= max_samples:
            return ds
        ds *= 3


def minmax_bins(traces: np.ndarray, ds: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-bin minimum and maximum (bins x channels) of ``traces`` (frames x channels), bins of ``ds`` frames
    from its first row; a last partial bin is reduced over the rows it has. Keeps the dtype."""
    traces = np.asarray(traces)
    n, n_ch = traces.shape
    full = n // ds
    head = traces[: full * ds].reshape(full, ds, n_ch)
    mins, maxs = head.min(axis=1), head.max(axis=1)
    if full * ds < n:
        tail = traces[full * ds:]
        mins = np.concatenate([mins, tail.min(axis=0, keepdims=True)])
        maxs = np.concatenate([maxs, tail.max(axis=0, keepdims=True)])
    return mins, maxs


def combine_minmax(mins: np.ndarray, maxs: np.ndarray, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """Reduce per-bin minima and maxima by ``factor`` more (the next pyramid level is ``factor`` = 3)."""
    return minmax_bins(mins, factor)[0], minmax_bins(maxs, factor)[1]


def interleave(mins: np.ndarray, maxs: np.ndarray) -> np.ndarray:
    """Rows min0, max0, min1, max1, ... (2 * bins x channels)."""
    out = np.empty((2 * mins.shape[0],) + mins.shape[1:], dtype=np.result_type(mins, maxs))
    out[0::2] = mins
    out[1::2] = maxs
    return out
