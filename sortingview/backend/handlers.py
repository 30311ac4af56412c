"""Job handlers: where the tasks of one handler type run (``parallel``, ``inline`` or ``dask``).

A handler is asynchronous: the backend loop :meth:`~JobHandler.start`\\ s jobs while it has free slots and
collects :class:`~sortingview.backend.execution.Outcome`\\ s with :meth:`~JobHandler.poll`. Timeouts are the
handler's job (a parallel worker that overruns is killed; dask and inline can only abandon the task).
"""
from __future__ import annotations

import abc
import queue
import threading
import time

from ..store import store_dir
from .channel import JobRecord
from .config import HandlerConfig
from .execution import Outcome, run_job


class JobHandler(abc.ABC):
    """Runs the jobs of one handler type."""

    #: whether its workers claim their next job themselves when one ends (else the backend refills the slot)
    claims_itself = False
    #: whether idle workers claim jobs too: the backend only supervises (reads their reports in batches)
    supervises_only = False

    def __init__(self, config: HandlerConfig, task_modules: tuple[str, ...] = ()):
        self.config = config
        self.task_modules = task_modules

    @property
    def name(self) -> str:
        return self.config.name

    @abc.abstractmethod
    def free_slots(self) -> int:
        """How many more jobs it can take now."""

    @abc.abstractmethod
    def start(self, job: JobRecord) -> None:
        """Begin running ``job`` (only called when :meth:`free_slots` > 0)."""

    @abc.abstractmethod
    def poll(self) -> list[Outcome]:
        """Outcomes of jobs that ended since the last call (finished, failed, timed out or lost)."""

    @abc.abstractmethod
    def running(self) -> list[str]:
        """Ids of the jobs it is running."""

    @abc.abstractmethod
    def close(self) -> list[str]:
        """Stop at once; return the ids of jobs that were still running (the caller releases them)."""

    def adopted(self) -> list[JobRecord]:
        """Jobs its workers claimed by themselves since the last call (the backend then holds their lease)."""
        return []

    def stop(self, job_id: str, error: str) -> list[Outcome]:
        """Stop a running job now, as asked through the channel (:meth:`Channel.request_stop`): its outcome
        (failed with ``error``) and those of jobs stopped with it; [] when this handler cannot stop a job."""
        return []

    def ran(self) -> list[tuple[str, dict]]:
        """Counts of jobs its workers ran and recorded that the backend was never told of, since the last call:
        (where, {task name: [jobs, seconds, longest]}) each."""
        return []

    def drain(self) -> None:  # noqa: B027  (only handlers whose workers claim work override it)
        """The backend is stopping: take no more work of your own accord."""

    def waitables(self) -> list:
        """Connections/sentinels that become ready when something ends (for a quiet backend loop)."""
        return []

    def timeout_outcome(self, job: JobRecord, seconds: float, where: str) -> Outcome:
        return Outcome(job.job_id, False, error=(
            f"TaskTimeoutError: task {job.task_name} ran longer than timeout_s={self.config.timeout_s:g} s on "
            f"handler {self.name} and was stopped; raise job_handlers.{self.name}.timeout_s in the backend "
            "configuration if it needs longer" + _sorter_log_tail(job)), seconds=seconds, where=where)


def _sorter_log_tail(job: JobRecord) -> str:
    """For a sorter stopped at its time limit: the last lines of its log ('' for other tasks)."""
    from ..tasks.sorting import TASK_NAME, log_tail, sorting_log_path

    if job.task_name != TASK_NAME or not isinstance(job.task_input, dict):
        return ""
    path = sorting_log_path(job.task_input)
    tail = log_tail(path)
    return f"\n--- last lines of its log ({path}) ---\n{tail}" if tail else f" (its log {path} is empty)"


class InlineHandler(JobHandler):
    """Runs one job at a time in a thread of the backend process (for debugging and tests).

    A job that overruns its timeout is marked error, but Python cannot stop a thread: the slot stays busy
    until the task returns, and its late result is dropped.
    """

    def __init__(self, config: HandlerConfig, task_modules: tuple[str, ...] = ()):
        super().__init__(config, task_modules)
        self._done: queue.Queue[Outcome] = queue.Queue()
        self._current: tuple[JobRecord, float, threading.Thread] | None = None
        self._timed_out: set[str] = set()

    def free_slots(self) -> int:
        return 0 if self._current is not None else 1

    def start(self, job: JobRecord) -> None:
        def target() -> None:
            self._done.put(run_job(job.job_id, job.task_name, job.task_input, job.task_type, store_dir()))

        t = threading.Thread(target=target, name=f"sortingview-inline-{self.name}", daemon=True)
        self._current = (job, time.monotonic(), t)
        t.start()

    def poll(self) -> list[Outcome]:
        out = []
        while True:
            try:
                outcome = self._done.get_nowait()
            except queue.Empty:
                break
            if self._current and self._current[0].job_id == outcome.job_id:
                self._current = None
            if outcome.job_id in self._timed_out:
                self._timed_out.discard(outcome.job_id)
            else:
                out.append(outcome)
        if self._current and self._current[0].job_id not in self._timed_out:
            job, t0, _ = self._current
            if time.monotonic() - t0 > self.config.timeout_s:
                self._timed_out.add(job.job_id)
                out.append(self.timeout_outcome(job, time.monotonic() - t0, "backend thread"))
        return out

    def running(self) -> list[str]:
        if self._current is None or self._current[0].job_id in self._timed_out:
            return []
        return [self._current[0].job_id]

    def close(self) -> list[str]:
        return self.running()


def make_handler(config: HandlerConfig, task_modules: tuple[str, ...] = (), context=None) -> JobHandler:
    """The handler ``config.type`` names (``context``: a pool.WorkerContext, for parallel handlers)."""
    if config.type == "inline":
        return InlineHandler(config, task_modules)
    if config.type == "parallel":
        from .pool import ParallelHandler

        return ParallelHandler(config, task_modules, context)
    from .dask_handler import DaskHandler

    return DaskHandler(config, task_modules)
