"""Integrity of results: changed linked files, damaged cached results, lost updates and full disks."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import replace

import pytest
from datasets import make_dataset

from sortingview import store
from sortingview.backend.client import submit_task
from sortingview.backend.config import load_config
from sortingview.backend.daemon import Backend
from sortingview.errors import LinkedFileChangedError
from sortingview.serialize import task_job_id
from sortingview.tasks import run_task_inline


@pytest.fixture
def ds(store_dir, tmp_path):
    return make_dataset(tmp_path, seed=5, num_channels=4, durations=1.0, num_units=3)


def _change_samples(path: str) -> None:
    """Overwrite some samples in place: same size, new mtime (what an acquisition tool rewriting a file does)."""
    st = os.stat(path)
    with open(path, "r+b") as f:
        f.seek(64)
        f.write(b"\x7f" * 512)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))


def segment(ds, end: int) -> dict:
    return {"recording": ds.recording_uri, "startFrame": 0, "endFrame": end}


def inline_backend() -> Backend:
    cfg = load_config(env={}, overrides={"lease_s": 5.0})
    return Backend(replace(cfg, handlers=tuple(replace(h, type="inline") for h in cfg.handlers)))


def test_a_process_that_loaded_a_recording_refuses_it_once_the_file_changed(ds):
    first = run_task_inline("sortingview.timeseries_segment.1", segment(ds, 100))  # loads and caches the extractor
    assert first["traces"].shape == (100, 4)
    _change_samples(ds.binary_paths[0])
    with pytest.raises(LinkedFileChangedError, match="was modified since it was linked"):
        run_task_inline("sortingview.timeseries_segment.1", segment(ds, 200))
    job_id = task_job_id("sortingview.timeseries_segment.1", segment(ds, 200))
    assert store.get_store().get_task_result("sortingview.timeseries_segment.1", job_id) is None


def test_a_backend_that_loaded_a_recording_fails_the_task_and_caches_nothing(ds):
    submit_task("sortingview.timeseries_segment.1", segment(ds, 100))
    inline_backend().run(burst=True)  # the inline handler runs in this process: the recording stays loaded
    _change_samples(ds.binary_paths[0])
    h = submit_task("sortingview.timeseries_segment.1", segment(ds, 300))
    inline_backend().run(burst=True)
    st = h.status()
    assert st.status == "error" and st.error.startswith("LinkedFileChangedError")
    job_id = task_job_id("sortingview.timeseries_segment.1", segment(ds, 300))
    assert store.get_store().get_task_result("sortingview.timeseries_segment.1", job_id) is None


@pytest.mark.parametrize("damage", [b"", b'{"dsFactor":1,"traces":{"_type":"nda'])
def test_a_damaged_cached_result_is_deleted_and_computed_again(ds, damage):
    name, task_input = "sortingview.timeseries_segment.1", segment(ds, 50)
    good = run_task_inline(name, task_input)
    job_id = task_job_id(name, task_input)
    store.get_store().put_task_result(name, job_id, damage)
    again = run_task_inline(name, task_input)  # no JSONDecodeError
    assert (again["traces"] == good["traces"]).all()
    assert json.loads(store.get_store().get_task_result(name, job_id))["dsFactor"] == 1


def test_a_damaged_cached_result_is_recomputed_through_the_backend(ds):
    name, task_input = "sortingview.timeseries_segment.1", segment(ds, 60)
    run_task_inline(name, task_input)
    store.get_store().put_task_result(name, task_job_id(name, task_input), b'{"trunc')
    h = submit_task(name, task_input)
    inline_backend().run(burst=True)
    assert h.wait(5)["traces"].shape == (60, 4)


def test_concurrent_label_choice_adds_from_many_processes_are_all_kept(ds):
    import sortingview as sv

    W = sv.create_workspace(label="locks")
    rid = W.add_recording(label="r", recording=ds.recording)
    sid = W.add_sorting(recording_id=rid, label="s", sorting=ds.sorting)
    W.set_sorting_curation_label_choices(sid, ["accept", "reject"])
    script = textwrap.dedent(f"""
        import sys, sortingview as sv
        W = sv.load_workspace({W.uri!r})
        W.add_sorting_curation_label_choice({sid!r}, "label" + sys.argv[1])
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, str(i)], env=os.environ.copy()) for i in range(20)]
    assert all(p.wait(120) == 0 for p in procs)
    choices = sv.load_workspace(W.uri).get_label_choices(sid)
    assert sorted(choices) == sorted(["accept", "reject", *(f"label{i}" for i in range(20))])


def test_update_mutable_under_concurrent_threads_loses_nothing(store_dir):
    import threading

    def add_one(_):
        store.update_mutable("@test/@counter/n", lambda old: str(int(old or 0) + 1))

    threads = [threading.Thread(target=add_one, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.get_mutable("@test/@counter/n") == "30"
    assert store.get_store().list_mutables("@test/@counter") == ["n"]  # the lock file is not a value


def test_concurrent_label_choice_adds_through_the_server_are_all_kept(ds):
    from concurrent.futures import ThreadPoolExecutor

    from test_server_support import http, running_server

    import sortingview as sv
    from sortingview.server.auth import UserStore, users_file

    W = sv.create_workspace(label="locks over http")
    rid = W.add_recording(label="r", recording=ds.recording)
    sid = W.add_sorting(recording_id=rid, label="s", sorting=ds.sorting)
    W.set_sorting_curation_authorized_users(sid, ["alice"])
    alice = {"Authorization": f"Bearer {UserStore(users_file()).add_user('alice')}"}
    with running_server(inline=True) as srv:
        def add(i: int) -> int:
            body = {"workspace": W.uri, "sortingId": sid, "label": f"custom{i}"}
            return http(f"{srv.url}/api/label-choices", body=body, headers=alice)[0]

        assert add(0) == 200  # signs in once: the server then knows the token (sign-in work is bounded)
        with ThreadPoolExecutor(20) as pool:
            assert set(pool.map(add, range(1, 21))) == {200}
    assert {f"custom{i}" for i in range(21)} <= set(W.get_label_choices(sid))
