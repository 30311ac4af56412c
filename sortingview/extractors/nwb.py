"""NWB recordings (an ElectricalSeries) and sortings (a Units table) as objects.

The .nwb file is linked in place (it may hold hours of traces). The object names the series or table inside
the file and keeps the scaling and probe geometry of the extractor, so edits the user made after opening the
file (a probe attached, gains corrected) survive the round trip.
"""
from __future__ import annotations

import os

from .. import store
from ..errors import InvalidObjectError, UnsupportedExtractorError
from ._common import field, file_of, float_list, json_ids, make_object
from .binary import apply_probe_data, probe_data, scaling_data

RECORDING_FORMAT = "nwb_recording"
SORTING_FORMAT = "nwb_sorting"
VERSION = 1


def is_nwb_recording(recording) -> bool:
    from spikeinterface.extractors.nwbextractors import NwbRecordingExtractor

    return isinstance(recording, NwbRecordingExtractor)


def is_nwb_sorting(sorting) -> bool:
    from spikeinterface.extractors.nwbextractors import NwbSortingExtractor

    return isinstance(sorting, NwbSortingExtractor)


def _local_file(kwargs: dict, what: str) -> str:
    if kwargs.get("stream_mode") is not None or kwargs.get("file") is not None or not kwargs.get("file_path"):
        raise UnsupportedExtractorError(
            f"this {what} streams its NWB file (or reads a file object); only local .nwb files can be linked. "
            f"Copy it first: sv.copy_{'recording' if 'Recording' in what else 'sorting'}_extractor(...)"
        )
    return os.fspath(kwargs["file_path"])


def recording_to_object(recording) -> dict:
    kwargs = recording._kwargs
    path = _local_file(kwargs, "NwbRecordingExtractor")
    data = {
        "fileUri": store.link_file(path),
        "electricalSeriesPath": kwargs.get("electrical_series_path"),
        "loadTimeVector": bool(kwargs.get("load_time_vector", False)),
        "samplingFrequency": float(recording.get_sampling_frequency()),
        "numChannels": int(recording.get_num_channels()),
        "channelIds": json_ids(recording.get_channel_ids()),
        **scaling_data(recording),
        **probe_data(recording),
    }
    return make_object(RECORDING_FORMAT, VERSION, data)


def recording_from_data(data: dict):
    from spikeinterface.extractors.nwbextractors import NwbRecordingExtractor

    fmt = RECORDING_FORMAT
    path = file_of(data.get("fileUri"), fmt, "fileUri")
    series = field(data, "electricalSeriesPath", str, fmt, optional=True)
    try:
        rec = NwbRecordingExtractor(file_path=path, electrical_series_path=series,
                                    load_time_vector=field(data, "loadTimeVector", bool, fmt))
    except (OSError, ValueError, KeyError, AssertionError) as exc:
        raise InvalidObjectError(f"{fmt} object: cannot open {series or 'the ElectricalSeries'} in {path}: {exc}") \
            from exc
    n = rec.get_num_channels()
    if n != field(data, "numChannels", int, fmt) or json_ids(rec.channel_ids) != data.get("channelIds"):
        raise InvalidObjectError(f"{fmt} object: the channels of {path} differ from the ones recorded")
    if data.get("gainToUV") is not None:
        rec.set_channel_gains(float_list(data["gainToUV"], n, fmt, "gainToUV"))
    if data.get("offsetToUV") is not None:
        rec.set_channel_offsets(float_list(data["offsetToUV"], n, fmt, "offsetToUV"))
    apply_probe_data(rec, data, fmt)
    return rec


def sorting_to_object(sorting) -> dict:
    kwargs = sorting._kwargs
    path = _local_file(kwargs, "NwbSortingExtractor")
    data = {
        "fileUri": store.link_file(path),
        "electricalSeriesPath": kwargs.get("electrical_series_path"),
        "unitTablePath": getattr(getattr(sorting, "_reader", None), "unit_table_path", None) or "units",
        "samplingFrequency": float(sorting.get_sampling_frequency()),
        "tStart": None if kwargs.get("t_start") is None else float(kwargs["t_start"]),
        "unitIds": json_ids(sorting.get_unit_ids()),
    }
    return make_object(SORTING_FORMAT, VERSION, data)


def sorting_from_data(data: dict):
    from spikeinterface.extractors.nwbextractors import NwbSortingExtractor

    fmt = SORTING_FORMAT
    path = file_of(data.get("fileUri"), fmt, "fileUri")
    series = field(data, "electricalSeriesPath", str, fmt, optional=True)
    # the time base comes either from the named series or from the recorded rate and start (never both)
    timing = {"electrical_series_path": series} if series else {
        "sampling_frequency": field(data, "samplingFrequency", float, fmt),
        "t_start": field(data, "tStart", float, fmt, optional=True) or 0.0,
    }
    try:
        sorting = NwbSortingExtractor(file_path=path, unit_table_path=field(data, "unitTablePath", str, fmt),
                                      **timing)
    except (OSError, ValueError, KeyError, AssertionError) as exc:
        raise InvalidObjectError(f"{fmt} object: cannot open the units table of {path}: {exc}") from exc
    if json_ids(sorting.unit_ids) != data.get("unitIds"):
        raise InvalidObjectError(f"{fmt} object: the unit ids of {path} differ from the ones recorded")
    return sorting
