"""MountainSort ``firings.mda`` sortings (``MdaSortingExtractor``) as objects.

A firings file does not carry its sampling frequency, so the object does.
"""
from __future__ import annotations

from .. import store
from ..errors import InvalidObjectError
from ._common import field, file_of, json_ids, make_object

FORMAT = "mda_sorting"
VERSION = 1


def is_mda_sorting(sorting) -> bool:
    from spikeinterface.extractors.mdaextractors import MdaSortingExtractor

    return isinstance(sorting, MdaSortingExtractor)


def sorting_to_object(sorting) -> dict:
    data = {
        "firingsUri": store.store_file(sorting._kwargs["file_path"], label="firings.mda"),
        "samplingFrequency": float(sorting.get_sampling_frequency()),
        "unitIds": json_ids(sorting.get_unit_ids()),
    }
    return make_object(FORMAT, VERSION, data)


def sorting_from_data(data: dict):
    from spikeinterface.extractors.mdaextractors import MdaSortingExtractor

    path = file_of(data.get("firingsUri"), FORMAT, "firingsUri")
    try:
        sorting = MdaSortingExtractor(path, sampling_frequency=field(data, "samplingFrequency", float, FORMAT))
    except (OSError, ValueError, IndexError) as exc:
        raise InvalidObjectError(f"{FORMAT} object: {path} is not a firings.mda file ({exc})") from exc
    unit_ids = field(data, "unitIds", list, FORMAT, optional=True)
    if unit_ids is not None and json_ids(sorting.unit_ids) != unit_ids:
        raise InvalidObjectError(f"{FORMAT} object: the unit ids of {path} differ from the ones recorded")
    return sorting
