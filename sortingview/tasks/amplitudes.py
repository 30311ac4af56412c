"""Spike amplitudes over time: each spike's sample on its unit's peak channel at the template's peak frame.

The peak channel and peak frame come from the unit's average waveform (as in ``average_waveforms``); the
amplitude of a spike at frame t is the recording (microvolts, signed) at frame t + peak frame - frames before,
on that channel. Spikes whose amplitude frame falls outside the recording are left out.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..compute.snippets import select_spread, unit_seed
from ._objects import load_recording, load_sorting, resolve_units, unit_spike_train
from ._packing import concatenated, spike_offsets
from .registry import register_task
from .spike_pass import spike_pass, unit_amplitudes
from .waveforms import (
    UnitTemplate,
    as_json_unit,
    check_positive,
    check_snippet_len,
    unit_templates,
)

TEMPLATE_SPIKES = 500


def amplitudes_of(rec, sort, templates: list[UnitTemplate], before: int, max_spikes: int | None,
                  frames_per_unit: list[np.ndarray] | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """(spike frames, amplitudes) of each templated unit, from one pass over the recording for all units
    (``spike_pass``, kept for the next task on the same templates: often the pass average_waveforms made).

    Without ``frames_per_unit``, the spikes are the unit's train (at most ``max_spikes``, spread in time).
    """
    if frames_per_unit is None and max_spikes is not None:
        frames_per_unit = []
        for t in templates:
            train = unit_spike_train(sort, t.unit)
            frames_per_unit.append(train[select_spread(len(train), max_spikes, unit_seed(t.unit))])
    result = spike_pass(rec, sort, templates, before, frames_per_unit=frames_per_unit)
    return [unit_amplitudes(result, i, None, None if frames_per_unit is None else frames_per_unit[i])
            for i in range(len(templates))]


@register_task("sortingview.spike_amplitudes.1", handler="misc")
def spike_amplitudes(recording: str, sorting: str, unitIds: list | None = None,
                     maxSpikesPerUnit: int | None = None, snippetLen: list[int] = (30, 60)) -> dict:
    """Amplitude (microvolts, signed) and time of every spike (or at most ``maxSpikesPerUnit``) of each unit."""
    before, after = check_snippet_len(list(snippetLen))
    maxSpikesPerUnit = check_positive("maxSpikesPerUnit", maxSpikesPerUnit, allow_none=True)
    rec, sort = load_recording(recording), load_sorting(sorting)
    units: list[Any] = resolve_units(sort, unitIds)
    templates = unit_templates(rec, sort, units, before, after, TEMPLATE_SPIKES)
    fs = rec.get_sampling_frequency()
    entries = []
    for t, (frames, amps) in zip(templates, amplitudes_of(rec, sort, templates, before, maxSpikesPerUnit),
                                 strict=True):
        entries.append({
            "unitId": as_json_unit(t.unit),
            "peakChannelId": None if t.peak_channel is None else as_json_unit(rec.get_channel_ids()[t.peak_channel]),
            "timesSec": (frames / fs).astype(np.float64),
            "amplitudes": amps.astype(np.float32),
        })
    return {"spikeAmplitudes": entries}


@register_task("sortingview.spike_amplitudes.2", handler="misc")
def spike_amplitudes_packed(recording: str, sorting: str, unitIds: list | None = None,
                            maxSpikesPerUnit: int | None = None, snippetLen: list[int] = (30, 60)) -> dict:
    """As ``.1``, packed: all units' spikes in one ``timesSec`` and one ``amplitudes`` array, unit after unit.

    Unit i's spikes are ``[spikeOffsets[i], spikeOffsets[i + 1])``.
    """
    before, after = check_snippet_len(list(snippetLen))
    maxSpikesPerUnit = check_positive("maxSpikesPerUnit", maxSpikesPerUnit, allow_none=True)
    rec, sort = load_recording(recording), load_sorting(sorting)
    units: list[Any] = resolve_units(sort, unitIds)
    templates = unit_templates(rec, sort, units, before, after, TEMPLATE_SPIKES)
    pairs = amplitudes_of(rec, sort, templates, before, maxSpikesPerUnit)
    channel_ids = rec.get_channel_ids()
    return {
        "unitIds": [as_json_unit(u) for u in units],
        "peakChannelIds": [None if t.peak_channel is None else as_json_unit(channel_ids[t.peak_channel])
                           for t in templates],
        "spikeOffsets": spike_offsets([len(f) for f, _ in pairs]),
        "timesSec": concatenated([f for f, _ in pairs], np.int64).astype(np.float64) / rec.get_sampling_frequency(),
        "amplitudes": concatenated([a for _, a in pairs], np.float32),
    }
