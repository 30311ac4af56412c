"""The demo workspace of ``sortingview-start-backend --demo``: a seeded synthetic recording, a simulated sorter
output to curate and the ground truth it came from (the data are built in demo_data.py).

Created once per store (remembered in the mutable ``@sortingview/@demo/workspace``); later calls return the
same view. The traces are written as int16 with an Intan-like gain (0.195 uV/bit), one second at a time, to
``<store>/sortingview/demo/`` and linked into the store, as a user's own raw data would be. Building it prints
progress lines on stderr. A start that fails or is killed half way leaves no workspace named the demo and no
partial file; the next start removes what it left and finishes the job.
"""
from __future__ import annotations

import contextlib
import json
import os
import sys
import time

import numpy as np

from .. import store
from ..errors import SortingviewError
from . import demo_data
from .auth import UserStore, users_file

DEMO_KEY = "@sortingview/@demo/workspace"
PENDING_KEY = "@sortingview/@demo/pending"  # the workspace a start is filling, until it is the demo
TMP_MARK = ".partial-"  # in the names of files being written
DEMO_USER = "demo"
GAIN_UV = 0.195
SORTER_LABEL = "sorter output (simulated)"
GT_LABEL = "ground truth"
RECORDING_LABEL = "synthetic 32-channel recording"
_VERSION = 2  # in the file names: a store holding the traces of an older demo must not reuse them


class _Progress:
    """Progress lines on stderr while the demo is built: what, how much, and how long each step took."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()

    @contextlib.contextmanager
    def step(self, what: str):
        print(f"demo: {what} ...", file=sys.stderr, flush=True)
        t = time.monotonic()
        yield
        print(f"demo:   done in {time.monotonic() - t:.1f} s", file=sys.stderr, flush=True)

    def total(self) -> float:
        return time.monotonic() - self.t0


@contextlib.contextmanager
def _atomic_output(path: str):
    """Yield a temporary path next to ``path`` (same suffix); it becomes ``path`` only when the block succeeds,
    so a start killed half way leaves no partial file under the final name."""
    from ..store._fs import makedirs, move_file

    stem, ext = os.path.splitext(path)
    tmp = f"{stem}{TMP_MARK}{os.getpid()}{ext}"
    makedirs(os.path.dirname(path))  # IntegrityError if a folder of the store became a symbolic link
    try:
        yield tmp
        move_file(tmp, path)  # renamed relative to the folder, never through a linked folder
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _remove_leftovers(folder: str) -> None:
    """Temporary files of a start that was killed while writing (the lock says none is running)."""
    for name in os.listdir(folder):
        if TMP_MARK in name:
            os.remove(os.path.join(folder, name))


def _write_int16(recording, path: str) -> None:
    fs = int(recording.get_sampling_frequency())
    n = recording.get_num_frames(0)
    from ..store._fs import open_file

    with _atomic_output(path) as tmp, open(open_file(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), "wb") as f:
        for start in range(0, n, fs):  # a second at a time: memory stays small
            chunk = recording.get_traces(start_frame=start, end_frame=min(n, start + fs))
            f.write(np.clip(np.round(chunk / GAIN_UV), -32768, 32767).astype("<i2").tobytes())


def _write_npz(sorting, path: str) -> None:
    from spikeinterface.core import NpzSortingExtractor

    with _atomic_output(path) as tmp:
        NpzSortingExtractor.write_sorting(sorting, tmp)


def _make_extractors(folder: str, progress: _Progress):
    """``(recording, sorter output, ground truth, ground-truth unit locations)``; the recording is read from
    int16 on disk and the sortings from .npz files next to it. Files already written by an earlier start are
    reused (they are complete: every file is written under a temporary name and renamed when done)."""
    from spikeinterface.core import BinaryRecordingExtractor, NpzSortingExtractor

    settings = demo_data.SETTINGS
    seconds, nch, fs = settings["durations"][0], settings["num_channels"], settings["sampling_frequency"]
    gt_rec, gt_sort = demo_data.ground_truth()  # lazy: the traces are generated while they are written
    stem = os.path.join(folder, f"demo-v{_VERSION}-seed{demo_data.SEED}")
    traces = stem + "-traces.int16.bin"
    if os.path.exists(traces):
        print(f"demo: reusing the traces written by an earlier start: {traces}", file=sys.stderr)
    else:
        mb = seconds * fs * nch * 2 / 1e6
        with progress.step(f"generating a synthetic recording ({nch} channels, {seconds:.0f} s at {fs / 1000:.0f} "
                           f"kHz, {settings['num_units']} units, seed {demo_data.SEED}) and writing it as int16: "
                           f"{mb:.0f} MB to {traces}"):
            _write_int16(gt_rec, traces)
    rec = BinaryRecordingExtractor(
        file_paths=[traces], sampling_frequency=fs, dtype="int16", num_channels=nch,
        channel_ids=list(gt_rec.channel_ids), gain_to_uV=GAIN_UV, offset_to_uV=0.0,
    )
    rec.set_probegroup(gt_rec.get_probegroup())
    with progress.step("simulating a sorter output from the ground truth (splits, contamination, noise, misses)"):
        output = demo_data.simulated_sorter_output(gt_sort)
        sortings = []
        for name, sorting in (("sorting", demo_data.as_sorting(output, fs)), ("ground-truth", gt_sort)):
            _write_npz(sorting, f"{stem}-{name}.npz")
            sortings.append(NpzSortingExtractor(f"{stem}-{name}.npz"))
    return rec, sortings[0], sortings[1], gt_sort.get_property("gt_unit_locations")


def _fill(W, rec, sorting, gt_sort, metrics: list[dict], depth_metric: list[dict]) -> dict:
    from ..workspace.curating import local_author

    rid = W.add_recording(label=RECORDING_LABEL, recording=rec)
    sid = W.add_sorting(recording_id=rid, label=SORTER_LABEL, sorting=sorting)
    gid = W.add_sorting(recording_id=rid, label=GT_LABEL, sorting=gt_sort)
    W.set_unit_metrics_for_sorting(sid, metrics)
    W.set_unit_metrics_for_sorting(gid, depth_metric)
    for s in (sid, gid):
        W.set_sorting_curation_authorized_users(s, [DEMO_USER, local_author()])
    return {"workspaceUri": W.uri, "recordingId": rid, "sortingId": sid, "groundTruthSortingId": gid}


def _create() -> dict:
    """Build the demo: everything that can fail runs before the workspace exists; the workspace is filled,
    and only then named the demo (``DEMO_KEY``). A failure deletes the half-made workspace; a start killed
    half way leaves it named in ``PENDING_KEY``, and the next start deletes it and finishes the job."""
    from ..workspace import create_workspace
    from ..workspace.deletion import delete_workspace

    progress = _Progress()
    folder = os.path.join(store.store_dir(), "sortingview", "demo")
    rec, sorting, gt_sort, locations = _make_extractors(folder, progress)
    with progress.step(f"matching the {len(sorting.unit_ids)} sorter units to the ground truth "
                       "(spikeinterface.comparison)"):
        # external metrics, as a user's own analysis would add them: agreement with the ground truth ...
        metrics = demo_data.ground_truth_accuracy(gt_sort, sorting)
    # ... and, for the ground truth, each unit's depth along the probe
    depth = [{"name": "depth", "label": "Depth (µm)", "tooltip": "Unit depth along the probe (ground truth)",
              "data": {str(u): round(float(d), 1) for u, d in zip(gt_sort.unit_ids, locations[:, 1], strict=True)}}]
    with progress.step("storing the recording and both sortings in a new workspace 'demo' (hashing the traces)"):
        W = create_workspace(label="demo")
        store.set_mutable(PENDING_KEY, W.uri)
        try:
            info = _fill(W, rec, sorting, gt_sort, metrics, depth)
            store.set_mutable(DEMO_KEY, json.dumps(info))
        except BaseException:
            delete_workspace(W.uri)
            raise
        finally:
            store.get_store().delete_mutable(PENDING_KEY)
    print(f"Demo workspace created in {progress.total():.1f} s: {W.uri}\n  {SORTER_LABEL!r}: "
          f"{len(W.get_unit_ids(info['sortingId']))} units to curate (an oversplit pair, a contaminated unit, a noise "
          f"unit, units missing spikes); {GT_LABEL!r}: the truth", file=sys.stderr)
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
    except (SortingviewError, ValueError, KeyError, TypeError):
        return None  # the demo was deleted or damaged: make a new one


def _finish_interrupted() -> None:
    """Delete the half-made workspace and the temporary files of a start that was killed half way."""
    from ..workspace.deletion import delete_workspace

    pending = store.get_mutable(PENDING_KEY)
    for uri in dict.fromkeys(([pending] if pending else []) + _old_leftovers()):
        print(f"demo: deleting the half-made workspace of an interrupted start: {uri}", file=sys.stderr)
        try:
            delete_workspace(uri)
        except SortingviewError:
            pass  # it never got as far as the store
    store.get_store().delete_mutable(PENDING_KEY)
    folder = os.path.join(store.store_dir(), "sortingview", "demo")
    if os.path.isdir(folder):
        _remove_leftovers(folder)


def _old_leftovers() -> list[str]:
    """Workspaces left by starts of versions that filled the demo workspace in place and then failed (no
    pending mark): labelled ``demo``, holding the demo recording, never named the demo."""
    from ..workspace import list_workspaces, load_workspace

    found = []
    for uri in list_workspaces():
        try:
            W = load_workspace(uri)
            if W.label == "demo" and [r["recordingLabel"] for r in W.recording_records()] == [RECORDING_LABEL]:
                found.append(uri)
        except SortingviewError:
            continue
    return found


@contextlib.contextmanager
def _demo_lock():
    """One start at a time builds the demo (two at once would make two demo workspaces)."""
    from ..store.private import locked, makedirs

    folder = os.path.join(store.store_dir(), "sortingview", "demo")
    makedirs(folder)  # the store's modes; the lock file is never opened through a link
    with locked(os.path.join(folder, "")):  # <folder>/.lock
        yield


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

    with _demo_lock():
        info = _existing()
        if info is None:
            _finish_interrupted()
            info = _create()
    _ensure_demo_user()
    W = load_workspace(info["workspaceUri"])
    return W.spikesortingview(recording_id=info["recordingId"], sorting_id=info["sortingId"],
                              label="demo: simulated sorter output", base_url=base_url)
