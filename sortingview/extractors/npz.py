"""``NpzSortingExtractor`` sortings (spikeinterface's own .npz: spike frames + labels per segment) as objects.

The .npz is small next to a recording, so it is copied into the store; the object keeps the unit ids and
sampling frequency too, so a sorting can be described without opening the file. It loads as a
``GroupedNpzSorting`` (``npz_grouped.py``): the same answers as spikeinterface's class, one pass over the spikes.
"""
from __future__ import annotations

import os
import tempfile

import numpy as np

from .. import store
from ..errors import InvalidObjectError
from ._common import field, file_of, json_ids, make_object

FORMAT = "npz_sorting"
VERSION = 1


# sortings read from folders (SpikeInterface's own, phy, Kilosort) are small next to a recording: their spike
# trains are written once to an .npz in the store, so the object never depends on the folder staying put
SNAPSHOT_SORTINGS = ("NumpyFolderSorting", "PhySortingExtractor", "KiloSortSortingExtractor")


def is_npz_sorting(sorting) -> bool:
    from spikeinterface.core import NpzSortingExtractor

    return isinstance(sorting, NpzSortingExtractor)


def is_snapshot_sorting(sorting) -> bool:
    return any(cls.__name__ in SNAPSHOT_SORTINGS for cls in type(sorting).__mro__)


def _npz_file(sorting) -> str:
    """The .npz behind an NpzSortingExtractor, or behind an NpzFolderSorting (``folder_path`` in its kwargs)."""
    kwargs = sorting._kwargs
    if kwargs.get("file_path"):
        return os.fspath(kwargs["file_path"])
    return os.path.join(os.fspath(kwargs["folder_path"]), "sorting_cached.npz")


def snapshot_to_object(sorting) -> dict:
    """Write the spike trains of ``sorting`` to an .npz in the store and describe that."""
    from spikeinterface.core import NpzSortingExtractor

    with tempfile.TemporaryDirectory(prefix="sortingview-sorting-") as tmp:
        path = os.path.join(tmp, "sorting.npz")
        NpzSortingExtractor.write_sorting(sorting, path)
        return sorting_to_object(NpzSortingExtractor(path), source=type(sorting).__name__)


def sorting_to_object(sorting, *, source: str | None = None) -> dict:
    uri = store.store_file(_npz_file(sorting), label="sorting.npz")
    data = {
        "npzUri": uri,
        "samplingFrequency": float(sorting.get_sampling_frequency()),
        "unitIds": json_ids(sorting.get_unit_ids()),
        "numSegments": int(sorting.get_num_segments()),
    }
    if source:
        data["source"] = source
    return make_object(FORMAT, VERSION, data)


def sorting_from_data(data: dict):
    from .npz_grouped import GroupedNpzSorting

    path = file_of(data.get("npzUri"), FORMAT, "npzUri")
    try:
        sorting = GroupedNpzSorting(path)  # spike trains grouped in one pass, not one pass per unit
    except (ValueError, KeyError, OSError) as exc:
        raise InvalidObjectError(f"{FORMAT} object: {path} is not a spikeinterface .npz sorting ({exc})") from exc
    unit_ids = field(data, "unitIds", list, FORMAT, optional=True)
    if unit_ids is not None and [str(u) for u in unit_ids] != [str(u) for u in np.asarray(sorting.unit_ids)]:
        raise InvalidObjectError(f"{FORMAT} object: the unit ids of {path} differ from the ones recorded")
    return sorting
