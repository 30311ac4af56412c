"""Recording and sorting objects <-> spikeinterface extractors.

A recording or sorting is stored as JSON ``{"format", "version", "data"}`` whose files are ``sha1://`` URIs
(large files linked in place), so it can be loaded by any process that sees the store. Formats load through
an allow-list; anything unsupported is copied first with :func:`copy_recording_extractor` /
:func:`copy_sorting_extractor`.
"""
from .copy import copy_recording_extractor, copy_sorting_extractor
from .objects import (
    load_recording,
    load_sorting,
    recording_to_object,
    sorting_to_object,
    store_recording,
    store_sorting,
)

__all__ = [
    "recording_to_object", "sorting_to_object", "store_recording", "store_sorting",
    "load_recording", "load_sorting", "copy_recording_extractor", "copy_sorting_extractor",
]
