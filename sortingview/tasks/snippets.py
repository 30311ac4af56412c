"""Per-unit snippets on the channels around the unit's peak channel."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..compute.neighborhood import nearest_channels
from ._objects import load_recording, load_sorting, resolve_units
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
