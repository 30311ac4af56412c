"""The recording and sorting objects the original sortingview wrote, loaded when their files are in the store.

Recordings ``{"recording_format", "data"}``: ``mda`` (raw.mda + geom + params), ``bin1`` (int16) and ``bin2``
(raw file, dtype, channel map and positions), ``nwb`` / ``nwb2`` (an .nwb file), ``h5_v1``, ``subrecording``
(channel ids or a channel group, optional frame range), ``filtered`` (bandpass), ``BinaryRecordingExtractor``
(spikeinterface kwargs with ``sha1://`` file paths) and ``ConcatenateSegmentRecording``; the bare
``{raw, geom, params}`` of labbox-ephys too. Sortings ``{"sorting_format", "data"}``: ``mda``, ``npz``,
``nwb`` / ``nwb2``, ``h5_v1``, ``npy1``, ``npy2``, ``curated`` (merge groups over a parent) and bare
``{firings, samplerate}``. The formats are a fixed table; anything else is an InvalidObjectError.
"""
from __future__ import annotations

import struct
from typing import Any, Callable

import numpy as np

from .. import store
from ..errors import InvalidObjectError, SortingviewError
from ..serialize import decode_value
from ._common import file_of

MAX_DEPTH = 8
MDA_DTYPES = {-2: "uint8", -3: "float32", -4: "int16", -5: "int32", -6: "uint16", -7: "float64", -8: "uint32"}
BIN_DTYPES = ("int16", "int32", "int64", "float32", "float64")


def is_legacy(obj: Any) -> bool:
    return isinstance(obj, dict) and ("recording_format" in obj or "sorting_format" in obj
                                      or "raw" in obj or "firings" in obj)


def _get(data: Any, key: str, fmt: str, types=None) -> Any:
    if not isinstance(data, dict) or key not in data:
        raise InvalidObjectError(f"the original's {fmt} object has no {key!r} field")
    value = data[key]
    if types is not None and (not isinstance(value, types) or isinstance(value, bool)):
        raise InvalidObjectError(f"the original's {fmt} object: {key!r} has the wrong type {type(value).__name__}")
    return value


# --- recordings ---------------------------------------------------------------------------------------------
def _mda_header(path: str) -> tuple[np.dtype, list[int], int]:
    with open(path, "rb") as f:
        code, _nbytes, ndims = struct.unpack("<iii", f.read(12))
        wide = ndims < 0
        ndims = abs(ndims)
        if code not in MDA_DTYPES or not 1 <= ndims <= 6:
            raise InvalidObjectError(f"{path} is not an .mda file (type code {code}, {ndims} dimensions)")
        fmt = "<q" if wide else "<i"
        dims = [struct.unpack(fmt, f.read(8 if wide else 4))[0] for _ in range(ndims)]
    return np.dtype(MDA_DTYPES[code]), dims, 12 + ndims * (8 if wide else 4)


def _mda_recording(data: dict):
    from spikeinterface.core import BinaryRecordingExtractor

    path = file_of(_get(data, "raw", "mda"), "mda", "raw")
    dtype, dims, header = _mda_header(path)
    if len(dims) != 2:
        raise InvalidObjectError(f"raw.mda {path} must be channels x frames, has dimensions {dims}")
    params = _get(data, "params", "mda", dict)
    # column-major channels x frames: the channels of one frame are contiguous, i.e. time_axis=0
    rec = BinaryRecordingExtractor([path], sampling_frequency=float(_get(params, "samplerate", "mda params")),
                                   dtype=dtype.str, num_channels=dims[0], file_offset=header, time_axis=0)
    geom = data.get("geom")
    if geom is not None:
        rec.set_dummy_probe_from_locations(np.asarray(geom, dtype=float))
    return rec


def _bin_recording(data: dict, dtype: str):
    """bin1/bin2: a raw (frames x raw channels) file; the channel map picks and orders the recording's channels."""
    from spikeinterface.core import BinaryRecordingExtractor, ChannelSliceRecording

    if dtype not in BIN_DTYPES:
        raise InvalidObjectError(f"the original's bin2 object: dtype {dtype!r} is not one of {', '.join(BIN_DTYPES)}")
    path = file_of(_get(data, "raw", "bin"), "bin", "raw")
    n_raw = _get(data, "raw_num_channels", "bin", int)
    channel_ids = [int(c) for c in _get(data, "channel_ids", "bin", list)]
    cmap, positions = _get(data, "channel_map", "bin", dict), _get(data, "channel_positions", "bin", dict)
    rec = BinaryRecordingExtractor([path], sampling_frequency=float(_get(data, "samplerate", "bin")), dtype=dtype,
                                   num_channels=n_raw, file_offset=0, time_axis=0)
    indices = [int(cmap[str(c)]) for c in channel_ids]
    if any(not 0 <= i < n_raw for i in indices):
        raise InvalidObjectError(f"the original's bin object maps channels outside the {n_raw} raw channels")
    num_frames = int(_get(data, "num_frames", "bin", int))
    if rec.get_num_frames() < num_frames:
        raise InvalidObjectError(f"{path} holds {rec.get_num_frames()} frames, fewer than the {num_frames} recorded")
    rec = ChannelSliceRecording(rec.frame_slice(0, num_frames), rec.channel_ids[indices],
                                renamed_channel_ids=channel_ids)
    rec.set_dummy_probe_from_locations(np.asarray([positions[str(c)] for c in channel_ids], dtype=float))
    return rec


def _nwb_recording(data: dict, fmt: str):
    from spikeinterface.extractors.nwbextractors import NwbRecordingExtractor

    path = file_of(_get(data, "path" if fmt == "nwb" else "nwb_file_uri", fmt), fmt, "nwb file")
    name = data.get("electrical_series_name")
    series = f"acquisition/{name}" if isinstance(name, str) and "/" not in name else name
    return NwbRecordingExtractor(file_path=path, electrical_series_path=series)


def _subrecording(data: dict, depth: int):
    rec = load_legacy_recording(_get(data, "recording", "subrecording"), depth + 1)
    ids = rec.get_channel_ids()
    if data.get("channel_ids") is not None:
        wanted = [str(c) for c in data["channel_ids"]]
        ids = [c for c in ids if str(c) in wanted]
    elif "group" in data:
        groups = rec.get_channel_groups()
        ids = [c for c, g in zip(ids, groups, strict=True) if int(g) == int(data["group"])]
    rec = rec.select_channels(ids) if len(ids) != rec.get_num_channels() else rec
    if data.get("start_frame") is not None or data.get("end_frame") is not None:
        rec = rec.frame_slice(data.get("start_frame") or 0, data.get("end_frame") or rec.get_num_frames())
    return rec


def _filtered(data: dict, depth: int):
    from spikeinterface.preprocessing import bandpass_filter

    rec = load_legacy_recording(_get(data, "recording", "filtered"), depth + 1)
    for flt in _get(data, "filters", "filtered", list):
        if not isinstance(flt, dict) or flt.get("type") != "bandpass_filter":
            raise InvalidObjectError(f"the original's filtered object: filter {flt!r} is not a bandpass_filter")
        rec = bandpass_filter(rec, freq_min=float(flt.get("freq_min", 300)), freq_max=float(flt.get("freq_max", 6000)))
    return rec


def _binary_kwargs(data: dict):
    from spikeinterface.core import BinaryRecordingExtractor

    kwargs = decode_value(dict(data))
    locations = kwargs.pop("channel_locations", None)
    allowed = {"file_paths", "sampling_frequency", "num_channels", "dtype", "t_starts", "channel_ids", "time_axis",
               "file_offset", "gain_to_uV", "offset_to_uV", "is_filtered", "num_chan"}
    unknown = sorted(set(kwargs) - allowed)
    if unknown:
        raise InvalidObjectError(f"the original's BinaryRecordingExtractor object has unknown fields {unknown}")
    if "num_chan" in kwargs:
        kwargs["num_channels"] = kwargs.pop("num_chan")
    if np.dtype(kwargs.get("dtype", "")).kind not in "iuf":
        raise InvalidObjectError(f"the original's BinaryRecordingExtractor object: dtype {kwargs.get('dtype')!r} is "
                                 "not an integer or float type")
    kwargs["file_paths"] = [file_of(u, "BinaryRecordingExtractor", "file path")
                            for u in _get(kwargs, "file_paths", "BinaryRecordingExtractor", list)]
    rec = BinaryRecordingExtractor(**kwargs)
    if locations is not None:
        rec.set_dummy_probe_from_locations(np.asarray(locations, dtype=float))
    return rec


def _concatenated(data: dict, depth: int):
    from spikeinterface.core import ConcatenateSegmentRecording

    parts = [load_legacy_recording(r, depth + 1) for r in _get(data, "recording_list", "ConcatenateSegmentRecording",
                                                                 list)]
    return ConcatenateSegmentRecording(parts)


RECORDING_LOADERS: dict[str, Callable[[dict, int], Any]] = {
    "mda": lambda d, _: _mda_recording(d),
    "bin1": lambda d, _: _bin_recording(d, "int16"),
    "bin2": lambda d, _: _bin_recording(d, str(d.get("dtype"))),
    "nwb": lambda d, _: _nwb_recording(d, "nwb"),
    "nwb2": lambda d, _: _nwb_recording(d, "nwb2"),
    "h5_v1": lambda d, _: _h5_recording(d),
    "subrecording": _subrecording,
    "filtered": _filtered,
    "BinaryRecordingExtractor": lambda d, _: _binary_kwargs(d),
    "ConcatenateSegmentRecording": _concatenated,
}


def _h5_recording(data: dict):
    from .h5v1 import h5_v1_recording

    return h5_v1_recording(file_of(_get(data, "h5_uri", "h5_v1"), "h5_v1", "h5_uri"))


def _resolve_legacy(obj: Any, kind: str, depth: int) -> tuple[str, dict]:
    if depth > MAX_DEPTH:
        raise InvalidObjectError(f"the original's {kind} object nests more than {MAX_DEPTH} levels")
    if isinstance(obj, str):
        obj = store.load_json(obj)
    if not isinstance(obj, dict):
        raise InvalidObjectError(f"expected the original's {kind} object (a JSON object), got {type(obj).__name__}")
    if kind == "recording" and "raw" in obj and "recording_format" not in obj:
        return "mda", {"raw": obj["raw"], "geom": obj.get("geom"), "params": obj.get("params")}
    if kind == "sorting" and "firings" in obj and "sorting_format" not in obj:
        return "mda", {"firings": obj["firings"], "samplerate": obj.get("samplerate")}
    fmt = obj.get(f"{kind}_format")
    if not isinstance(fmt, str) or not isinstance(obj.get("data"), dict):
        raise InvalidObjectError(f"expected the original's {kind} object {{{kind}_format, data}}")
    return fmt, obj["data"]


def load_legacy_recording(obj: Any, depth: int = 0):
    fmt, data = _resolve_legacy(obj, "recording", depth)
    if fmt not in RECORDING_LOADERS:
        raise InvalidObjectError(f"recording_format {fmt!r} of the original sortingview is not supported (supported: "
                                 f"{', '.join(RECORDING_LOADERS)}); load it with that version and copy it with "
                                 "sv.copy_recording_extractor")
    return _guarded(RECORDING_LOADERS[fmt], data, depth, f"recording_format {fmt}")


def _guarded(loader: Callable[[dict, int], Any], data: dict, depth: int, what: str):
    try:
        return loader(data, depth)
    except SortingviewError:
        raise
    except (KeyError, ValueError, TypeError, IndexError, OSError, AssertionError) as exc:
        raise InvalidObjectError(f"the original's {what} object cannot be loaded: {type(exc).__name__}: {exc}") \
            from exc


# --- sortings -----------------------------------------------------------------------------------------------
def _mda_sorting(data: dict):
    from spikeinterface.extractors.mdaextractors import MdaSortingExtractor

    fs = data.get("samplerate")
    if not isinstance(fs, (int, float)) or isinstance(fs, bool) or fs <= 0:
        raise InvalidObjectError("the original's mda sorting object has no samplerate; it cannot be loaded")
    return MdaSortingExtractor(file_of(_get(data, "firings", "mda"), "mda", "firings"), sampling_frequency=float(fs))


def _npz_sorting(data: dict):
    from spikeinterface.core import NpzSortingExtractor

    return NpzSortingExtractor(file_of(_get(data, "npz_file_uri", "npz"), "npz", "npz_file_uri"))


def _nwb_sorting(data: dict, fmt: str):
    from spikeinterface.extractors.nwbextractors import NwbRecordingExtractor, NwbSortingExtractor

    path = file_of(_get(data, "path" if fmt == "nwb" else "nwb_file_uri", fmt), fmt, "nwb file")
    fs = data.get("sampling_frequency")
    if isinstance(fs, (int, float)) and not isinstance(fs, bool):
        return NwbSortingExtractor(file_path=path, sampling_frequency=float(fs), t_start=0.0)
    name = data.get("electrical_series_name")
    series = f"acquisition/{name}" if isinstance(name, str) and "/" not in name else name
    if series is None:  # the original took the time base from the file's (only) ElectricalSeries
        series = NwbRecordingExtractor(file_path=path)._kwargs.get("electrical_series_path")
    return NwbSortingExtractor(file_path=path, electrical_series_path=series)


def _npy_sorting(data: dict, version: int):
    from spikeinterface.core import NumpySorting

    if version == 1:
        times = store.load_npy(_get(data, "times_npy_uri", "npy1")).ravel()
        labels = store.load_npy(_get(data, "labels_npy_uri", "npy1")).ravel()
        fs = float(_get(data, "samplerate", "npy1"))
    else:
        with np.load(file_of(_get(data, "npz_uri", "npy2"), "npy2", "npz_uri"), allow_pickle=False) as npz:
            times, labels = npz["spike_indexes"].ravel(), npz["spike_labels"].ravel()
            fs = float(npz["sampling_frequency"])
    return NumpySorting.from_samples_and_labels([times.astype(np.int64)], [labels.astype(np.int64)], fs)


def _curated(data: dict, depth: int):
    from spikeinterface.core import NumpySorting

    parent = load_legacy_sorting(_get(data, "sorting", "curated"), depth + 1)
    groups = [list(g) for g in data.get("merge_groups") or []]
    group_of = {u: g for g in groups for u in g}
    trains = {}
    for u in parent.get_unit_ids():
        u = u.item() if hasattr(u, "item") else u
        members = group_of.get(u, [u])
        if min(members) == u:  # a merged unit takes the smallest id of its group, as the original did
            trains[u] = np.sort(np.concatenate([parent.get_unit_spike_train(m) for m in members]))
    return NumpySorting.from_unit_dict(trains, parent.get_sampling_frequency())


SORTING_LOADERS: dict[str, Callable[[dict, int], Any]] = {
    "mda": lambda d, _: _mda_sorting(d),
    "npz": lambda d, _: _npz_sorting(d),
    "nwb": lambda d, _: _nwb_sorting(d, "nwb"),
    "nwb2": lambda d, _: _nwb_sorting(d, "nwb2"),
    "h5_v1": lambda d, _: _h5_sorting(d),
    "npy1": lambda d, _: _npy_sorting(d, 1),
    "npy2": lambda d, _: _npy_sorting(d, 2),
    "curated": _curated,
}


def _h5_sorting(data: dict):
    from .h5v1 import h5_v1_sorting

    return h5_v1_sorting(file_of(_get(data, "h5_path", "h5_v1"), "h5_v1", "h5_path"))


def load_legacy_sorting(obj: Any, depth: int = 0):
    fmt, data = _resolve_legacy(obj, "sorting", depth)
    if fmt not in SORTING_LOADERS:
        raise InvalidObjectError(f"sorting_format {fmt!r} of the original sortingview is not supported (supported: "
                                 f"{', '.join(SORTING_LOADERS)}); load it with that version and copy it with "
                                 "sv.copy_sorting_extractor")
    return _guarded(SORTING_LOADERS[fmt], data, depth, f"sorting_format {fmt}")
