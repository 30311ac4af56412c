"""``NpzSortingExtractor`` sortings (spikeinterface's own .npz: spike frames + labels per segment) as objects.

The .npz is small next to a recording, so it is copied into the store; the object keeps the unit ids and
sampling frequency too, so a sorting can be described without opening the file.
"""
from __future__ import annotations

import numpy as np

from .. import store
from ..errors import InvalidObjectError
from ._common import field, file_of, json_ids, make_object

FORMAT = "npz_sorting"
VERSION = 1


def is_npz_sorting(sorting) -> bool:
    from spikeinterface.core import NpzSortingExtractor

    return isinstance(sorting, NpzSortingExtractor)


def sorting_to_object(sorting) -> dict:
    uri = store.store_file(sorting._kwargs["file_path"], label="sorting.npz")
    data = {
        "npzUri": uri,
        "samplingFrequency": float(sorting.get_sampling_frequency()),
        "unitIds": json_ids(sorting.get_unit_ids()),
        "numSegments": int(sorting.get_num_segments()),
    }
    return make_object(FORMAT, VERSION, data)


def sorting_from_data(data: dict):
    from spikeinterface.core import NpzSortingExtractor

    path = file_of(data.get("npzUri"), FORMAT, "npzUri")
    try:
        sorting = NpzSortingExtractor(path)  # np.load without pickles: a crafted file cannot run code
    except (ValueError, KeyError, OSError) as exc:
        raise InvalidObjectError(f"{FORMAT} object: {path} is not a spikeinterface .npz sorting ({exc})") from exc
    unit_ids = field(data, "unitIds", list, FORMAT, optional=True)
    if unit_ids is not None and [str(u) for u in unit_ids] != [str(u) for u in np.asarray(sorting.unit_ids)]:
        raise InvalidObjectError(f"{FORMAT} object: the unit ids of {path} differ from the ones recorded")
    return sorting
