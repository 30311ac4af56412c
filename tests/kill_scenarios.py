"""Kill-and-recover scenarios run against a real backend process on each channel (SQLite in
test_backend_process.py, Redis in test_redis_workers.py): the same assertions, so both channels keep the same
promises. (No tests here.)"""
from __future__ import annotations

import os
import signal

import psutil
from backend_tasks import start_backend_process, wait_until

from sortingview.backend.client import submit_task
from sortingview.tasks import cached_result


def worker_killed_mid_task(chan, config: str, tmp_path, procs: list) -> None:
    """A worker SIGKILLed mid-task is replaced; its task runs again and finishes; 200 others finish."""
    pid_file = tmp_path / "pids"
    victim = submit_task("svtest.pid_then_sleep.1", {"pidFile": str(pid_file), "seconds": 1.0}, channel=chan)
    others = [submit_task("svtest.add.1", {"a": i, "b": 1}, channel=chan) for i in range(200)]
    procs.append(start_backend_process(config, log_path=tmp_path / "log"))
    first_pid = int(wait_until(lambda: pid_file.exists() and pid_file.read_text().split(), what="the task")[0])
    os.kill(first_pid, signal.SIGKILL)
    assert victim.wait(timeout=60)["pid"] != first_pid
    assert [h.wait(timeout=60)["sum"] for h in others] == [i + 1 for i in range(200)]
    rec = chan.get(victim.job_id)
    assert (rec.status, rec.attempts) == ("finished", 2)
    log = (tmp_path / "log").read_text()
    assert f"pid {first_pid}) died (killed by signal 9)" in log and "giving it back to the channel" in log


def backend_killed_mid_task(chan, config: str, tmp_path, procs: list, *, check_stats: bool = False) -> None:
    """A backend SIGKILLed with tasks queued and two running takes its workers with it; the running tasks
    are not marked done; a restarted backend finishes everything, running the two again (attempts 2)."""
    quick = [{"a": i, "b": 2, "sleepSec": 0.01} for i in range(200)]
    handles = [submit_task("svtest.add.1", inp, channel=chan) for inp in quick[:100]]
    pid_files = [tmp_path / f"slow{i}.pids" for i in range(2)]
    slow = [submit_task("svtest.pid_then_sleep.1", {"pidFile": str(f), "seconds": 1.5}, channel=chan)
            for f in pid_files]
    handles += [submit_task("svtest.add.1", inp, channel=chan) for inp in quick[100:]]
    first = start_backend_process(config, log_path=tmp_path / "log1")
    procs.append(first)
    wait_until(lambda: all(f.exists() and f.read_text().split() for f in pid_files),
               what="both slow tasks to start in their workers")
    if check_stats:
        stats = chan.stats()
        assert stats["queued"].get("misc", 0) >= 50 and stats["running"].get("misc", 0) == 2
    workers = [psutil.Process(int(f.read_text().split()[0])) for f in pid_files]
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    gone, alive = psutil.wait_procs(workers, timeout=10)
    assert not [w for w in alive if w.status() != psutil.STATUS_ZOMBIE], "workers must die with their backend"
    assert [h.status().status for h in slow] == ["running", "running"], "killed mid-task, not finished"
    procs.append(start_backend_process(config, log_path=tmp_path / "log2"))
    assert [h.wait(timeout=90)["sum"] for h in handles] == [i + 2 for i in range(200)]
    assert all(h.wait(timeout=90)["pid"] not in {w.pid for w in workers} for h in slow)
    assert all(cached_result("svtest.add.1", inp) for inp in quick)
    assert [chan.get(h.job_id).attempts for h in slow] == [2, 2]
