"""A running task can be stopped: ``TaskHandle.cancel()`` asks through the channel, the backend holding the job
kills the worker process running it (real backend processes, SQLite and Redis channels) and records the error;
the handler goes on with a new worker. An inline handler cannot stop a task and says so in the log."""
from __future__ import annotations

import time

import psutil
import pytest
from backend_tasks import kill_tree, start_backend_process, wait_until, write_config

from sortingview.backend.channel import open_channel
from sortingview.backend.client import submit_task
from sortingview.errors import TaskError

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", "redis"])
def channel_url(request, store_dir):
    return None if request.param == "sqlite" else request.getfixturevalue("redis_url")


def _backend(tmp_path, channel_url, handler: dict):
    top = {"job_handlers": {"misc": handler}}
    if channel_url:
        top["channel_url"] = channel_url
    log = tmp_path / "backend.log"
    return start_backend_process(write_config(tmp_path / "b.yaml", **top), log_path=log), log


def test_a_running_task_is_stopped_when_asked_and_the_handler_goes_on(tmp_path, channel_url):
    chan = open_channel("default", channel_url)
    proc, log = _backend(tmp_path, channel_url, {"type": "parallel", "params": {"num_workers": 1}})
    try:
        pid_file = tmp_path / "worker.pid"
        long = submit_task("svtest.pid_then_sleep.1", {"pidFile": str(pid_file), "seconds": 120}, channel=chan)
        wait_until(lambda: pid_file.exists() and pid_file.read_text().strip(), 60, "the long task to start")
        worker = psutil.Process(int(pid_file.read_text()))
        time.sleep(0.3)  # past the 50 ms after which a self-claiming worker names its job to the backend
        t0 = time.monotonic()
        assert long.cancel("stopped by the test")
        with pytest.raises(TaskError, match="CancelledError: stopped by the test"):
            long.wait(30)
        assert time.monotonic() - t0 < 10, "the backend looks for stop requests about once a second"
        assert not worker.is_running() or worker.status() == psutil.STATUS_ZOMBIE, "its worker process was killed"
        assert chan.get(long.job_id).attempts == 1, "a stopped task is not tried again"
        assert submit_task("svtest.add.1", {"a": 2, "b": 3}, channel=chan).wait(60)["sum"] == 5
        assert not long.cancel("again"), "an ended task cannot be cancelled"
    finally:
        kill_tree(proc)
    assert "stopping " in log.read_text() and "svtest.pid_then_sleep.1 on misc, as asked" in log.read_text()


def test_a_queued_task_is_cancelled_at_once_and_an_inline_one_runs_on_with_a_warning(tmp_path, store_dir):
    chan = open_channel("default")
    queued = submit_task("svtest.add.1", {"a": 1}, channel=chan)
    assert queued.cancel()
    with pytest.raises(TaskError, match="CancelledError: cancelled by its client"):
        queued.wait(1)
    proc, log = _backend(tmp_path, None, {"type": "inline"})
    try:
        short = submit_task("svtest.sleep.1", {"seconds": 3}, channel=chan)
        wait_until(lambda: short.status().status == "running", 60, "the task to start")
        assert short.cancel()
        assert short.wait(30)  # an inline handler cannot stop it: it ends by itself
        wait_until(lambda: "cannot stop a running task" in log.read_text(), 10, "the warning in the log")
    finally:
        kill_tree(proc)


def test_sortingview_cancel_takes_a_queued_task_or_the_id_prefix_status_shows_of_a_running_one(tmp_path, store_dir):
    from click.testing import CliRunner

    from sortingview.cli import main

    chan = open_channel("default")
    queued = submit_task("svtest.add.1", {"a": 7}, channel=chan)
    out = CliRunner().invoke(main, ["cancel", queued.job_id])
    assert out.exit_code == 0 and "it was queued" in out.output, out.output
    with pytest.raises(TaskError, match="CancelledError: cancelled with `sortingview cancel` by "):
        queued.wait(1)
    out = CliRunner().invoke(main, ["cancel", queued.job_id])
    assert out.exit_code == 1 and "has already ended (error)" in out.output, out.output
    out = CliRunner().invoke(main, ["cancel", "abc"])
    assert out.exit_code == 1 and "no task of channel 'default' has a job id starting with 'abc'" in out.output
    proc, _ = _backend(tmp_path, None, {"type": "parallel", "params": {"num_workers": 1}})
    try:
        pid_file = tmp_path / "worker.pid"
        long = submit_task("svtest.pid_then_sleep.1", {"pidFile": str(pid_file), "seconds": 120}, channel=chan)
        wait_until(lambda: pid_file.exists() and pid_file.read_text().strip(), 60, "the task to start")
        out = CliRunner().invoke(main, ["cancel", long.job_id[:10]])
        assert out.exit_code == 0 and f"asked the backend running {long.job_id} to stop it" in out.output
        with pytest.raises(TaskError, match="CancelledError: cancelled with `sortingview cancel`"):
            long.wait(30)
    finally:
        kill_tree(proc)
