"""Extractor <-> object dispatch, through an allow-list of formats.

Turning an extractor into an object picks the first writer whose test accepts the extractor's type; loading
an object looks its ``format`` up in a fixed table. Nothing in an object can name a different loader.
"""
from __future__ import annotations

from typing import Any, Callable

from .. import store
from ..errors import InvalidObjectError, UnsupportedExtractorError, with_article
from . import binary, legacy, mda, npz, nwb, si_description

# format name -> (highest version understood, loader of ``data``)
RECORDING_FORMATS: dict[str, tuple[int, Callable[[dict], Any]]] = {
    binary.FORMAT: (binary.VERSION, binary.recording_from_data),
    nwb.RECORDING_FORMAT: (nwb.VERSION, nwb.recording_from_data),
    si_description.FORMAT: (si_description.VERSION, si_description.recording_from_data),
}
SORTING_FORMATS: dict[str, tuple[int, Callable[[dict], Any]]] = {
    npz.FORMAT: (npz.VERSION, npz.sorting_from_data),
    mda.FORMAT: (mda.VERSION, mda.sorting_from_data),
    nwb.SORTING_FORMAT: (nwb.VERSION, nwb.sorting_from_data),
}
# (test, writer) in order; the first test that accepts the extractor writes it
RECORDING_WRITERS: list[tuple[Callable[[Any], bool], Callable[[Any], dict]]] = [
    (binary.is_binary_recording, binary.recording_to_object),
    (nwb.is_nwb_recording, nwb.recording_to_object),
    (si_description.is_si_recording, si_description.recording_to_object),
]
SORTING_WRITERS: list[tuple[Callable[[Any], bool], Callable[[Any], dict]]] = [
    (npz.is_npz_sorting, npz.sorting_to_object),
    (mda.is_mda_sorting, mda.sorting_to_object),
    (nwb.is_nwb_sorting, nwb.sorting_to_object),
    (npz.is_snapshot_sorting, npz.snapshot_to_object),
]
SUPPORTED_RECORDINGS = ["BinaryRecordingExtractor", "NwbRecordingExtractor",
                        "SpikeInterface chains and readers over local files (see doc/workspace.md)"]
SUPPORTED_SORTINGS = ["NpzSortingExtractor", "NpzFolderSorting", "MdaSortingExtractor", "NwbSortingExtractor",
                      *npz.SNAPSHOT_SORTINGS]
# set on an extractor loaded from an object of the original sortingview, so that storing it again gives that object
ORIGINAL_OBJECT_ATTR = "sortingview_object"


def _check_kind(obj: Any, kind: str) -> None:
    from spikeinterface.core import BaseRecording, BaseSorting

    base = BaseRecording if kind == "recording" else BaseSorting
    if not isinstance(obj, base):
        raise UnsupportedExtractorError(
            f"expected a spikeinterface {kind} extractor, got {type(obj).__name__}"
        )


def recording_to_object(recording) -> dict:
    """The JSON object of a supported recording extractor (its files linked into the store)."""
    _check_kind(recording, "recording")
    original = getattr(recording, ORIGINAL_OBJECT_ATTR, None)
    if isinstance(original, dict):
        return original
    for test, write in RECORDING_WRITERS:
        if test(recording):
            return write(recording)
    outside = _outside(recording)
    raise UnsupportedExtractorError(
        f"{with_article(type(recording).__name__)} cannot be stored as an object{outside}; supported recordings are "
        f"{', '.join(SUPPORTED_RECORDINGS)}. Copy it first: "
        "recording = sv.copy_recording_extractor(recording, serialize_dtype='float32')"
    )


def _outside(recording) -> str:
    try:
        names = si_description.outside_classes(recording.to_dict(recursive=True))
    except Exception:  # noqa: BLE001 - only decorates the message
        return ""
    return f" (it uses {', '.join(n.rsplit('.', 1)[-1] for n in names)}, not on the allow-list)" if names else ""


def sorting_to_object(sorting) -> dict:
    """The JSON object of a supported sorting extractor (its files stored)."""
    _check_kind(sorting, "sorting")
    original = getattr(sorting, ORIGINAL_OBJECT_ATTR, None)
    if isinstance(original, dict):
        return original
    for test, write in SORTING_WRITERS:
        if test(sorting):
            return write(sorting)
    raise UnsupportedExtractorError(
        f"{with_article(type(sorting).__name__)} cannot be stored as an object; supported sortings are "
        f"{', '.join(SUPPORTED_SORTINGS)}. Copy it first: sorting = sv.copy_sorting_extractor(sorting)"
    )


def store_recording(recording, *, label: str | None = None, sorting: Any = None) -> str:
    """Store the object of ``recording`` and return its ``sha1://`` URI.

    ``sorting``: a sorting of this recording (an extractor, stored here with ``store_sorting``, or the URI
    ``store_sorting`` gave). A large file is read whole to link it; with a sorting named, the templates and
    every spike's amplitude the viewer asks for first are computed from that same read and kept for the
    tasks (tasks/link_pass.py), so a precompute after it does not read the file again.
    """
    along = None
    if sorting is not None:
        from ..tasks import link_pass

        if isinstance(sorting, str):
            store.parse_uri(sorting)  # a clear error for a string that is not a URI
        else:
            sorting = store_sorting(sorting)
        along = link_pass.plan(recording, sorting)
    if along is None:
        return store.store_json(recording_to_object(recording), label=label or "recording.json")
    from ..store.chunk_manifest import reading_along

    try:
        with reading_along(along.path, along.feed.take):
            uri = store.store_json(recording_to_object(recording), label=label or "recording.json")
    except BaseException:
        along.abandon()
        raise
    along.keep(uri)
    return uri


def store_sorting(sorting, *, label: str | None = None) -> str:
    """Store the object of ``sorting`` and return its ``sha1://`` URI."""
    return store.store_json(sorting_to_object(sorting), label=label or "sorting.json")


def _resolve(obj: Any, where: str, table: dict, kind: str) -> tuple[Callable[[dict], Any], dict]:
    if not isinstance(obj, dict) or not isinstance(obj.get("format"), str) or not isinstance(obj.get("data"), dict):
        raise InvalidObjectError(
            f"{where} is not a {kind} object; expected JSON {{\"format\": ..., \"version\": ..., \"data\": {{...}}}} "
            f"as written by sortingview.extractors.store_{kind}"
        )
    fmt = obj["format"]
    if fmt not in table:
        raise InvalidObjectError(
            f"{where}: {kind} format {fmt!r} is not one of the allowed formats ({', '.join(sorted(table))})"
        )
    max_version, loader = table[fmt]
    version = obj.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= max_version:
        raise InvalidObjectError(
            f"{where}: {fmt} version {version!r} is not understood by this sortingview (up to {max_version}); "
            "upgrade sortingview"
        )
    return loader, obj["data"]


def _object_of(uri_or_object: Any) -> tuple[Any, str]:
    if isinstance(uri_or_object, str):
        return store.load_json(uri_or_object), uri_or_object
    return uri_or_object, "the given object"


def load_recording(uri_or_object: str | dict):
    """The spikeinterface recording of an object (or the ``sha1://`` URI of one); objects written by the original
    sortingview (``recording_format``) load too."""
    obj, where = _object_of(uri_or_object)
    if legacy.is_legacy(obj):
        rec = legacy.load_legacy_recording(obj)
        setattr(rec, ORIGINAL_OBJECT_ATTR, obj)
        return rec
    loader, data = _resolve(obj, where, RECORDING_FORMATS, "recording")
    return loader(data)


def load_sorting(uri_or_object: str | dict):
    """The spikeinterface sorting of an object (or the ``sha1://`` URI of one); objects written by the original
    sortingview (``sorting_format``) load too."""
    obj, where = _object_of(uri_or_object)
    if legacy.is_legacy(obj):
        sorting = legacy.load_legacy_sorting(obj)
        setattr(sorting, ORIGINAL_OBJECT_ATTR, obj)
        return sorting
    loader, data = _resolve(obj, where, SORTING_FORMATS, "sorting")
    return loader(data)
