"""A full disk: every write path removes its partial files, says "disk full", and the store and channel go on.

The store lives on a 1 MB tmpfs mounted for the test (needs root; skipped otherwise).
"""
from __future__ import annotations

import os
import subprocess
import threading
import uuid
from dataclasses import replace

import numpy as np
import pytest

from sortingview import store
from sortingview.errors import DiskFullError, SortingviewError


@pytest.fixture
def tiny_store(tmp_path, monkeypatch):
    mount = tmp_path / "tiny"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                                           capture_output=True).returncode != 0:
        pytest.skip("mounting a tmpfs needs root")
    d = mount / "store"
    d.mkdir()
    monkeypatch.setenv("KACHERY_CLOUD_DIR", str(d))
    monkeypatch.delenv("KACHERY_CLOUD_MULTI_USER", raising=False)
    try:
        yield d
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def files_under(d) -> list[str]:
    return sorted(os.path.relpath(os.path.join(r, f), d) for r, _, fs in os.walk(d) for f in fs)


def fill(d, leave: int) -> str:
    """Fill the disk until about ``leave`` bytes are free."""
    st = os.statvfs(d)
    path = os.path.join(d, "..", f"filler-{uuid.uuid4().hex}")
    with open(path, "wb") as f:
        f.write(b"\0" * max(0, st.f_bavail * st.f_frsize - leave))
    return path


def test_store_writes_on_a_full_disk_fail_clearly_and_leave_no_partial_files(tiny_store, tmp_path):
    before = files_under(tiny_store)
    big = os.urandom(2 << 20)
    with pytest.raises(DiskFullError, match="disk full: cannot write"):
        store.store_bytes(big)
    src = tmp_path / "big.bin"
    src.write_bytes(big)
    with pytest.raises(DiskFullError, match="disk full"):
        store.store_file(str(src))
    with pytest.raises(DiskFullError):
        store.set_mutable("@t/value", "x" * (2 << 20))
    with pytest.raises(DiskFullError):
        store.get_store().put_task_result("sortingview.test.1", "a" * 40, big)
    assert files_under(tiny_store) == [f for f in before]  # no @tmp or .part left anywhere
    # and the store goes on once there is room
    assert store.load_bytes(store.store_bytes(b"small")) == b"small"


def test_a_feed_append_on_a_full_disk_fails_whole_and_the_feed_goes_on(tiny_store):
    feed = store.create_feed()
    feed.append_message({"n": 0})
    size = os.path.getsize(os.path.join(tiny_store, "feeds", feed.feed_id + ".jsonl"))
    with pytest.raises(DiskFullError, match="disk full"):
        feed.append_message({"blob": "x" * (2 << 20)})
    assert os.path.getsize(os.path.join(tiny_store, "feeds", feed.feed_id + ".jsonl")) == size
    assert feed.append_message({"n": 1}) == 1
    assert [m["n"] for m in feed.get_messages()] == [0, 1]


def test_the_sqlite_channel_reports_a_full_disk_and_works_again_after(tiny_store):
    from sortingview.backend.channel import TaskRequest, open_channel

    chan = open_channel("full")
    chan.submit(TaskRequest("0" * 40, "svtest.add.1", "calculation", "misc", {"a": 0}))
    filler = fill(tiny_store, 0)
    with pytest.raises(SortingviewError, match="disk full"):
        for i in range(1, 2000):  # the WAL grows until the disk is full
            chan.submit(TaskRequest(f"{i:040d}", "svtest.add.1", "calculation", "misc", {"a": i, "pad": "x" * 4000}))
    os.unlink(filler)
    assert chan.submit(TaskRequest("f" * 40, "svtest.add.1", "calculation", "misc", {"a": 1})).status == "queued"
    assert chan.get("0" * 40).status == "queued"


def test_a_task_whose_result_does_not_fit_fails_with_disk_full_and_the_backend_keeps_serving(tiny_store):
    import backend_tasks  # noqa: F401

    from sortingview.backend.client import submit_task
    from sortingview.backend.config import load_config
    from sortingview.backend.daemon import Backend
    from sortingview.tasks import register_task

    def big_result(n: int) -> dict:
        return {"values": np.arange(n, dtype=np.float64) + np.random.default_rng(n).random(n)}

    try:
        register_task("sortingview.test_disk_full_big.1", handler="misc")(big_result)
    except SortingviewError:
        pass  # registered by an earlier run in this process
    cfg = load_config(env={}, overrides={"lease_s": 5.0})
    backend = Backend(replace(cfg, handlers=tuple(replace(h, type="inline") for h in cfg.handlers)))
    thread = threading.Thread(target=backend.run, daemon=True)
    thread.start()
    try:
        h = submit_task("sortingview.test_disk_full_big.1", {"n": 400_000})  # ~4 MB of JSON: never fits
        with pytest.raises(SortingviewError, match="disk full") as err:
            h.wait(30)
        assert "DiskFullError" in str(err.value)
        assert not [f for f in files_under(tiny_store) if "task_results" in f]
        ok = submit_task("sortingview.test_disk_full_big.1", {"n": 10})
        assert len(ok.wait(30)["values"]) == 10
        assert thread.is_alive()
    finally:
        backend.stop(graceful=False)
        thread.join(10)


def test_the_server_reports_a_full_disk_and_keeps_serving(tiny_store):
    from test_server_support import http, running_server

    from sortingview.tasks import register_task

    def huge_answer(n: int) -> dict:
        return {"values": np.random.default_rng(n).random(n)}

    try:
        register_task("sortingview.test_disk_full_huge.1", handler="metrics")(huge_answer)
    except SortingviewError:
        pass
    with running_server(inline=True) as srv:
        body = {"taskName": "sortingview.test_disk_full_huge.1", "taskInput": {"n": 300_000}, "waitSec": 20}
        status, r = http(f"{srv.url}/api/task", body=body)
        assert status == 200 and r["status"] == "error" and "disk full" in r["error"], r
        body["taskInput"] = {"n": 5}
        status, r = http(f"{srv.url}/api/task", body=body)
        assert status == 200 and r["status"] == "finished" and len(r["result"]["values"]["shape"]) == 1


def test_copying_a_recording_or_writing_the_demo_on_a_full_disk_leaves_no_partial_file(tiny_store):
    from spikeinterface.core import NumpyRecording

    import sortingview as sv
    from sortingview.server import demo

    traces = np.random.default_rng(0).standard_normal((100_000, 4)).astype("float32")  # 1.6 MB
    rec = NumpyRecording(traces, sampling_frequency=30000.0)
    with pytest.raises(DiskFullError, match="disk full"):
        sv.copy_recording_extractor(rec, progress=False)
    assert not [f for f in files_under(tiny_store) if "copied_recordings" in f]
    target = os.path.join(tiny_store, "demo-traces.int16.bin")
    with pytest.raises(OSError):
        demo._write_int16(NumpyRecording(np.tile(traces, (2, 1)), sampling_frequency=30000.0), target)  # 1.6 MB
    assert not os.path.exists(target + ".part") and not os.path.exists(target)
