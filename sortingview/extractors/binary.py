"""Raw binary recordings (``BinaryRecordingExtractor``, ``BinaryFolderRecording``) as objects.

The binary files are *linked* into the store (referenced in place, hashed once), never copied: a recording
of hundreds of gigabytes costs a few hundred bytes of store. Everything needed to rebuild an equal extractor
is kept: sampling frequency, channel count and ids, dtype, time axis, file offset, per-segment start time,
gains and offsets to microvolts, and the probe geometry (probeinterface's own dictionary) or bare locations.
"""
from __future__ import annotations

import os

import numpy as np

from .. import store
from ..errors import InvalidObjectError, UnsupportedExtractorError
from ._common import field, file_of, float_list, json_ids, make_object, to_float_list

FORMAT = "binary_recording"
VERSION = 1


def is_binary_recording(recording) -> bool:
    from spikeinterface.core import BinaryRecordingExtractor

    return isinstance(recording, BinaryRecordingExtractor)


def probe_data(recording) -> dict:
    """Probe geometry / channel groups of a recording, as JSON-able fields."""
    out: dict = {"probeGroup": None, "channelLocations": None, "channelGroups": None}
    if recording.has_probe():
        out["probeGroup"] = recording.get_probegroup().to_dict(array_as_list=True)
        out["channelLocations"] = np.asarray(recording.get_channel_locations(), dtype=float).tolist()
    elif "location" in recording.get_property_keys():
        out["channelLocations"] = np.asarray(recording.get_property("location"), dtype=float).tolist()
    if "group" in recording.get_property_keys() and not recording.has_probe():
        out["channelGroups"] = [int(g) for g in recording.get_property("group")]
    return out


def apply_probe_data(recording, data: dict, fmt: str) -> None:
    """Attach what :func:`probe_data` recorded to a freshly built recording."""
    from probeinterface import ProbeGroup

    n = recording.get_num_channels()
    if data.get("probeGroup") is not None:
        try:
            recording.set_probegroup(ProbeGroup.from_dict(data["probeGroup"]))
        except (KeyError, TypeError, ValueError, AssertionError) as exc:
            raise InvalidObjectError(f"{fmt} object has a malformed probeGroup: {exc}") from exc
    elif data.get("channelLocations") is not None:
        locs = np.asarray(data["channelLocations"], dtype=float)
        if locs.ndim != 2 or locs.shape[0] != n:
            raise InvalidObjectError(f"{fmt} object: channelLocations must be {n} rows of coordinates")
        recording.set_dummy_probe_from_locations(locs)
    if data.get("channelGroups") is not None:
        groups = data["channelGroups"]
        if not isinstance(groups, list) or len(groups) != n:
            raise InvalidObjectError(f"{fmt} object: channelGroups must list one group per channel")
        recording.set_property("group", np.asarray(groups, dtype=int))


def scaling_data(recording) -> dict:
    keys = recording.get_property_keys()
    return {
        "gainToUV": to_float_list(recording.get_channel_gains()) if "gain_to_uV" in keys else None,
        "offsetToUV": to_float_list(recording.get_channel_offsets()) if "offset_to_uV" in keys else None,
    }


def segment_t_start(recording, segment_index: int) -> float | None:
    info = recording.get_time_info(segment_index)
    if info.get("time_vector") is not None:
        raise UnsupportedExtractorError(
            f"segment {segment_index} of this recording has a time vector (set_times); only a start time per "
            "segment can be stored. Use recording.reset_times() and keep the times separately"
        )
    t_start = info.get("t_start")
    return None if t_start is None else float(t_start)


def link_with_manifest(path: str, row_bytes: int) -> tuple[str, str]:
    """URIs of the linked file and of its chunk manifest, in the chunks a remote reader uses, from one read.

    Recorded in the object, the manifest's URI proves the manifest, and so every chunk a peer reads lazily, by
    the object's own URI (doc/sharing.md). A stored manifest is reused.
    """
    from .remote import chunk_size_for

    return store.link_file_with_manifest(path, chunk_size_for(row_bytes, os.path.getsize(path)))


def recording_to_object(recording) -> dict:
    desc = recording.get_binary_description()
    if desc.get("file_timestamps_paths"):
        raise UnsupportedExtractorError("binary recordings with timestamp files cannot be stored")
    row_bytes = int(desc["num_channels"]) * np.dtype(desc["dtype"]).itemsize
    segments = []
    for i, path in enumerate(desc["file_paths"]):
        if int(desc["time_axis"]) == 0:  # only time-major files are read lazily from peers: they get a manifest
            uri, manifest_uri = link_with_manifest(os.fspath(path), row_bytes)
        else:
            uri, manifest_uri = store.link_file(os.fspath(path)), None
        segments.append({"fileUri": uri, "numFrames": int(recording.get_num_frames(i)),
                         "tStart": segment_t_start(recording, i)})
        if manifest_uri:
            segments[-1]["chunkManifest"] = manifest_uri
    data = {
        "samplingFrequency": float(recording.get_sampling_frequency()),
        "numChannels": int(desc["num_channels"]),
        "dtype": np.dtype(desc["dtype"]).str,
        "timeAxis": int(desc["time_axis"]),
        "fileOffset": int(desc["file_offset"]),
        "channelIds": json_ids(recording.get_channel_ids()),
        "segments": segments,
        "isFiltered": None if recording.get_annotation("is_filtered") is None
        else bool(recording.get_annotation("is_filtered")),
        **scaling_data(recording),
        **probe_data(recording),
    }
    return make_object(FORMAT, VERSION, data)


def _check_dtype(text: str) -> np.dtype:
    try:
        dtype = np.dtype(text)
    except TypeError as exc:
        raise InvalidObjectError(f"{FORMAT} object: dtype {text!r} is not a numpy dtype") from exc
    if dtype.kind not in "iuf":
        raise InvalidObjectError(f"{FORMAT} object: dtype {text!r} is not an integer or float type")
    return dtype


def _segment_paths(data: dict, num_channels: int, dtype: np.dtype, offset: int) -> tuple[list[str], list]:
    segments = field(data, "segments", list, FORMAT)
    if not segments:
        raise InvalidObjectError(f"{FORMAT} object has no segments")
    paths, t_starts = [], []
    for i, seg in enumerate(segments):
        if not isinstance(seg, dict):
            raise InvalidObjectError(f"{FORMAT} object: segment {i} must be an object")
        path = file_of(seg.get("fileUri"), FORMAT, f"segment {i} fileUri")
        num_frames = field(seg, "numFrames", int, FORMAT)
        if num_frames < 0 or offset < 0:
            raise InvalidObjectError(f"{FORMAT} object: segment {i} has a negative frame count or file offset")
        expected = offset + num_frames * num_channels * dtype.itemsize
        if os.path.getsize(path) < expected:
            raise InvalidObjectError(
                f"{FORMAT} object: the file of segment {i} ({path}) has {os.path.getsize(path)} bytes, fewer than "
                f"the {expected} its {num_frames} frames need; the object does not describe this file"
            )
        paths.append(path)
        t_starts.append(field(seg, "tStart", float, FORMAT, optional=True))
    return paths, t_starts


def recording_from_data(data: dict):
    from spikeinterface.core import BinaryRecordingExtractor

    from . import remote
    if remote.needs_remote(data):  # the file is on a peer: read it lazily, in verified chunks (doc/sharing.md)
        return remote.recording_from_data(data)
    num_channels = field(data, "numChannels", int, FORMAT)
    dtype = _check_dtype(field(data, "dtype", str, FORMAT))
    offset = field(data, "fileOffset", int, FORMAT)
    paths, t_starts = _segment_paths(data, num_channels, dtype, offset)
    channel_ids = field(data, "channelIds", list, FORMAT)
    if len(channel_ids) != num_channels or num_channels < 1:
        raise InvalidObjectError(f"{FORMAT} object lists {len(channel_ids)} channel ids for {num_channels} channels")
    if not all(isinstance(c, (int, str)) and not isinstance(c, bool) for c in channel_ids):
        raise InvalidObjectError(f"{FORMAT} object: channel ids must be integers or strings")
    sampling_frequency = field(data, "samplingFrequency", float, FORMAT)
    if not sampling_frequency > 0:
        raise InvalidObjectError(f"{FORMAT} object: samplingFrequency must be positive, got {sampling_frequency}")
    time_axis = field(data, "timeAxis", int, FORMAT)
    if time_axis not in (0, 1):
        raise InvalidObjectError(f"{FORMAT} object: timeAxis must be 0 or 1, got {time_axis}")
    rec = BinaryRecordingExtractor(
        file_paths=paths,
        sampling_frequency=sampling_frequency,
        dtype=dtype.str,
        num_channels=num_channels,
        t_starts=None if all(t is None for t in t_starts) else [t or 0.0 for t in t_starts],
        channel_ids=channel_ids,
        time_axis=time_axis,
        file_offset=offset,
        gain_to_uV=float_list(data.get("gainToUV"), num_channels, FORMAT, "gainToUV"),
        offset_to_uV=float_list(data.get("offsetToUV"), num_channels, FORMAT, "offsetToUV"),
        is_filtered=field(data, "isFiltered", bool, FORMAT, optional=True),
    )
    apply_probe_data(rec, data, FORMAT)
    return rec
