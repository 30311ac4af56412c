"""The demo workspace of ``sortingview-start-backend --demo``: a seeded synthetic recording, a simulated sorter
output to curate and the ground truth it came from (the data are built in demo_data.py).

Created once per store (remembered in the mutable ``@sortingview/@demo/workspace``); later calls return the
same view. The traces are written as int16 with an Intan-like gain (0.195 uV/bit), one second at a time, to
``<store>/sortingview/demo/`` and linked into the store, as a user's own raw data would be.
"""
from __future__ import annotations

import json
import os
import sys

import numpy as np

from .. import store
from ..errors import SortingviewError
from . import demo_data
from .auth import UserStore, users_file

DEMO_KEY = "@sortingview/@demo/workspace"
DEMO_USER = "demo"
GAIN_UV = 0.195
SORTER_LABEL = "sorter output (simulated)"
GT_LABEL = "ground truth"
_VERSION = 2  # in the file names: a store holding the traces of an older demo must not reuse them


def _write_int16(recording, path: str) -> None:
    fs = int(recording.get_sampling_frequency())
    n = recording.get_num_frames(0)
    try:
        with open(path + ".part", "wb") as f:
            for start in range(0, n, fs):  # a second at a time: memory stays small
                chunk = recording.get_traces(start_frame=start, end_frame=min(n, start + fs))
                f.write(np.clip(np.round(chunk / GAIN_UV), -32768, 32767).astype("<i2").tobytes())
    except BaseException:  # a full disk (or Ctrl-C) leaves no 20 MB .part behind
        os.unlink(path + ".part")
        raise
    os.replace(path + ".part", path)


def _make_extractors(folder: str):
    """``(recording, sorter output, ground truth, ground-truth unit locations)``; the recording is read from
    int16 on disk and the sortings from .npz files next to it."""
    from spikeinterface.core import BinaryRecordingExtractor, NpzSortingExtractor

    gt_rec, gt_sort = demo_data.ground_truth()
    settings = demo_data.SETTINGS
    os.makedirs(folder, exist_ok=True)
    stem = os.path.join(folder, f"demo-v{_VERSION}-seed{demo_data.SEED}")
    if not os.path.exists(stem + "-traces.int16.bin"):
        _write_int16(gt_rec, stem + "-traces.int16.bin")
    rec = BinaryRecordingExtractor(
        file_paths=[stem + "-traces.int16.bin"], sampling_frequency=settings["sampling_frequency"], dtype="int16",
        num_channels=settings["num_channels"], channel_ids=list(gt_rec.channel_ids), gain_to_uV=GAIN_UV,
        offset_to_uV=0.0,
    )
    rec.set_probegroup(gt_rec.get_probegroup())
    output = demo_data.simulated_sorter_output(gt_sort)
    sortings = []
    for name, sorting in (("sorting", demo_data.as_sorting(output, settings["sampling_frequency"])),
                          ("ground-truth", gt_sort)):
        NpzSortingExtractor.write_sorting(sorting, f"{stem}-{name}.npz")
        sortings.append(NpzSortingExtractor(f"{stem}-{name}.npz"))
    return rec, sortings[0], sortings[1], gt_sort.get_property("gt_unit_locations")


def _create() -> dict:
    from ..workspace import create_workspace
    from ..workspace.curating import local_author

    folder = os.path.join(store.store_dir(), "sortingview", "demo")
    rec, sorting, gt_sort, locations = _make_extractors(folder)
    W = create_workspace(label="demo")
    rid = W.add_recording(label="synthetic 32-channel recording", recording=rec)
    sid = W.add_sorting(recording_id=rid, label=SORTER_LABEL, sorting=sorting)
    gid = W.add_sorting(recording_id=rid, label=GT_LABEL, sorting=gt_sort)
    # external metrics, as a user's own analysis would add them: agreement with the ground truth ...
    W.set_unit_metrics_for_sorting(sid, demo_data.ground_truth_accuracy(gt_sort, sorting))
    # ... and, for the ground truth, each unit's depth along the probe
    depth = locations[:, 1]
    W.set_unit_metrics_for_sorting(gid, [{
        "name": "depth", "label": "Depth (µm)", "tooltip": "Unit depth along the probe (ground truth)",
        "data": {str(u): round(float(d), 1) for u, d in zip(W.get_unit_ids(gid), depth, strict=True)},
    }])
    for s in (sid, gid):
        W.set_sorting_curation_authorized_users(s, [DEMO_USER, local_author()])
    info = {"workspaceUri": W.uri, "recordingId": rid, "sortingId": sid, "groundTruthSortingId": gid}
    store.set_mutable(DEMO_KEY, json.dumps(info))
    print(f"Demo workspace created: {W.uri}\n  {SORTER_LABEL!r}: {len(W.get_unit_ids(sid))} units to curate (an "
          f"oversplit pair, a contaminated unit, a noise unit, units missing spikes); {GT_LABEL!r}: the truth",
          file=sys.stderr)
    return info


def _existing() -> dict | None:
    from ..workspace import load_workspace

    text = store.get_mutable(DEMO_KEY)
    if not text:
        return None
    try:
        info = json.loads(text)
        load_workspace(info["workspaceUri"]).get_sorting_record(info["sortingId"])
        return info
    except (SortingviewError, ValueError, KeyError):
        return None  # the demo was deleted or damaged: make a new one


def _ensure_demo_user() -> None:
    users = UserStore(users_file())
    if any(u.user_id == DEMO_USER for u in users.list_users()):
        return
    token = users.add_user(DEMO_USER)
    print(f"Demo user created; sign in to the viewer with this token to curate:\n  {token}\n"
          f"(only a hash is kept; `sortingview user add {DEMO_USER} --replace` issues a new one)", file=sys.stderr)


def ensure_demo_workspace(*, base_url: str | None = None) -> str:
    """Create the demo workspace once (and a ``demo`` user, printing its token) and return its figURL."""
    from ..workspace import load_workspace

    info = _existing() or _create()
    _ensure_demo_user()
    W = load_workspace(info["workspaceUri"])
    return W.spikesortingview(recording_id=info["recordingId"], sorting_id=info["sortingId"],
                              label="demo: simulated sorter output", base_url=base_url)
