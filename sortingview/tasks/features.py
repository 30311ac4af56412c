"""PCA features of one unit, and the discriminating features of a pair of units (the pair view).

Both work on the snippets of the unit's selected spikes (at most ``maxSpikesPerUnit``, spread over time, the
same spikes as its average waveform) on the ``neighborhoodSize`` channels nearest its peak channel; for a pair,
on the union of the two neighbourhoods.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from ..compute.features import pair_features as pair_kernel
from ..compute.features import pca_features, single_thread_blas
from ..compute.neighborhood import nearest_channels
from ..errors import TaskInputError
from ._objects import load_recording, load_sorting, resolve_units
from ._packing import concatenated, spike_offsets
from ._reading import kernel_threads, trace_source
from .registry import register_task
from .waveforms import (
    as_json_unit,
    channel_locations,
    check_positive,
    check_snippet_len,
    read_snippets,
    unit_templates,
)


def unit_snippet_sets(rec, sort, units: list[Any], before: int, after: int, max_spikes: int,
                      size: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(spike frames, channel indices, snippets) of each unit, from two time-ordered passes in total."""
    templates = unit_templates(rec, sort, units, before, after, max_spikes)
    locations = channel_locations(rec)
    chans = [np.zeros(0, np.int64) if t.peak_channel is None else nearest_channels(locations, t.peak_channel, size)
             for t in templates]
    snippets = read_snippets(trace_source(rec), [t.frames for t in templates], chans, before, after)
    return [(t.frames, c, s) for t, c, s in zip(templates, chans, snippets, strict=True)]


def features_of_units(rec, sort, units: list[Any], num_components: int, before: int = 30, after: int = 60,
                      max_spikes: int = 500, size: int = 7) -> list[tuple[np.ndarray, np.ndarray]]:
    """(spike frames, PCA features) of each unit; one pass for all units (the benchmark uses it for 100)."""
    sets = unit_snippet_sets(rec, sort, units, before, after, max_spikes, size)
    # one BLAS limit for the whole loop; units on the kernels' threads (BLAS releases the GIL; each unit's
    # result is the same on any thread: its own seeded iteration on one BLAS thread)
    workers = min(kernel_threads(), len(sets))
    with single_thread_blas:
        if workers <= 1:
            return [(frames, pca_features(snips, num_components)) for frames, _, snips in sets]
        with ThreadPoolExecutor(workers) as pool:
            features = list(pool.map(lambda item: pca_features(item[2], num_components), sets))
    return [(frames, f) for (frames, _, _), f in zip(sets, features, strict=True)]


@register_task("sortingview.unit_features.1", handler="clusters")
def unit_features(recording: str, sorting: str, unitId: Any, numComponents: int = 3,
                  snippetLen: list[int] = (30, 60), maxSpikesPerUnit: int = 500, neighborhoodSize: int = 7) -> dict:
    """The first ``numComponents`` principal-component features of one unit's snippets."""
    before, after = check_snippet_len(list(snippetLen))
    for name, value in (("numComponents", numComponents), ("maxSpikesPerUnit", maxSpikesPerUnit),
                        ("neighborhoodSize", neighborhoodSize)):
        check_positive(name, value)
    rec, sort = load_recording(recording), load_sorting(sorting)
    unit = resolve_units(sort, [unitId])[0]
    frames, features = features_of_units(rec, sort, [unit], numComponents, before, after, maxSpikesPerUnit,
                                         neighborhoodSize)[0]
    return {"unitId": as_json_unit(unit), "timesSec": frames / rec.get_sampling_frequency(),
            "features": features}


@register_task("sortingview.pair_features.1", handler="clusters")
def pair_features(recording: str, sorting: str, unitId1: Any, unitId2: Any, snippetLen: list[int] = (30, 60),
                  maxSpikesPerUnit: int = 500, neighborhoodSize: int = 7) -> dict:
    """Projection of both units' snippets on the difference of their means (x) and the main residual axis (y)."""
    before, after = check_snippet_len(list(snippetLen))
    maxSpikesPerUnit = check_positive("maxSpikesPerUnit", maxSpikesPerUnit)
    neighborhoodSize = check_positive("neighborhoodSize", neighborhoodSize)
    rec, sort = load_recording(recording), load_sorting(sorting)
    unit1, unit2 = resolve_units(sort, [unitId1, unitId2])
    templates = unit_templates(rec, sort, [unit1, unit2], before, after, maxSpikesPerUnit)
    for t in templates:
        if t.peak_channel is None:
            raise TaskInputError(f"unit {as_json_unit(t.unit)!r} has no spike with a whole snippet inside the "
                                 "recording, so it has no features to compare")
    locations = channel_locations(rec)
    chans = np.union1d(*[nearest_channels(locations, t.peak_channel, neighborhoodSize) for t in templates])
    s1, s2 = read_snippets(trace_source(rec), [t.frames for t in templates], [chans, chans], before, after)
    x, y = pair_kernel(s1, s2)
    times = np.concatenate([templates[0].frames, templates[1].frames]) / rec.get_sampling_frequency()
    return {"unitId1": as_json_unit(unit1), "unitId2": as_json_unit(unit2),
            "channelIds": [as_json_unit(c) for c in rec.get_channel_ids()[chans]],
            "x": x, "y": y, "labels": np.repeat(np.array([1, 2], np.int32), [len(s1), len(s2)]),
            "timesSec": times}


@register_task("sortingview.unit_features.2", handler="clusters")
def unit_features_packed(recording: str, sorting: str, unitIds: list | None = None, numComponents: int = 3,
                         snippetLen: list[int] = (30, 60), maxSpikesPerUnit: int = 500,
                         neighborhoodSize: int = 7) -> dict:
    """PCA features of several units (all by default) in one pass, packed: unit i's rows of ``timesSec`` and
    ``features`` are ``[spikeOffsets[i], spikeOffsets[i + 1])``; each unit's own axes, as ``.1`` computes."""
    before, after = check_snippet_len(list(snippetLen))
    for name, value in (("numComponents", numComponents), ("maxSpikesPerUnit", maxSpikesPerUnit),
                        ("neighborhoodSize", neighborhoodSize)):
        check_positive(name, value)
    rec, sort = load_recording(recording), load_sorting(sorting)
    units = resolve_units(sort, unitIds)
    sets = features_of_units(rec, sort, units, numComponents, before, after, maxSpikesPerUnit, neighborhoodSize)
    fs = rec.get_sampling_frequency()
    return {"unitIds": [as_json_unit(u) for u in units], "spikeOffsets": spike_offsets([len(f) for f, _ in sets]),
            "timesSec": concatenated([f for f, _ in sets], np.int64) / fs,
            "features": concatenated([x for _, x in sets], np.float32, (int(numComponents),))}
