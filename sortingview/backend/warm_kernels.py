"""Load the correlogram kernels into the forkserver, so that every parallel worker forked from it has them.

A cold worker otherwise spends its first correlogram request loading (or compiling) the numba kernels
(doc/benchmarks.md, "Cold worker"). Imported by the forkserver (``pool._mp_context`` preloads this module):
it runs the serial kernels once on a few spikes, the way ``compute.correlograms`` calls them. The parallel
kernels are left alone: running one starts numba's thread pool, which a forked child must not inherit.
It also imports ``spikeinterface.core`` and the sorting reader, which the tasks import lazily (0.5 s in each
worker's first request otherwise).
"""
from __future__ import annotations

import numpy as np

from ..compute import correlograms as cg


def warm_correlogram_kernels() -> None:
    """Run the serial autocorrelogram and cross-correlogram kernels on two tiny trains (no threads started)."""
    bins = cg.correlogram_bins(50.0, 1.0, 30000.0)
    trains = [np.array([0, 100, 900], np.int64), np.array([50, 400], np.int64)]
    times, offsets = cg._pack(trains)
    lut_fwd, lut_rev, reach = cg._directed_luts(bins)
    out = np.zeros((len(trains), bins.n_bins + 1), np.int64)
    cg._auto_kernel_serial(times, offsets, lut_fwd, lut_rev, reach, out)
    # as cross_correlograms does up to its kernel (_combine, parallel, is not run)
    keys, shift = cg._merge(times, offsets)
    groups = (keys & ((1 << shift) - 1)) // cg.GROUP
    positions = np.argsort(groups.astype(np.uint16), kind="stable")
    group_offsets = np.array([0, keys.size], np.int64)
    lut_code, code_fwd, code_rev, reach = cg._pair_codes(bins)
    width = bins.n_bins + 1
    fwd = np.zeros((len(trains), len(trains) * width), np.int64)
    rev = fwd.copy()
    cg._cross_kernel_serial(keys, shift, positions, group_offsets, len(trains), lut_code, code_fwd, code_rev, reach,
                            fwd, rev)


try:
    import spikeinterface.core  # noqa: F401

    from ..extractors import npz_grouped  # noqa: F401 - the reader of stored sortings

    warm_correlogram_kernels()
except Exception:  # noqa: BLE001 - a failed warm-up only means the first request loads the kernels itself
    pass
