"""Recordings as SpikeInterface's own description (``to_dict``), with every file it names linked into the store.

This covers what users actually have: preprocessing chains (bandpass, common reference, whitening, channel and
frame slices, concatenation, ...) over binary, zarr or NWB files, and raw formats SpikeInterface reads through
neo (SpikeGLX, Open Ephys, Intan, Blackrock, NeuroScope, ...). Nothing is copied: each path in the description
(a kwarg in :data:`PATH_KWARGS`) becomes ``{"_svPath": {"kind", "path", "files": {relative path: sha1 URI}}}``
(a folder lists every file in it; a neo reader's file brings its siblings of the same stem), and loading checks
that each file is still there, unchanged (size and mtime, else its sha1), before handing the description back to
SpikeInterface.

Every ``class`` in a description must be on :data:`ALLOWED_RECORDING_CLASSES`, checked over the whole tree
before SpikeInterface sees it, so data never makes us import a class of its choosing.
"""
from __future__ import annotations

import functools
import json
import os
from typing import Any

from .. import store
from ..errors import InvalidObjectError, LinkedFileChangedError, SortingviewError, UnsupportedExtractorError
from ..store.uri import parse_uri
from ._common import json_ids, make_object

FORMAT = "si_recording"
VERSION = 1
MAX_FILES_PER_PATH = 10000
PATH_MARK = "_svPath"

CORE = ("BinaryRecordingExtractor", "BinaryFolderRecording", "ZarrRecordingExtractor", "ChannelSliceRecording",
        "FrameSliceRecording", "ConcatenateSegmentRecording", "AppendSegmentRecording", "SelectSegmentRecording",
        "ChannelsAggregationRecording")
PREPROCESSING = (
    "FilterRecording", "BandpassFilterRecording", "HighpassFilterRecording", "NotchFilterRecording",
    "GaussianFilterRecording", "CommonReferenceRecording", "WhitenRecording", "ScaleRecording", "CenterRecording",
    "ZScoreRecording", "NormalizeByQuantileRecording", "PhaseShiftRecording", "HighpassSpatialFilterRecording",
    "InterpolateBadChannelsRecording", "RemoveArtifactsRecording", "RectifyRecording", "ClipRecording",
    "BlankSaturationRecording", "SilencedPeriodsRecording", "ZeroChannelPaddedRecording", "ResampleRecording",
    "DecimateRecording", "DepthOrderRecording", "AverageAcrossDirectionRecording", "DirectionalDerivativeRecording",
    "AstypeRecording", "UnsignedToSignedRecording", "ScaleToPhysicalUnits",
)
READERS = (
    "NwbRecordingExtractor", "MdaRecordingExtractor", "SpikeGLXRecordingExtractor",
    "OpenEphysBinaryRecordingExtractor", "OpenEphysLegacyRecordingExtractor", "IntanRecordingExtractor",
    "BlackrockRecordingExtractor", "NeuroScopeRecordingExtractor", "NeuralynxRecordingExtractor",
    "PlexonRecordingExtractor", "Plexon2RecordingExtractor", "Spike2RecordingExtractor", "CedRecordingExtractor",
    "EDFRecordingExtractor", "AxonaRecordingExtractor", "AxonRecordingExtractor", "TdtRecordingExtractor",
    "MCSRawRecordingExtractor", "MaxwellRecordingExtractor", "BiocamRecordingExtractor",
    "SpikeGadgetsRecordingExtractor", "AlphaOmegaRecordingExtractor", "NeuroNexusRecordingExtractor",
    "MEArecRecordingExtractor",
)
ALLOWED_RECORDING_CLASSES = CORE + PREPROCESSING + READERS


@functools.lru_cache(maxsize=1)
def allowed_classes() -> dict[str, type]:
    """``"module.ClassName"`` (as SpikeInterface writes it in a description) -> class, for the allow-list."""
    import spikeinterface.core as core
    import spikeinterface.extractors.neoextractors as neo
    from spikeinterface.core.zarrextractors import ZarrRecordingExtractor
    from spikeinterface.extractors.mdaextractors import MdaRecordingExtractor
    from spikeinterface.extractors.nwbextractors import NwbRecordingExtractor
    from spikeinterface.preprocessing.preprocessing_classes import _all_preprocesser_dict
    from spikeinterface.preprocessing.remove_artifacts import RemoveArtifactsRecording

    found = {c.__name__: c for c in _all_preprocesser_dict}
    found.update({"RemoveArtifactsRecording": RemoveArtifactsRecording, "MdaRecordingExtractor": MdaRecordingExtractor,
                  "NwbRecordingExtractor": NwbRecordingExtractor, "ZarrRecordingExtractor": ZarrRecordingExtractor})
    for module in (core, neo):
        found.update({n: getattr(module, n) for n in ALLOWED_RECORDING_CLASSES if hasattr(module, n)})
    return {f"{c.__module__}.{c.__name__}": c for n, c in found.items() if n in ALLOWED_RECORDING_CLASSES}


def _extractor_dicts(node: Any):
    """Every extractor description (a dict with a ``class``) inside ``node``, outermost first."""
    if isinstance(node, dict):
        if "class" in node:
            yield node
        for value in node.values():
            yield from _extractor_dicts(value)
    elif isinstance(node, list):
        for value in node:
            yield from _extractor_dicts(value)


def outside_classes(description: dict) -> list[str]:
    """The classes named in ``description`` that are not on the allow-list."""
    allowed = allowed_classes()
    return sorted({str(d["class"]) for d in _extractor_dicts(description) if d["class"] not in allowed})


def is_si_recording(recording) -> bool:
    try:
        return not outside_classes(recording.to_dict(recursive=True))
    except Exception:  # noqa: BLE001 - an extractor whose description cannot be made is simply not ours
        return False


# --- writing ----------------------------------------------------------------------------------------------
def _files_of(path: str, class_name: str) -> tuple[str, str, list[str]]:
    """(kind, base folder, relative paths) of the files a path in a description stands for."""
    if os.path.isdir(path):
        rels = []
        for root, _dirs, files in os.walk(path):
            rels += [os.path.relpath(os.path.join(root, f), path) for f in files]
            if len(rels) > MAX_FILES_PER_PATH:
                raise UnsupportedExtractorError(
                    f"{path} holds more than {MAX_FILES_PER_PATH} files; link a smaller folder, or copy the "
                    "recording first: sv.copy_recording_extractor(recording, serialize_dtype='float32')")
        return "folder", path, sorted(rels)
    if not os.path.isfile(path):
        raise UnsupportedExtractorError(f"the recording names {path}, which is not a file or folder on this machine; "
                                        "only local files can be linked (or copy the recording first)")
    base, name = os.path.split(path)
    rels = [name]
    if ".neoextractors." in class_name:  # neo readers open the files that share the stem (.ns5 + .nev, ...)
        stem = os.path.splitext(name)[0]
        whole = class_name.endswith("IntanRecordingExtractor") and name == "info.rhd"  # one file per signal
        rels = sorted(f for f in os.listdir(base) if os.path.isfile(os.path.join(base, f))
                      and (whole or os.path.splitext(f)[0] == stem))
    return "file", path, rels


def _link_path(path: str, class_name: str) -> dict:
    path = os.path.abspath(path)
    kind, base, rels = _files_of(path, class_name)
    folder = base if kind == "folder" else os.path.dirname(base)
    files = {rel: store.link_file(os.path.join(folder, rel)) for rel in rels}
    return {PATH_MARK: {"kind": kind, "path": path, "files": files}}


# kwargs of the allowed classes that name files or folders (electrical_series_path, for one, names neither)
PATH_KWARGS = ("file_path", "file_paths", "folder_path", "folder_paths", "xml_file_path", "file_or_folder_path",
               "file_timestamps_paths", "dirname")


def _is_path_key(key: str, value: Any) -> bool:
    if key not in PATH_KWARGS or value is None:
        return False
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))


def _link_paths(description: dict) -> None:
    for d in _extractor_dicts(description):
        kwargs = d.get("kwargs") or {}
        for key, value in list(kwargs.items()):
            if _is_path_key(key, value):
                kwargs[key] = ([_link_path(v, d["class"]) for v in value] if isinstance(value, list)
                               else _link_path(value, d["class"]))


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return value == value and value not in (float("inf"), float("-inf"))
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    return True


def _description(recording) -> dict:
    from spikeinterface.core.core_tools import SIJsonEncoder

    d = recording.to_dict(include_annotations=True, include_properties=True, relative_to=None, recursive=True)
    d = json.loads(json.dumps(d, cls=SIJsonEncoder))
    # JSON in the store has no NaN: a property or annotation holding one is left out (SpikeInterface or the reader
    # sets it again when it can); anything else non-finite is a kwarg, and the store refuses it with a clear error
    for ex in _extractor_dicts(d):
        for key in ("properties", "annotations"):
            if isinstance(ex.get(key), dict):
                ex[key] = {k: v for k, v in ex[key].items() if _finite(v)}
    return d


def recording_to_object(recording) -> dict:
    description = _description(recording)
    outside = outside_classes(description)
    if outside:
        raise UnsupportedExtractorError(
            f"this recording uses {', '.join(outside)}, which sortingview does not load from a description. Copy it "
            "first: recording = sv.copy_recording_extractor(recording, serialize_dtype='float32')")
    if any((d.get("kwargs") or {}).get("stream_mode") for d in _extractor_dicts(description)):
        raise UnsupportedExtractorError("this recording streams its file; only local files can be linked. Copy it "
                                        "first: sv.copy_recording_extractor(recording, serialize_dtype='float32')")
    _link_paths(description)
    data = {
        "samplingFrequency": float(recording.get_sampling_frequency()),
        "numChannels": int(recording.get_num_channels()),
        "channelIds": json_ids(recording.get_channel_ids()),
        "segments": [{"numFrames": int(recording.get_num_frames(i))} for i in range(recording.get_num_segments())],
        "description": description,
    }
    return make_object(FORMAT, VERSION, data)


# --- loading ----------------------------------------------------------------------------------------------
def _safe_rel(rel: Any) -> str:
    if not isinstance(rel, str) or not rel or os.path.isabs(rel) or ".." in rel.replace("\\", "/").split("/"):
        raise InvalidObjectError(f"{FORMAT} object: {rel!r} is not a relative file name inside its folder")
    return rel


def _check_file(full: str, uri: Any) -> None:
    """``full`` is the file ``uri`` names: there, and unchanged (the sha1 cache makes this a stat when it is)."""
    try:
        want = parse_uri(uri).sha1
    except SortingviewError as exc:
        raise InvalidObjectError(f"{FORMAT} object: the URI of {full} is not a content URI: {exc}") from exc
    if not os.path.isfile(full):
        raise LinkedFileChangedError(
            f"linked file {full} no longer exists: the data of this recording was moved or deleted. Move it back "
            "to that path, or add the recording again from its new place (W.add_recording(...))")
    have = parse_uri(store.link_file(full)).sha1
    if have != want:
        raise LinkedFileChangedError(
            f"linked file {full} changed since the recording was stored (sha1 {have}, not {want}); restore the "
            "original, or add the recording again (W.add_recording(...))")


def _resolve_path(mark: Any) -> str:
    if not isinstance(mark, dict) or not isinstance(mark.get("path"), str) or not isinstance(mark.get("files"), dict):
        raise InvalidObjectError(f"{FORMAT} object: a linked path must be {{kind, path, files}}")
    path, kind = mark["path"], mark.get("kind")
    if kind not in ("file", "folder") or not os.path.isabs(path):
        raise InvalidObjectError(f"{FORMAT} object: linked path {path!r} must be absolute, of kind file or folder")
    if len(mark["files"]) > MAX_FILES_PER_PATH:
        raise InvalidObjectError(f"{FORMAT} object: {path} lists more than {MAX_FILES_PER_PATH} files")
    folder = path if kind == "folder" else os.path.dirname(path)
    # a path is only ever opened as the files that were linked: the file itself, or a folder's non-empty list
    if (kind == "file" and os.path.basename(path) not in mark["files"]) or not mark["files"]:
        raise InvalidObjectError(f"{FORMAT} object: linked path {path!r} does not list its own files")
    for rel, uri in mark["files"].items():
        _check_file(os.path.join(folder, _safe_rel(rel)), uri)
    return path


def _check_paths_marked(description: dict) -> None:
    """Every path kwarg is a linked path: a bare path string in data could name any file on this machine."""
    for d in _extractor_dicts(description):
        for key, value in (d.get("kwargs") or {}).items():
            values = value if isinstance(value, list) else [value]
            if key in PATH_KWARGS and value is not None and not all(isinstance(v, dict) and PATH_MARK in v
                                                                      for v in values):
                raise InvalidObjectError(f"{FORMAT} object: {d['class']} kwarg {key!r} is not a linked path; "
                                         "store the recording again")


def _resolve_paths(node: Any) -> Any:
    if isinstance(node, dict):
        if PATH_MARK in node:
            return _resolve_path(node[PATH_MARK])
        return {k: _resolve_paths(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve_paths(v) for v in node]
    return node


def recording_from_data(data: dict):
    from spikeinterface.core.base import BaseExtractor

    description = data.get("description")
    if not isinstance(description, dict) or "class" not in description:
        raise InvalidObjectError(f"{FORMAT} object has no SpikeInterface description; store the recording again")
    outside = outside_classes(description)
    if outside:
        raise InvalidObjectError(
            f"{FORMAT} object names {', '.join(outside)}, which is not on sortingview's list of SpikeInterface "
            "classes; it will not be imported. Copy the recording with sv.copy_recording_extractor and store that")
    _check_paths_marked(description)
    resolved = _resolve_paths(description)
    try:
        return BaseExtractor.from_dict(resolved)
    except (OSError, ValueError, KeyError, TypeError, AssertionError) as exc:
        raise InvalidObjectError(f"{FORMAT} object: SpikeInterface could not rebuild {description['class']}: "
                                 f"{exc}") from exc
