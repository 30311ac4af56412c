"""Importing recordings and sortings from files, as labbox-ephys did: what a path holds, and adding it.

Recordings are *linked* (referenced in place, hashed once), never copied: an SI binary folder, a raw
``.bin``/``.dat`` with a SpikeGLX ``.meta`` beside it, or an ``.nwb`` file. Sortings are small and are
written into the store: an ``.npz`` (NpzSortingExtractor), a phy or kilosort output folder, or an ``.nwb``
file with a units table. ``import_recording`` / ``import_sorting`` are what the server's import page calls;
they work the same from Python (``from sortingview.workspace.importing import import_recording``).

``resolve_inside(root, relative)`` is the one place a path given by a user is turned into a file: symlinks and
``..`` are resolved first, and anything that does not end up inside ``root`` is refused.
"""
from __future__ import annotations

import os

from ..errors import WorkspaceError

MAX_ENTRIES = 2000  # a folder listing is cut here (the page says so)


def resolve_inside(root: str, relative: str) -> str:
    """The real path of ``relative`` under ``root``; WorkspaceError if it leaves ``root`` (symlinks, ``..``)."""
    if not isinstance(relative, str) or "\x00" in relative:
        raise WorkspaceError(f"not a path: {relative!r}")
    base = os.path.realpath(root)
    if os.path.isabs(relative):
        raise WorkspaceError(f"{relative!r} is an absolute path; give a path relative to the import folder")
    full = os.path.realpath(os.path.join(base, relative))
    if full != base and not full.startswith(base + os.sep):
        raise WorkspaceError(f"{relative!r} is outside the import folder; only paths inside it can be imported")
    if not os.path.exists(full):
        raise WorkspaceError(f"{relative!r} does not exist in the import folder")
    return full


def _is_phy(path: str) -> bool:
    return os.path.isdir(path) and os.path.exists(os.path.join(path, "spike_times.npy")) and \
        os.path.exists(os.path.join(path, "params.py"))


def _meta_of(path: str) -> str | None:
    meta = os.path.splitext(path)[0] + ".meta"
    return meta if os.path.isfile(meta) else None


def detect(path: str) -> dict | None:
    """What ``path`` can be imported as: ``{"kind": "recording"|"sorting"|"either", "format": ...}`` or None."""
    name = os.path.basename(path).lower()
    if os.path.isdir(path):
        if os.path.exists(os.path.join(path, "binary.json")):
            return {"kind": "recording", "format": "si_binary_folder"}
        if _is_phy(path):
            return {"kind": "sorting", "format": "phy" if os.path.exists(os.path.join(path, "cluster_info.tsv"))
                    or os.path.exists(os.path.join(path, "cluster_group.tsv")) else "kilosort"}
        return None
    if name.endswith(".nwb"):
        return {"kind": "either", "format": "nwb"}
    if name.endswith(".npz"):
        return {"kind": "sorting", "format": "npz"}
    if name.endswith((".bin", ".dat")) and _meta_of(path):
        return {"kind": "recording", "format": "spikeglx"}
    return None


def list_folder(root: str, relative: str = "") -> dict:
    """The entries of a folder inside ``root`` (folders first), each with what it can be imported as."""
    full = resolve_inside(root, relative or ".")
    if not os.path.isdir(full):
        raise WorkspaceError(f"{relative!r} is not a folder")
    names = sorted(os.listdir(full), key=lambda n: (not os.path.isdir(os.path.join(full, n)), n.lower()))
    entries = []
    for name in names[:MAX_ENTRIES]:
        p = os.path.join(full, name)
        rel = os.path.relpath(p, os.path.realpath(root))
        try:  # a symlink that leads out of the import folder is listed but cannot be opened
            resolve_inside(root, rel)
        except WorkspaceError:
            continue
        entries.append({"name": name, "path": rel, "isDir": os.path.isdir(p),
                        "size": None if os.path.isdir(p) else os.path.getsize(p), "importAs": detect(p)})
    here = os.path.relpath(full, os.path.realpath(root))
    return {"path": "" if here == "." else here, "entries": entries, "truncated": len(names) > MAX_ENTRIES}


def _spikeglx_recording(path: str):
    from spikeinterface.core import BinaryRecordingExtractor

    meta = {}
    with open(_meta_of(path), encoding="utf-8", errors="replace") as f:
        for line in f:
            key, sep, value = line.strip().lstrip("~").partition("=")
            if sep:
                meta[key] = value
    try:
        num_channels = int(meta["nSavedChans"])
        fs = float(meta.get("imSampRate") or meta["niSampRate"])
    except (KeyError, ValueError):
        raise WorkspaceError(f"{os.path.basename(path)}: the .meta file lacks nSavedChans or imSampRate/niSampRate"
                             ) from None
    return BinaryRecordingExtractor(file_paths=[path], sampling_frequency=fs, num_channels=num_channels,
                                    dtype="int16")


def open_recording(path: str):
    """A recording extractor over the file or folder at ``path`` (one the store links in place)."""
    found = detect(path)
    fmt = found["format"] if found and found["kind"] in ("recording", "either") else None
    if fmt == "si_binary_folder":
        from spikeinterface.core import BinaryFolderRecording

        return BinaryFolderRecording(path)
    if fmt == "nwb":
        from spikeinterface.extractors import read_nwb_recording

        return read_nwb_recording(file_path=path)
    if fmt == "spikeglx":
        return _spikeglx_recording(path)
    raise WorkspaceError(f"{os.path.basename(path)!r} is not a recording this server imports: use a SpikeInterface "
                         "binary folder (rec.save(folder=...)), an .nwb file, or a SpikeGLX .bin with its .meta")


def open_sorting(path: str, recording=None):
    """A sorting extractor for the file or folder at ``path`` (copied into the store when imported).

    An NWB units table has times in seconds: they are turned into frames with the file's ElectricalSeries,
    or else with the sampling frequency and start time of ``recording``."""
    found = detect(path)
    fmt = found["format"] if found and found["kind"] in ("sorting", "either") else None
    if fmt == "npz":
        from spikeinterface.core import NpzSortingExtractor

        return NpzSortingExtractor(path)
    if fmt == "nwb":
        from spikeinterface.extractors import read_nwb_sorting

        try:
            return read_nwb_sorting(file_path=path)
        except ValueError:
            if recording is None:
                raise
            return read_nwb_sorting(file_path=path, sampling_frequency=recording.get_sampling_frequency(),
                                    t_start=float(recording.get_start_time()))
    if fmt == "phy":
        from spikeinterface.extractors import read_phy

        return read_phy(path)
    if fmt == "kilosort":
        from spikeinterface.extractors import read_kilosort

        return read_kilosort(path)
    raise WorkspaceError(f"{os.path.basename(path)!r} is not a sorting this server imports: use an .npz "
                         "(NpzSortingExtractor), a phy or kilosort output folder, or an .nwb file with units")


def import_recording(W, path: str, label: str | None = None) -> str:
    """Link the recording at ``path`` into workspace ``W``; its recording id."""
    return W.add_recording(label=label or _label(path), recording=open_recording(path))


def import_sorting(W, recording_id: str, path: str, label: str | None = None) -> str:
    """Add the sorting at ``path`` to ``recording_id`` of ``W``; its sorting id."""
    from ..extractors import copy_sorting_extractor, load_recording
    from ..extractors.objects import SORTING_WRITERS

    sorting = open_sorting(path, load_recording(W.get_recording_record(recording_id)["recordingUri"]))
    if not any(test(sorting) for test, _ in SORTING_WRITERS):
        sorting = copy_sorting_extractor(sorting)
    return W.add_sorting(recording_id=recording_id, label=label or _label(path), sorting=sorting)


def _label(path: str) -> str:
    return os.path.splitext(os.path.basename(os.path.normpath(path)))[0][:100] or "imported"
