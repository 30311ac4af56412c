"""The Python side: submit_task / run_task / get_task_status against a real backend, caching, backend ids."""
from __future__ import annotations

import json
import os
import threading

import backend_tasks  # noqa: F401  (registers the svtest.* tasks)
import pytest
from backend_tasks import wait_until
from click.testing import CliRunner

import sortingview as sv
from sortingview.backend import client
from sortingview.backend.channel import open_channel
from sortingview.backend.client import get_task_status, run_task, submit_task, wait_task_status
from sortingview.backend.config import load_config
from sortingview.backend.daemon import Backend
from sortingview.errors import NotFoundError, TaskError, TaskInputError, TaskTimeoutError, UnknownTaskError


def make_backend(backend_id: str | None = None, **overrides) -> Backend:
    cfg = load_config(env={}, overrides={"task_modules": ("backend_tasks",), "backend_id": backend_id,
                                         **overrides})
    return Backend(cfg)


@pytest.fixture
def backend(store_dir):
    """A backend serving the default channel from a thread of this process (its workers are processes)."""
    b = make_backend()
    t = threading.Thread(target=b.run, daemon=True)
    t.start()
    wait_until(lambda: b.worker_id in open_channel().live_backends(), what="the backend's first heartbeat")
    yield b
    b.stop(graceful=False)
    t.join(30)


def test_run_task_without_inline_goes_through_a_backend(backend):
    res = sv.run_task("svtest.add.1", {"a": 2, "b": 3}, timeout=30)
    assert res["sum"] == 5 and res["pid"] != os.getpid()


def test_a_finished_calculation_is_answered_from_the_cache_without_queueing(backend):
    first = submit_task("svtest.add.1", {"a": 1.0, "b": 1})
    first.wait(30)
    done_before = open_channel().stats()["finished"]
    again = sv.submit_task("svtest.add.1", {"a": 1, "b": 1})  # 1.0 and 1 are the same job
    assert again.job_id == first.job_id
    st = again.status()
    assert st.status == "finished" and st.result["sum"] == 2
    assert open_channel().stats()["finished"] == done_before


def test_requests_for_the_same_calculation_join_one_job(store_dir):
    h1 = submit_task("svtest.add.1", {"a": 7})
    h2 = submit_task("svtest.add.1", {"a": 7, "b": 0.0})  # a different input (defaults are not filled in)
    h3 = submit_task("svtest.add.1", {"a": 7.0})
    assert h1.job_id != h2.job_id
    assert h3.job_id == h1.job_id
    assert open_channel().stats()["queued"] == {"misc": 2}
    make_backend().run(burst=True)
    assert h1.wait(1) == h3.wait(1)


def test_queries_are_never_cached(store_dir):
    h1 = submit_task("svtest.pid.1", {})
    h2 = submit_task("svtest.pid.1", {})
    assert h1.job_id != h2.job_id
    make_backend().run(burst=True)
    assert h1.wait(1)["pid"] > 0 and h2.wait(1)["pid"] > 0


def test_a_backend_with_an_id_serves_only_requests_that_carry_it(store_dir):
    plain = submit_task("svtest.add.1", {"a": 1})
    secret = submit_task("svtest.add.1", {"a": 1}, backend_id="s3cret")
    other = submit_task("svtest.add.1", {"a": 2}, backend_id="other")
    assert secret.job_id != plain.job_id
    make_backend().run(burst=True)
    assert plain.status().status == "finished" and secret.status().status == "queued"
    make_backend(backend_id="s3cret").run(burst=True)
    assert secret.wait(1)["sum"] == 1
    assert other.status().status == "queued"


def test_errors_carry_the_remote_message_and_traceback(backend):
    with pytest.raises(TaskError, match="ValueError: bad unit") as err:
        run_task("svtest.fail.1", {"message": "bad unit"}, timeout=30)
    assert "Traceback" in err.value.traceback
    st = get_task_status(submit_task("svtest.fail.1", {"message": "bad unit"}).job_id)
    assert st.status in ("queued", "running", "error")


def test_bad_requests_fail_at_once_without_queueing(store_dir):
    with pytest.raises(UnknownTaskError, match="svtest.add.1"):
        submit_task("svtest.nope.1", {})
    with pytest.raises(TaskInputError, match="'c'"):
        submit_task("svtest.add.1", {"a": 1, "c": 2})
    with pytest.raises(TaskInputError, match="must be float"):
        submit_task("svtest.add.1", {"a": "one"})
    assert open_channel().stats()["queued"] == {}
    with pytest.raises(NotFoundError, match="submit the task first"):
        get_task_status("0" * 40)


def test_waiting_without_a_backend_warns_and_times_out(store_dir, monkeypatch):
    monkeypatch.setattr(client, "NO_BACKEND_WARNING_S", 0.05)
    h = submit_task("svtest.add.1", {"a": 3})
    with pytest.warns(RuntimeWarning, match="no backend is running"):
        with pytest.raises(TaskTimeoutError, match="still queued after 0.2 s"):
            h.wait(timeout=0.2)
    st = wait_task_status(h.job_id, 0.01)
    assert st.status == "queued"
    assert st.to_json() == {"jobId": h.job_id, "taskName": "svtest.add.1", "status": "queued", "error": None,
                            "traceback": None, "result": None}


def test_status_to_json_holds_the_encoded_result(store_dir):
    h = submit_task("svtest.add.1", {"a": 4, "b": 4})
    make_backend().run(burst=True)
    js = get_task_status(h.job_id).to_json()
    assert js["status"] == "finished" and js["result"]["sum"] == 8
    json.dumps(js)


def test_a_removed_result_is_computed_again(store_dir):
    h = submit_task("svtest.add.1", {"a": 5})
    make_backend().run(burst=True)
    from sortingview.serialize import task_job_id

    path = store_dir / "task_results" / "svtest.add.1"
    [f] = [p for p in path.rglob("*") if p.is_file()]
    assert f.name == task_job_id("svtest.add.1", {"a": 5})
    f.unlink()
    assert get_task_status(h.job_id).status == "queued"
    make_backend().run(burst=True)
    assert h.wait(1)["sum"] == 5


def test_status_reports_live_backends_handlers_queue_and_running_tasks(backend, tmp_path):
    from sortingview.backend.status import backend_status
    from sortingview.cli import main

    slow = submit_task("svtest.sleep.1", {"seconds": 0.5, "tag": "status"})
    queued = submit_task("svtest.add.1", {"a": 1}, backend_id="elsewhere")
    wait_until(lambda: slow.status().status == "running", what="the slow task to start")
    st = backend_status()
    [b] = st["backends"]
    assert b["workerId"] == backend.worker_id and b["handlers"]["misc"] == "parallel x4"
    assert st["queued"] == {"misc": 1} and st["numQueued"] == 1
    assert [r["taskName"] for r in st["running"]] == ["svtest.sleep.1"]
    out = CliRunner().invoke(main, ["status"])
    assert out.exit_code == 0, out.output
    assert backend.worker_id in out.output and "queue: misc 1" in out.output and "svtest.sleep.1" in out.output
    as_json = json.loads(CliRunner().invoke(main, ["status", "--json"]).output)
    assert as_json["backends"][0]["workerId"] == backend.worker_id
    remote = run_task("sortingview.backend_status.1", {}, timeout=30)
    assert backend.worker_id in [x["workerId"] for x in remote["backends"]]
    slow.wait(30)
    del queued


def test_status_without_backends_says_how_to_start_one(store_dir):
    from sortingview.cli import main

    out = CliRunner().invoke(main, ["status"])
    assert out.exit_code == 0 and "start one with `sortingview-start-backend`" in out.output


def test_job_ids_with_a_backend_id_ignore_uri_labels_but_not_the_backend():
    h = "a" * 40
    one = client.job_id_for("sortingview.sorting_info.1", "calculation", {"sorting": f"sha1://{h}?label=x"}, "b1")
    two = client.job_id_for("sortingview.sorting_info.1", "calculation", {"sorting": f"sha1://{h}?label=y"}, "b1")
    other = client.job_id_for("sortingview.sorting_info.1", "calculation", {"sorting": f"sha1://{h}"}, "b2")
    plain = client.job_id_for("sortingview.sorting_info.1", "calculation", {"sorting": f"sha1://{h}"}, None)
    assert one == two
    assert len({one, other, plain}) == 3
