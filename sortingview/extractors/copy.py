"""Copies of any extractor into a supported format: a binary recording or an .npz sorting in the store.

Recordings are written one segment at a time in chunks of about :data:`CHUNK_BYTES`, so memory stays small
whatever the length (a recording larger than RAM works); the file is written under the store directory and
linked, so it is written once and never copied again.
"""
from __future__ import annotations

import os
import secrets
import tempfile

import numpy as np

from .. import store
from ..errors import UnsupportedExtractorError
from .binary import probe_data, segment_t_start
from .objects import _check_kind, load_recording, load_sorting, store_recording, store_sorting

CHUNK_BYTES = 32 * 1024 * 1024


def _target_dtype(recording, serialize_dtype) -> np.dtype:
    source = np.dtype(recording.get_dtype())
    target = np.dtype(serialize_dtype) if serialize_dtype is not None else source
    if target.kind not in "iuf":
        raise UnsupportedExtractorError(f"serialize_dtype {serialize_dtype!r} is not an integer or float type")
    if source.kind == "f" and target.kind in "iu":
        raise UnsupportedExtractorError(
            f"copying {source} traces as {target} would truncate them; use serialize_dtype='float32', "
            "or scale the recording to integers first (spikeinterface.preprocessing.scale)"
        )
    return target


def _copy_folder() -> str:
    """Where copies are written before they are linked: inside the store directory, so they live as long as
    the store (a store without a directory, used in tests, gets a temporary folder)."""
    base = store.get_store().directory
    if base is None:
        return tempfile.mkdtemp(prefix="sortingview-copy-")
    from ..store.private import makedirs

    folder = os.path.join(base, "sortingview", "copied_recordings", secrets.token_hex(8))
    makedirs(folder)  # the store's modes: group-writable in a shared store
    return folder


def _write_segment(recording, segment_index: int, path: str, dtype: np.dtype, progress) -> None:
    num_frames = recording.get_num_frames(segment_index)
    # chunks as large as the budget allows: lazy recordings (generators, filters with margins) pay per chunk
    per_frame = recording.get_num_channels() * max(np.dtype(recording.get_dtype()).itemsize, dtype.itemsize)
    step = max(1, CHUNK_BYTES // per_frame)
    try:
        with open(path, "wb") as f:
            for start in range(0, num_frames, step):
                end = min(num_frames, start + step)
                chunk = recording.get_traces(start_frame=start, end_frame=end, segment_index=segment_index)
                f.write(np.ascontiguousarray(chunk, dtype=dtype).data)  # no extra copy through bytes
                progress.update(end - start)
    except BaseException as exc:  # a full disk (or Ctrl-C) leaves no partial copy behind
        os.unlink(path)
        if isinstance(exc, OSError):
            from ..store._fs import disk_full_error

            raise disk_full_error(exc, path) from exc
        raise


def copy_recording_extractor(recording, serialize_dtype=None, *, progress: bool = True, upload_traces: bool = False):
    """Copy any spikeinterface recording into a binary file in the store and return a recording over it.

    ``upload_traces`` is accepted for scripts written for the original sortingview and has no effect: nothing is
    uploaded anywhere, the copy stays in the local store (share the store directory, or serve it, instead).

    Every segment is written in chunks (bounded memory); raw values, gains/offsets to microvolts, channel
    ids, probe geometry and segment start times are kept. ``serialize_dtype`` (e.g. ``'float32'``) changes the
    stored sample type; converting floats to integers is refused because it would truncate the traces.
    """
    from spikeinterface.core import BinaryRecordingExtractor
    from tqdm.auto import tqdm

    _check_kind(recording, "recording")
    dtype = _target_dtype(recording, serialize_dtype)
    t_starts = [segment_t_start(recording, i) for i in range(recording.get_num_segments())]
    folder = _copy_folder()
    paths = []
    total = sum(recording.get_num_frames(i) for i in range(recording.get_num_segments()))
    with tqdm(total=total, unit="frames", desc="copy_recording_extractor", disable=not progress) as bar:
        for i in range(recording.get_num_segments()):
            paths.append(os.path.join(folder, f"segment{i}.{dtype.name}.bin"))
            _write_segment(recording, i, paths[-1], dtype, bar)
    keys = recording.get_property_keys()
    copy = BinaryRecordingExtractor(
        file_paths=paths, sampling_frequency=recording.get_sampling_frequency(), dtype=dtype.str,
        num_channels=recording.get_num_channels(), channel_ids=list(recording.get_channel_ids()),
        t_starts=None if all(t is None for t in t_starts) else [t or 0.0 for t in t_starts],
        gain_to_uV=recording.get_channel_gains() if "gain_to_uV" in keys else None,
        offset_to_uV=recording.get_channel_offsets() if "offset_to_uV" in keys else None,
    )
    if recording.has_probe():
        copy.set_probegroup(recording.get_probegroup())
    elif probe_data(recording)["channelLocations"] is not None:
        copy.set_dummy_probe_from_locations(np.asarray(recording.get_property("location")))
    return load_recording(store_recording(copy))


def copy_sorting_extractor(sorting, *, upload_firings: bool = False):
    """Copy any spikeinterface sorting into an .npz in the store and return a sorting over it.

    ``upload_firings`` is accepted for scripts written for the original sortingview and has no effect (no cloud).
    """
    from spikeinterface.core import NpzSortingExtractor

    _check_kind(sorting, "sorting")
    with tempfile.TemporaryDirectory(prefix="sortingview-copy-") as tmp:
        path = os.path.join(tmp, "sorting.npz")
        NpzSortingExtractor.write_sorting(sorting, path)
        uri = store_sorting(NpzSortingExtractor(path))
    return load_sorting(uri)


def upload_recording_extractor(recording, *, serialize_dtype=None, label: str) -> str:
    """The original's name: copy ``recording`` and return the ``sha1://`` URI of its object (in the local store;
    nothing is uploaded)."""
    from .objects import store_recording as _store

    return _store(copy_recording_extractor(recording, serialize_dtype, progress=False), label=label)


def upload_sorting_extractor(sorting, *, label: str) -> str:
    """The original's name: copy ``sorting`` and return the ``sha1://`` URI of its object (local store only)."""
    from .objects import store_sorting as _store

    return _store(copy_sorting_extractor(sorting), label=label)
