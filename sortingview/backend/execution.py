"""Running one job where a handler put it (worker process, dask worker or backend thread).

Whatever the task raises is returned as data (message and traceback), so a bad task never takes its
worker down. Calculation results are written to ``task_results/`` here, next to the computation, so large
results do not travel back through the backend.
"""
from __future__ import annotations

import os
import socket
import time
import traceback
from dataclasses import dataclass

from ..serialize import store_json_bytes


@dataclass
class Outcome:
    """What became of one job.

    ``lost``: the worker died, so the job may be tried again. ``recorded``: already written to the channel
    by whoever produced the outcome (``accepted`` says whether the channel took it: False when the lease had
    been lost).
    """

    job_id: str
    ok: bool
    result: str | None = None
    error: str | None = None
    traceback: str | None = None
    seconds: float = 0.0
    where: str = ""
    lost: bool = False
    recorded: bool = False
    accepted: bool = True
    task_name: str = ""


def record_outcome(channel, worker: str, outcome: Outcome) -> Outcome:
    """Write a finished or failed job to the channel as the lease holder ``worker``."""
    if outcome.ok:
        outcome.accepted = channel.finish(worker, outcome.job_id, outcome.result)
    else:
        outcome.accepted = channel.fail(worker, outcome.job_id, outcome.error or "unknown error", outcome.traceback)
    outcome.recorded = True
    return outcome


def vet_claimed(channel, worker: str, job, max_attempts: int) -> Outcome | None:
    """Settle a just-claimed job that must not run (too many attempts, or already computed); else None."""
    from ..tasks import cached_result

    if job.attempts > max_attempts:
        msg = (f"gave up on {job.task_name} after {max_attempts} attempts: each time the backend running it "
               "stopped or died without finishing it (its lease expired)")
        return record_outcome(channel, worker, Outcome(job.job_id, False, error=msg, task_name=job.task_name))
    # a retried calculation may have been stored by the attempt that died (clients look before queueing)
    if job.attempts > 1 and job.task_type == "calculation" and cached_result(job.task_name, job.task_input):
        return record_outcome(channel, worker, Outcome(job.job_id, True, where="result already stored",
                                                       task_name=job.task_name))
    return None


def run_job(job_id: str, task_name: str, task_input: dict, task_type: str,
            store_directory: str | None = None) -> Outcome:
    """Run a task here and return its outcome; never raises for the task's own errors."""
    from ..tasks import execute_task, store_result

    t0 = time.perf_counter()
    where = _where()
    try:
        with _store_at(store_directory):
            encoded = execute_task(task_name, task_input)
            if task_type == "calculation":
                store_result(task_name, task_input, encoded)
                result = None
            else:
                result = store_json_bytes(encoded).decode("ascii")
    except Exception as exc:  # noqa: BLE001  (any task error becomes the job's error, the worker goes on)
        return Outcome(job_id, False, error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc(),
                       seconds=time.perf_counter() - t0, where=where, task_name=task_name)
    return Outcome(job_id, True, result=result, seconds=time.perf_counter() - t0, where=where, task_name=task_name)


_here: tuple[int, str] = (0, "")


def _where() -> str:
    """``<host> pid <pid>`` of this process (asked of the system once per process, not once per job)."""
    global _here
    if _here[0] != os.getpid():
        _here = (os.getpid(), f"{socket.gethostname()} pid {os.getpid()}")
    return _here[1]


class _store_at:
    """Use the store in ``directory`` (a dask worker on another host may see it under the same path)."""

    def __init__(self, directory: str | None):
        self.directory = directory
        self.ctx = None

    def __enter__(self):
        from ..store import LocalStore, store_dir, use_store

        if self.directory and os.path.abspath(self.directory) != store_dir():
            self.ctx = use_store(LocalStore(self.directory))
            self.ctx.__enter__()

    def __exit__(self, *exc):
        if self.ctx is not None:
            self.ctx.__exit__(*exc)
