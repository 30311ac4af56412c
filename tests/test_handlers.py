"""Job handlers (parallel, inline, dask) driven by a real Backend in burst mode, with real worker processes."""
from __future__ import annotations

import os

import backend_tasks  # noqa: F401  (registers the svtest.* tasks)
import pytest

from sortingview.backend.channel import open_channel
from sortingview.backend.client import submit_task
from sortingview.backend.config import load_config
from sortingview.backend.daemon import Backend
from sortingview.errors import TaskError


def run_backend(**top) -> Backend:
    handlers = top.pop("job_handlers", {})
    cfg = load_config(env={}, overrides={"task_modules": ("backend_tasks",), "lease_s": 5.0, **top})
    if handlers:
        from dataclasses import replace

        cfg = replace(cfg, handlers=tuple(replace(h, **handlers.get(h.name, {})) for h in cfg.handlers))
    backend = Backend(cfg)
    backend.run(burst=True)
    return backend


def test_a_task_that_raises_or_times_out_is_an_error_and_the_worker_goes_on(store_dir):
    bad = submit_task("svtest.fail.1", {"message": "no spikes in unit 7"})
    slow = submit_task("svtest.sleep.1", {"seconds": 30})
    good = [submit_task("svtest.add.1", {"a": i}) for i in range(5)]
    run_backend(job_handlers={"misc": {"num_workers": 1, "timeout_s": 1.0}})
    with pytest.raises(TaskError, match="ValueError: no spikes in unit 7") as err:
        bad.wait(1)
    assert 'backend_tasks.py", line' in err.value.traceback and "raise ValueError(message)" in err.value.traceback
    st = slow.status()
    assert st.status == "error" and "TaskTimeoutError" in st.error and "timeout_s=1" in st.error
    assert [h.wait(1)["sum"] for h in good] == list(range(5))


def test_a_task_that_kills_its_worker_every_time_fails_after_max_attempts(store_dir):
    h = submit_task("svtest.always_die.1", {})
    after = submit_task("svtest.add.1", {"a": 1, "b": 1})
    run_backend(job_handlers={"misc": {"num_workers": 1, "max_attempts": 2}})
    st = h.status()
    assert st.status == "error" and "died (killed by signal 9)" in st.error
    assert open_channel().get(h.job_id).attempts == 2
    assert after.wait(1)["sum"] == 2


def test_a_worker_killed_once_is_retried_and_finishes(store_dir, tmp_path):
    h = submit_task("svtest.die_once.1", {"marker": str(tmp_path / "marker"), "value": 5})
    run_backend(job_handlers={"misc": {"num_workers": 1}})
    died_pid = int((tmp_path / "marker").read_text())
    res = h.wait(1)
    assert res["value"] == 5 and res["pid"] != died_pid


def test_parallel_handler_runs_tasks_in_num_workers_processes(store_dir):
    handles = [submit_task("svtest.sleep.1", {"seconds": 0.3, "tag": str(i)}) for i in range(6)]
    run_backend(job_handlers={"misc": {"num_workers": 3}})
    pids = {h.wait(1)["pid"] for h in handles}
    assert len(pids) == 3 and os.getpid() not in pids


def test_inline_handler_runs_tasks_in_the_backend_process(store_dir):
    handles = [submit_task("svtest.add.1", {"a": i, "b": 10}) for i in range(3)]
    run_backend(job_handlers={"misc": {"type": "inline"}})
    assert [h.wait(1) for h in handles] == [{"sum": 10 + i, "pid": os.getpid()} for i in range(3)]


def test_inline_handler_times_out_too(store_dir):
    slow = submit_task("svtest.sleep.1", {"seconds": 1.5})
    run_backend(job_handlers={"misc": {"type": "inline", "timeout_s": 0.2}})
    assert "TaskTimeoutError" in slow.status().error


def test_dask_handler_runs_tasks_on_a_local_cluster_with_two_workers(store_dir):
    pytest.importorskip("distributed")
    handles = [submit_task("svtest.where.1", {"x": i, "sleepSec": 0.2}) for i in range(8)]
    run_backend(job_handlers={"correlograms": {"type": "dask", "num_workers": 2}})
    results = [h.wait(1) for h in handles]
    assert [r["x"] for r in results] == list(range(8))
    workers = {r["daskWorker"] for r in results}
    assert len(workers) == 2 and all(w.startswith("tcp://127.0.0.1:") for w in workers)
    assert os.getpid() not in {r["pid"] for r in results}


def test_handlers_of_different_types_run_side_by_side(store_dir):
    a = [submit_task("svtest.add.1", {"a": i}) for i in range(4)]
    w = [submit_task("svtest.slow_square.1", {"x": i}) for i in range(4)]
    backend = run_backend(job_handlers={"misc": {"num_workers": 1}, "waveforms": {"num_workers": 2}})
    assert [h.wait(1)["square"] for h in w] == [0, 1, 4, 9]
    assert [h.wait(1)["sum"] for h in a] == [0, 1, 2, 3]
    assert set(backend.handlers) == {"misc", "waveforms"}, "handlers start only when their tasks arrive"


def test_a_backend_on_a_redis_channel_runs_every_handler_type_it_is_given(store_dir, redis_url):
    chan = open_channel("default", redis_url)
    adds = [submit_task("svtest.add.1", {"a": i, "b": 1}, channel=chan) for i in range(40)]
    squares = [submit_task("svtest.slow_square.1", {"x": i}, channel=chan) for i in range(10)]
    queries = [submit_task("svtest.pid.1", {}, channel=chan) for _ in range(5)]
    run_backend(channel_url=redis_url, job_handlers={"misc": {"num_workers": 2}, "waveforms": {"num_workers": 1}})
    assert [h.wait(1)["sum"] for h in adds] == [i + 1 for i in range(40)]
    assert [h.wait(1)["square"] for h in squares] == [i * i for i in range(10)]
    assert all(h.wait(1)["pid"] != os.getpid() for h in queries)
    assert chan.stats()["queued"] == {} and chan.running_jobs() == []


def test_a_serving_backend_refills_a_freed_inline_slot_at_once(store_dir, redis_url):
    # jobs queued before the backend started bring no wake-up: the backend must claim the next one as soon as the
    # inline slot frees (it used to wait for its next look at the channel, 0.1 s per job)
    import threading
    import time

    handles = [submit_task("svtest.add.1", {"a": i, "b": 1}, channel_url=redis_url) for i in range(40)]
    cfg = load_config(env={}, overrides={"task_modules": ("backend_tasks",), "channel_url": redis_url})
    from dataclasses import replace

    cfg = replace(cfg, handlers=tuple(replace(h, type="inline") if h.name == "misc" else h for h in cfg.handlers))
    backend = Backend(cfg)
    thread = threading.Thread(target=backend.run, daemon=True)
    t0 = time.monotonic()
    thread.start()
    try:
        assert [h.wait(10)["sum"] for h in handles] == [i + 1 for i in range(40)]
        assert time.monotonic() - t0 < 2.0  # 40 trivial jobs; waiting for wake-ups would take 4 s
    finally:
        backend.stop()
        thread.join(10)
