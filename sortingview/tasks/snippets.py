"""Per-unit snippets on the channels around the unit's peak channel."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..compute.neighborhood import nearest_channels
from ..errors import TaskInputError
from ._objects import load_recording, load_sorting, resolve_units
from ._packing import channel_index_table, concatenated, spike_offsets
from ._reading import trace_source
from .registry import register_task
from .waveforms import (
    as_json_unit,
    channel_locations,
    check_positive,
    check_snippet_len,
    read_snippets,
    selected_frames,
    unit_templates,
)

# the peak channel is found from the average of this many of the unit's spikes (as average_waveforms does)
TEMPLATE_SPIKES = 500


def unit_neighborhood(rec, sort, unit: Any, before: int, after: int, size: int) -> np.ndarray | None:
    """Channel indices around the unit's peak channel, or None when the unit has no usable spike."""
    template = unit_templates(rec, sort, [unit], before, after, TEMPLATE_SPIKES)[0]
    if template.peak_channel is None:
        return None
    return nearest_channels(channel_locations(rec), template.peak_channel, size)


@register_task("sortingview.unit_snippets.1", handler="extract_snippets")
def unit_snippets(recording: str, sorting: str, unitId: Any, snippetLen: list[int] = (30, 60),
                  maxSnippets: int = 1000, neighborhoodSize: int = 7) -> dict:
    """At most ``maxSnippets`` snippets of one unit (or merge group), spread over the recording."""
    before, after = check_snippet_len(list(snippetLen))
    maxSnippets = check_positive("maxSnippets", maxSnippets)
    neighborhoodSize = check_positive("neighborhoodSize", neighborhoodSize)
    rec, sort = load_recording(recording), load_sorting(sorting)
    unit = resolve_units(sort, [unitId])[0]
    source = trace_source(rec)
    chans = unit_neighborhood(rec, sort, unit, before, after, neighborhoodSize)
    frames = selected_frames(sort, unit, source, before, after, maxSnippets)
    if chans is None:
        chans = np.zeros(0, np.int64)
    snippets = read_snippets(source, [frames], [chans], before, after)[0]
    return {
        "unitId": as_json_unit(unit),
        "samplingFrequency": source.sampling_frequency,
        "snippetLen": [before, after],
        "timesSec": (frames / source.sampling_frequency).astype(np.float64),
        "channelIds": [as_json_unit(c) for c in rec.get_channel_ids()[chans]],
        "snippets": snippets,
    }


#: a packed snippets result (float32 snippets of all requested units) is refused above this many bytes
MAX_PACKED_SNIPPET_BYTES = 512 * 1024 * 1024


@register_task("sortingview.unit_snippets.2", handler="extract_snippets")
def unit_snippets_packed(recording: str, sorting: str, unitIds: list, snippetLen: list[int] = (30, 60),
                         maxSnippets: int = 1000, neighborhoodSize: int = 7) -> dict:
    """Snippets of several units in one pass, packed: unit i's rows of ``timesSec`` and ``snippets`` are
    ``[spikeOffsets[i], spikeOffsets[i + 1])``, on the channels ``channelIndices[i]`` (-1: none)."""
    before, after = check_snippet_len(list(snippetLen))
    maxSnippets = check_positive("maxSnippets", maxSnippets)
    neighborhoodSize = check_positive("neighborhoodSize", neighborhoodSize)
    rec, sort = load_recording(recording), load_sorting(sorting)
    units = resolve_units(sort, unitIds)
    width = min(neighborhoodSize, rec.get_num_channels())
    bound = len(units) * maxSnippets * (before + after) * width * 4
    if bound > MAX_PACKED_SNIPPET_BYTES:
        raise TaskInputError(f"{len(units)} units x {maxSnippets} snippets of {before + after} frames x {width} "
                             f"channels could take {bound / 2**20:.0f} MiB (limit "
                             f"{MAX_PACKED_SNIPPET_BYTES // 2**20} MiB); ask for fewer units or a smaller maxSnippets")
    source = trace_source(rec)
    templates = unit_templates(rec, sort, units, before, after, TEMPLATE_SPIKES)
    locations = channel_locations(rec)
    chans = [np.zeros(0, np.int64) if t.peak_channel is None else nearest_channels(locations, t.peak_channel, width)
             for t in templates]
    frames = [selected_frames(sort, u, source, before, after, maxSnippets) for u in units]
    snippets = read_snippets(source, frames, chans, before, after)
    fs = source.sampling_frequency
    return {"unitIds": [as_json_unit(u) for u in units], "samplingFrequency": fs, "snippetLen": [before, after],
            "channelIds": [as_json_unit(c) for c in rec.get_channel_ids()],
            "channelIndices": channel_index_table([c if len(c) else None for c in chans], width),
            "spikeOffsets": spike_offsets([len(f) for f in frames]),
            "timesSec": concatenated(frames, np.int64).astype(np.float64) / fs,
            "snippets": concatenated(snippets, np.float32, (before + after, width))}
