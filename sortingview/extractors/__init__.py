"""Recording and sorting objects <-> spikeinterface extractors.

A recording or sorting is stored as JSON ``{"format", "version", "data"}`` whose files are ``sha1://`` URIs
(large files linked in place), so it can be loaded by any process that sees the store. Formats load through
an allow-list; anything unsupported is copied first with :func:`copy_recording_extractor` /
:func:`copy_sorting_extractor`.
"""
from __future__ import annotations

from .copy import (
    copy_recording_extractor,
    copy_sorting_extractor,
    upload_recording_extractor,
    upload_sorting_extractor,
)
from .h5v1 import save_recording
from .objects import (
    load_recording,
    load_sorting,
    recording_to_object,
    sorting_to_object,
    store_recording,
    store_sorting,
)


def load_recording_extractor(recording_object: str | dict):
    """The original's name: the recording of an object (ours or the original's) or of its ``sha1://`` URI."""
    return load_recording(recording_object)


def load_sorting_extractor(sorting_object: str | dict):
    """The original's name: the sorting of an object (ours or the original's) or of its ``sha1://`` URI."""
    return load_sorting(sorting_object)


def get_recording_object(recording) -> dict:
    """The original's name for :func:`recording_to_object` (files linked into the store)."""
    return recording_to_object(recording)


def get_sorting_object(sorting) -> dict:
    """The original's name for :func:`sorting_to_object`."""
    return sorting_to_object(sorting)


__all__ = [
    "recording_to_object", "sorting_to_object", "store_recording", "store_sorting",
    "load_recording", "load_sorting", "copy_recording_extractor", "copy_sorting_extractor",
    "load_recording_extractor", "load_sorting_extractor", "get_recording_object", "get_sorting_object",
    "upload_recording_extractor", "upload_sorting_extractor", "save_recording",
]
