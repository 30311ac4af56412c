"""`--demo` talks while it works and is idempotent: progress lines, one demo workspace per store, and a start
that fails or is killed half way leaves no half-made workspace and no partial file; the next start finishes."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

import sortingview as sv
from sortingview import store
from sortingview.server import demo
from sortingview.server.demo import DEMO_KEY, PENDING_KEY, TMP_MARK, ensure_demo_workspace

TRACES_BYTES = 120 * 30000 * 32 * 2


def _folder() -> str:
    return os.path.join(store.store_dir(), "sortingview", "demo")


def _files() -> dict[str, int]:
    return {n: os.path.getsize(os.path.join(_folder(), n)) for n in os.listdir(_folder()) if n != ".lock"}


def _assert_one_complete_demo() -> None:
    (uri,) = sv.list_workspaces()
    W = sv.load_workspace(uri)
    assert W.label == "demo" and len(W.sorting_ids) == 2 and len(W.recording_ids) == 1
    assert store.get_mutable(PENDING_KEY) is None and uri in store.get_mutable(DEMO_KEY)
    files = _files()
    assert not [n for n in files if TMP_MARK in n]
    assert sorted(files) == [f"demo-v2-seed2024-{n}" for n in ("ground-truth.npz", "sorting.npz", "traces.int16.bin")]
    assert files["demo-v2-seed2024-traces.int16.bin"] == TRACES_BYTES


def _killed_start(store_dir, patch: str) -> subprocess.CompletedProcess:
    """Run ensure_demo_workspace in a process that `patch` makes exit abruptly (os._exit: no cleanup runs)."""
    script = f"import os\n{patch}\nfrom sortingview.server.demo import ensure_demo_workspace\nensure_demo_workspace()\n"
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "KACHERY_CLOUD_DIR": str(store_dir)})


@pytest.mark.slow
def test_the_demo_prints_progress_and_a_second_start_reuses_it(store_dir, capfd):
    url = ensure_demo_workspace()
    err = capfd.readouterr().err
    assert "demo: generating a synthetic recording (32 channels, 120 s at 30 kHz, 24 units, seed 2024)" in err
    assert "writing it as int16: 230 MB" in err and "matching the 26 sorter units" in err
    assert err.count("demo:   done in ") == 4 and "Demo workspace created in " in err
    assert ensure_demo_workspace() == url
    assert "demo:" not in capfd.readouterr().err  # nothing to build the second time
    _assert_one_complete_demo()


@pytest.mark.slow
def test_a_failure_half_way_leaves_no_workspace_and_the_next_start_finishes(store_dir, monkeypatch, capfd):
    from sortingview.workspace import Workspace

    def fail(self, *args, **kwargs):
        raise RuntimeError("simulated failure while filling the demo workspace")

    with monkeypatch.context() as mp:
        mp.setattr(Workspace, "set_sorting_curation_authorized_users", fail)
        with pytest.raises(RuntimeError, match="simulated failure"):
            ensure_demo_workspace()
    assert sv.list_workspaces() == []
    assert store.get_mutable(DEMO_KEY) is None and store.get_mutable(PENDING_KEY) is None
    assert not [n for n in _files() if TMP_MARK in n]
    capfd.readouterr()

    ensure_demo_workspace()
    assert "reusing the traces written by an earlier start" in capfd.readouterr().err
    _assert_one_complete_demo()


@pytest.mark.slow
def test_a_start_killed_while_filling_the_workspace_is_finished_by_the_next(store_dir, capfd):
    r = _killed_start(store_dir, "from sortingview.workspace import Workspace\n"
                                 "Workspace.set_sorting_curation_authorized_users = lambda *a, **k: os._exit(3)")
    assert r.returncode == 3, r.stderr
    (half,) = sv.list_workspaces()  # the killed start left its workspace, named as pending, not as the demo
    assert store.get_mutable(PENDING_KEY) == half and store.get_mutable(DEMO_KEY) is None

    ensure_demo_workspace()
    assert f"deleting the half-made workspace of an interrupted start: {half}" in capfd.readouterr().err
    _assert_one_complete_demo()
    assert sv.list_workspaces() != [half]


@pytest.mark.slow
def test_a_start_killed_while_writing_leaves_no_partial_file(store_dir):
    r = _killed_start(store_dir, "from spikeinterface.core import NpzSortingExtractor\n"
                                 "write = NpzSortingExtractor.write_sorting\n"
                                 "def write_then_die(sorting, path):\n"
                                 "    write(sorting, path)\n"
                                 "    os._exit(4)\n"
                                 "NpzSortingExtractor.write_sorting = staticmethod(write_then_die)")
    assert r.returncode == 4, r.stderr
    files = _files()
    assert not any(n.endswith("-sorting.npz") for n in files)  # nothing under a final name but complete files
    assert [n for n in files if TMP_MARK in n] and files["demo-v2-seed2024-traces.int16.bin"] == TRACES_BYTES
    assert sv.list_workspaces() == []

    ensure_demo_workspace()
    _assert_one_complete_demo()


@pytest.mark.slow
def test_a_half_made_demo_of_an_older_version_is_replaced_and_a_users_demo_kept(store_dir, tmp_path):
    from datasets import make_dataset

    d = make_dataset(tmp_path, seed=2, num_channels=4, durations=1.0, num_units=2)
    old, mine = sv.create_workspace(label="demo"), sv.create_workspace(label="demo")
    old.add_recording(label=demo.RECORDING_LABEL, recording=d.recording)  # failed before it was named the demo
    mine.add_recording(label="my own recording", recording=d.recording)

    ensure_demo_workspace()
    uris = sv.list_workspaces()
    assert old.uri not in uris and mine.uri in uris and len(uris) == 2


def test_leftover_partial_files_are_removed_under_the_lock(store_dir):
    os.makedirs(_folder())
    for name in ("demo-v2-seed2024-sorting.partial-123.npz", "keep.txt"):
        open(os.path.join(_folder(), name), "w").close()
    with demo._demo_lock():
        demo._finish_interrupted()
    assert sorted(_files()) == ["keep.txt"]
