"""Parallel workers that claim their own jobs from a Redis channel: the backend's guarantees still hold.

On Redis each worker process holds its own leases (``<backend id>/<handler><n>``); these tests kill workers
and backends, stop them gracefully and time tasks out, with real processes and a real redis-server.
"""
from __future__ import annotations

import signal

import pytest
from backend_tasks import backend_alive, kill_tree, start_backend_process, wait_until, write_config
from kill_scenarios import backend_killed_mid_task, worker_killed_mid_task
from test_handlers import run_backend

from sortingview.backend.channel import open_channel
from sortingview.backend.client import submit_task
from sortingview.errors import TaskError

pytestmark = pytest.mark.slow


@pytest.fixture
def procs():
    """Backends started by the test; at the end they and their workers are killed and waited for."""
    started = []
    yield started
    for p in started:
        kill_tree(p)


def _config(tmp_path, redis_url, **top):
    return write_config(tmp_path / "b.yaml", channel_url=redis_url,
                        job_handlers={"misc": {"type": "parallel", "params": {"num_workers": 2}}}, **top)


def test_workers_claim_and_finish_jobs_as_lease_holders_of_their_own(store_dir, tmp_path, procs, redis_url):
    chan = open_channel("default", redis_url)
    handles = [submit_task("svtest.add.1", {"a": i, "b": 1, "sleepSec": 0.002}, channel=chan) for i in range(300)]
    proc = start_backend_process(_config(tmp_path, redis_url), log_path=tmp_path / "log")
    procs.append(proc)
    assert [h.wait(timeout=60)["sum"] for h in handles] == [i + 1 for i in range(300)]
    holders = {chan.get(h.job_id).worker for h in handles}
    backend_id = next(w for w in chan.live_backends() if w.split(":")[1] == str(proc.pid))
    assert holders <= {f"{backend_id}/misc1", f"{backend_id}/misc2"} and len(holders) == 2
    # later submissions, one at a time, reach idle workers (no backend claim in between)
    assert [submit_task("svtest.add.1", {"a": i, "b": 5}, channel=chan).wait(timeout=30)["sum"]
            for i in range(20)] == [i + 5 for i in range(20)]


def test_a_self_claiming_worker_killed_mid_task_is_replaced_and_the_task_finishes(
        store_dir, tmp_path, procs, redis_url):
    worker_killed_mid_task(open_channel("default", redis_url), _config(tmp_path, redis_url), tmp_path, procs)


def test_a_backend_killed_on_redis_takes_its_workers_and_a_restart_finishes_everything(
        store_dir, tmp_path, procs, redis_url):
    backend_killed_mid_task(open_channel("default", redis_url), _config(tmp_path, redis_url, lease_s=1), tmp_path,
                            procs)


def test_sigterm_on_redis_releases_the_workers_running_tasks_after_the_grace_period(
        store_dir, tmp_path, procs, redis_url):
    chan = open_channel("default", redis_url)
    handles = [submit_task("svtest.sleep.1", {"seconds": 60, "tag": str(i)}, channel=chan) for i in range(2)]
    proc = start_backend_process(_config(tmp_path, redis_url, grace_s=0.2), log_path=tmp_path / "log")
    procs.append(proc)
    # the backend claims the first jobs and hands their leases to the workers it starts for them
    wait_until(lambda: sorted(r.worker.split("/")[-1] for r in chan.running_jobs()) == ["misc1", "misc2"],
               what="two tasks running, each held by its worker")
    proc.send_signal(signal.SIGINT)
    assert proc.wait(30) == 0
    for h in handles:
        rec = chan.get(h.job_id)
        assert (rec.status, rec.attempts, rec.worker) == ("queued", 0, None)
    assert "released" in (tmp_path / "log").read_text()
    assert not backend_alive(chan, proc.pid)


def test_on_redis_errors_timeouts_and_dying_tasks_are_bounded_as_before(store_dir, redis_url):
    chan = open_channel("default", redis_url)
    bad = submit_task("svtest.fail.1", {"message": "no spikes in unit 7"}, channel=chan)
    slow = submit_task("svtest.sleep.1", {"seconds": 30}, channel=chan)
    dying = submit_task("svtest.always_die.1", {}, channel=chan)
    good = [submit_task("svtest.add.1", {"a": i}, channel=chan) for i in range(20)]
    run_backend(channel_url=redis_url, job_handlers={"misc": {"num_workers": 2, "timeout_s": 1.0, "max_attempts": 2}})
    with pytest.raises(TaskError, match="ValueError: no spikes in unit 7"):
        bad.wait(1)
    st = slow.status()
    assert st.status == "error" and "TaskTimeoutError" in st.error and "timeout_s=1" in st.error
    st = dying.status()
    assert st.status == "error" and "died (killed by signal 9)" in st.error
    assert chan.get(dying.job_id).attempts == 2
    assert [h.wait(1)["sum"] for h in good] == list(range(20))
    assert chan.stats()["running"] == {} and chan.stats()["queued"] == {}


def test_short_jobs_reach_the_backend_as_counts_and_long_ones_by_name(store_dir, redis_url, caplog):
    """A stream of short jobs costs the backend a message a second per worker, not one per job: their
    outcomes come as counts per task name. A job that runs past REPORT_AFTER_S is named to it (timeouts and
    status apply) and logged on its own line, as a failure is."""
    chan = open_channel("default", redis_url)
    quick = [submit_task("svtest.add.1", {"a": i, "b": 1}, channel=chan) for i in range(60)]
    slow = submit_task("svtest.add.1", {"a": -1, "b": 1, "sleepSec": 0.3}, channel=chan)
    bad = submit_task("svtest.fail.1", {"message": "no spikes in unit 7"}, channel=chan)
    caplog.set_level("INFO", logger="sortingview.backend")
    backend = run_backend(channel_url=redis_url, job_handlers={"misc": {"num_workers": 2}})
    assert [h.wait(1)["sum"] for h in quick] == [i + 1 for i in range(60)] and slow.wait(1)["sum"] == 0
    lines = [r.getMessage() for r in caplog.records if r.name == "sortingview.backend"]
    counted = [int(m.split()[1]) for m in lines if m.startswith("done ") and " x svtest.add.1 on misc " in m]
    named = [m for m in lines if m.startswith("done ") and " x " not in m.split(" on ")[0]]
    # named: the slow one, and the first job of each worker (the backend claimed it when it started the worker)
    assert sum(f"done {slow.job_id[:10]} svtest.add.1" in m for m in named) == 1, named
    assert len(named) <= 3 and sum(counted) + len(named) == 61 and 1 <= len(counted) <= 4, lines
    assert sum(m.startswith(f"error {bad.job_id[:10]}") for m in lines) == 1, lines
    assert backend.completed == 62


def test_a_worker_dying_mid_batch_charges_an_attempt_to_the_job_it_was_running_only(store_dir, redis_url):
    """Short jobs are never named to the backend; the worker writes the id of the one it runs in shared memory,
    so when it dies the backend charges that job (it fails after max_attempts saying the worker died) and gives
    the rest of the batch back uncharged: they then run once."""
    chan = open_channel("default", redis_url)
    before = [submit_task("svtest.add.1", {"a": i, "b": 0}, channel=chan) for i in range(10)]
    dying = submit_task("svtest.always_die.1", {}, channel=chan)
    after = [submit_task("svtest.add.1", {"a": i, "b": 100}, channel=chan) for i in range(10)]
    run_backend(channel_url=redis_url, job_handlers={"misc": {"num_workers": 1, "max_attempts": 2}})
    st = dying.status()
    assert st.status == "error" and "died (killed by signal 9) while running svtest.always_die.1" in st.error
    assert chan.get(dying.job_id).attempts == 2
    assert [h.wait(1)["sum"] for h in before + after] == list(range(10)) + [i + 100 for i in range(10)]
    assert [chan.get(h.job_id).attempts for h in before + after] == [1] * 20


def test_a_burst_on_redis_ends_when_its_own_queue_is_empty_not_another_backend_ids(store_dir, redis_url):
    chan = open_channel("default", redis_url)
    theirs = submit_task("svtest.add.1", {"a": 100, "b": 1}, backend_id="someone-else", channel=chan)
    ours = [submit_task("svtest.add.1", {"a": i, "b": 1}, channel=chan) for i in range(30)]
    backend = run_backend(channel_url=redis_url, job_handlers={"misc": {"num_workers": 2}})
    assert [h.wait(1)["sum"] for h in ours] == [i + 1 for i in range(30)]
    assert backend.completed == 30
    assert chan.get(theirs.job_id).status == "queued", "a job for another backend id is left alone"
