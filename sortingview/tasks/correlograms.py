"""Autocorrelograms and cross-correlograms (exact counts: see ``compute/correlograms.py`` and doc/tasks.md).

Counts of every segment of the sorting are added (a lag never spans two segments). A unit may be a merge
group (a list of unit ids): its spike train is the union of its members' trains.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..compute.correlograms import autocorrelograms as _autos
from ..compute.correlograms import correlogram_bins
from ..compute.correlograms import cross_correlograms as _crosses
from ._objects import load_sorting, resolve_units, unit_spike_train
from ._packing import compact_counts
from .registry import register_task


def _json_unit(unit: Any) -> Any:
    if isinstance(unit, (list, tuple)):
        return [_json_unit(u) for u in unit]
    return unit.item() if hasattr(unit, "item") else unit


def _compact(counts: np.ndarray) -> np.ndarray:
    """int32 counts when they fit (what the viewer decodes fastest), int64 otherwise."""
    return counts.astype(np.int32) if counts.size == 0 or counts.max() < 2**31 else counts


def _summed_over_segments(kernel, sorting, units: list, window_ms: float, bin_ms: float) -> np.ndarray:
    fs = float(sorting.get_sampling_frequency())
    total = None
    for seg in range(sorting.get_num_segments()):
        trains = [unit_spike_train(sorting, u, segment_index=seg) for u in units]
        counts = kernel(trains, window_ms=window_ms, bin_ms=bin_ms, sampling_frequency=fs)
        total = counts if total is None else total + counts
    return total


@register_task("sortingview.autocorrelograms.1", handler="correlograms")
def autocorrelograms(sorting: str, unitIds: list | None = None, windowMs: float = 50.0, binMs: float = 1.0) -> dict:
    """The autocorrelogram of each unit (all units by default)."""
    srt = load_sorting(sorting)
    bins = correlogram_bins(windowMs, binMs, srt.get_sampling_frequency())  # validates before loading trains
    units = resolve_units(srt, unitIds)
    counts = _summed_over_segments(_autos, srt, units, windowMs, binMs)
    return {
        "binEdgesSec": bins.bin_edges_sec,
        "autocorrelograms": [{"unitId": _json_unit(u), "binCounts": _compact(c)} for u, c in zip(units, counts,
                                                                                                 strict=True)],
    }


@register_task("sortingview.cross_correlograms.1", handler="correlograms")
def cross_correlograms(sorting: str, unitIds: list, windowMs: float = 50.0, binMs: float = 1.0) -> dict:
    """The correlogram of every ordered pair (unitId1, unitId2) of the units, the diagonal included.

    binCounts[k] counts spikes of unitId2 at lag t2 - t1 in bin k around each spike of unitId1.
    """
    srt = load_sorting(sorting)
    bins = correlogram_bins(windowMs, binMs, srt.get_sampling_frequency())
    units = resolve_units(srt, unitIds)
    counts = _summed_over_segments(_crosses, srt, units, windowMs, binMs)
    pairs = [{"unitId1": _json_unit(u1), "unitId2": _json_unit(u2), "binCounts": _compact(counts[i, j])}
             for i, u1 in enumerate(units) for j, u2 in enumerate(units)]
    return {"binEdgesSec": bins.bin_edges_sec, "crossCorrelograms": pairs}


@register_task("sortingview.autocorrelograms.2", handler="correlograms")
def autocorrelograms_packed(sorting: str, unitIds: list | None = None, windowMs: float = 50.0,
                            binMs: float = 1.0) -> dict:
    """As ``.1``, packed: ``binCounts`` is one units x bins array (row i is ``unitIds[i]``)."""
    srt = load_sorting(sorting)
    bins = correlogram_bins(windowMs, binMs, srt.get_sampling_frequency())
    units = resolve_units(srt, unitIds)
    counts = _summed_over_segments(_autos, srt, units, windowMs, binMs)
    counts = np.asarray(counts).reshape(len(units), len(bins.bin_edges_sec) - 1)
    return {"binEdgesSec": bins.bin_edges_sec, "unitIds": [_json_unit(u) for u in units],
            "binCounts": compact_counts(counts)}


@register_task("sortingview.cross_correlograms.2", handler="correlograms")
def cross_correlograms_packed(sorting: str, unitIds: list, windowMs: float = 50.0, binMs: float = 1.0) -> dict:
    """As ``.1``, packed: row k of the pairs x bins ``binCounts`` is the pair (unitIds1[k], unitIds2[k]).

    Pairs are every ordered pair in row-major order of ``unitIds``, the diagonal included.
    """
    srt = load_sorting(sorting)
    bins = correlogram_bins(windowMs, binMs, srt.get_sampling_frequency())
    units = resolve_units(srt, unitIds)
    n_bins = len(bins.bin_edges_sec) - 1
    counts = _summed_over_segments(_crosses, srt, units, windowMs, binMs).reshape(len(units) ** 2, n_bins)
    ids = [_json_unit(u) for u in units]
    return {"binEdgesSec": bins.bin_edges_sec, "unitIds1": [u for u in ids for _ in ids],
            "unitIds2": ids * len(ids), "binCounts": compact_counts(counts)}
