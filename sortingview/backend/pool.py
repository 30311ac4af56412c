"""The ``parallel`` handler: a pool of worker processes, one job at a time each.

Workers are started lazily (a handler type that gets no tasks costs no process) from a forkserver that has
already imported the tasks, so starting one takes milliseconds. A worker that overruns its timeout is
killed and replaced; a worker that dies mid-task (OOM killer, SIGKILL) reports the job *lost*, and the
backend gives it back to the channel. Workers die with the backend: they exit when their pipe closes, and a
busy one is killed by the kernel (PR_SET_PDEATHSIG) when the forkserver that forked it exits.
"""
from __future__ import annotations

import ctypes
import multiprocessing
import multiprocessing.connection
import os
import signal
import time

from ..store import store_dir
from .channel import JobRecord
from .config import HandlerConfig
from .execution import Outcome, run_job
from .handlers import JobHandler

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: idle workers still exit when their pipe closes
        pass


def _worker_main(conn, task_modules: tuple[str, ...], environ: dict[str, str]) -> None:
    """A worker process: run jobs from ``conn`` until it closes."""
    _die_with_parent()
    # the forkserver's environment is that of the backend when the first worker started; take today's
    os.environ.clear()
    os.environ.update(environ)
    # Ctrl-C reaches the whole process group; the backend decides whether running tasks finish or stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    from .plugins import load_task_modules

    load_task_modules(task_modules)
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        conn.send(run_job(*msg))


_context = None


def _mp_context(task_modules: tuple[str, ...]):
    global _context
    if _context is None:
        try:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["sortingview.tasks._builtin", "sortingview.backend.status",
                                         "sortingview.backend.pool"])
        except ValueError:  # no forkserver on this platform
            ctx = multiprocessing.get_context("spawn")
        _context = ctx
    return _context


class _Worker:
    def __init__(self, handler: str, task_modules: tuple[str, ...]):
        ctx = _mp_context(task_modules)
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, task_modules, dict(os.environ)),
                                name=f"sortingview-{handler}")
        self.proc.start()
        child.close()
        self.job: JobRecord | None = None
        self.t0 = 0.0

    @property
    def where(self) -> str:
        return f"{self.proc.name} pid {self.proc.pid}"

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)
        self.conn.close()


class ParallelHandler(JobHandler):
    """Up to ``num_workers`` jobs at once, each in its own worker process."""

    def __init__(self, config: HandlerConfig, task_modules: tuple[str, ...] = ()):
        super().__init__(config, task_modules)
        self.workers: list[_Worker] = []

    def free_slots(self) -> int:
        return self.config.num_workers - sum(1 for w in self.workers if w.job is not None)

    def start(self, job: JobRecord) -> None:
        worker = next((w for w in self.workers if w.job is None), None)
        if worker is None:
            worker = _Worker(self.name, self.task_modules)
            self.workers.append(worker)
        worker.job, worker.t0 = job, time.monotonic()
        try:
            worker.conn.send((job.job_id, job.task_name, job.task_input, job.task_type, store_dir()))
        except OSError:
            pass  # a dead worker: poll() sees its sentinel and reports the job lost

    def poll(self) -> list[Outcome]:
        out: list[Outcome] = []
        for w in list(self.workers):
            outcome = self._poll_worker(w)
            if outcome is not None:
                out.append(outcome)
        return out

    def _poll_worker(self, w: _Worker) -> Outcome | None:
        if w.job is None:
            if not w.proc.is_alive():  # died while idle: forget it, a new one starts when needed
                self._drop(w)
            return None
        job = w.job
        try:
            if w.conn.poll():
                outcome = w.conn.recv()
                w.job = None
                return outcome
        except (EOFError, OSError):
            pass
        else:
            if w.proc.is_alive():
                if time.monotonic() - w.t0 > self.config.timeout_s:
                    self._drop(w)
                    return self.timeout_outcome(job, time.monotonic() - w.t0, w.where)
                return None
        w.proc.join(1)
        code = w.proc.exitcode
        how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        self._drop(w)
        return Outcome(job.job_id, False, error=(
            f"WorkerLostError: the {self.name} worker process ({w.where}) died ({how}) while running "
            f"{job.task_name}; it may have run out of memory"), seconds=time.monotonic() - w.t0,
            where=w.where, lost=True)

    def _drop(self, w: _Worker) -> None:
        w.kill()
        self.workers.remove(w)

    def running(self) -> list[str]:
        return [w.job.job_id for w in self.workers if w.job is not None]

    def waitables(self) -> list:
        return [x for w in self.workers if w.job is not None for x in (w.conn, w.proc.sentinel)]

    def worker_pids(self) -> dict[str, int]:
        """Job id -> pid of the worker process running it."""
        return {w.job.job_id: w.proc.pid for w in self.workers if w.job is not None}

    def close(self) -> list[str]:
        busy = self.running()
        for w in self.workers:
            if w.job is None and w.proc.is_alive():
                try:
                    w.conn.send(None)
                except OSError:
                    pass
        for w in list(self.workers):
            if w.job is None:
                w.proc.join(2)
            w.kill()
        self.workers.clear()
        return busy
