"""The channel abstraction: a durable queue of task requests with leases.

A :class:`Channel` stores one record per job. Its statuses move ``queued -> running -> finished | error``;
a worker *claims* queued jobs (or running jobs whose lease expired because their worker died) and holds a
lease that it renews with :meth:`Channel.heartbeat`. Only the worker holding the lease may finish, fail or
release a job, so a job is never run by two live workers at once, and a job whose worker died is claimed
again (each claim counts an attempt; the backend gives up after its handler's ``max_attempts``).

Implementations provide the small abstract surface; waiting and the request/record conveniences are
written once here.
"""
from __future__ import annotations

import abc
import hashlib
import json
import time
from dataclasses import asdict, dataclass
from typing import Iterable

from ...errors import NotFoundError, TaskTimeoutError
from ..jobstatus import JobStatus

STATUSES = tuple(JobStatus)
#: how long a backend heartbeat stays valid; a backend silent for longer is reported dead
BACKEND_STALE_S = 15.0
#: a job's error message and traceback are kept up to this many characters each (a task cannot fill the channel)
MAX_ERROR_CHARS = 16_000
#: a job for a backend id that no live backend serves fails after this long in the queue (configurable)
UNSERVED_EXPIRY_S = 3600.0


def clip(text: str | None, limit: int = MAX_ERROR_CHARS) -> str | None:
    """``text`` cut to ``limit`` characters (the start and the end kept: a traceback's end says the most)."""
    if text is None or len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n... ({len(text) - 2 * half} characters cut) ...\n{text[-half:]}"


def backend_id_digest(backend_id: str) -> str:
    """What a backend publishes about its backend id: enough to match jobs, not the id itself."""
    return hashlib.sha1(("sortingview-backend-id:" + backend_id).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class TaskRequest:
    """What a client asks for. ``backend_id`` '' means "any backend started without an id"."""

    job_id: str
    task_name: str
    task_type: str
    handler: str
    task_input: dict
    backend_id: str = ""


@dataclass
class JobRecord:
    """The channel's record of one job (a snapshot; re-read it with :meth:`Channel.get`)."""

    job_id: str
    task_name: str
    task_type: str
    handler: str
    task_input: dict
    backend_id: str = ""
    status: JobStatus = JobStatus.QUEUED
    attempts: int = 0
    worker: str | None = None
    lease_until: float | None = None
    error: str | None = None
    traceback: str | None = None
    result: str | None = None
    submitted: float | None = None
    started: float | None = None
    finished: float | None = None

    def __post_init__(self) -> None:
        self.status = JobStatus(self.status)

    @property
    def done(self) -> bool:
        return self.status.done

    def to_dict(self) -> dict:
        return asdict(self)


def encode_input(task_input: dict) -> str:
    return json.dumps(task_input, sort_keys=True, separators=(",", ":"))


class Channel(abc.ABC):
    """A named, durable task queue shared by clients, the server and backends."""

    name: str
    url: str

    # --- the abstract surface -----------------------------------------------------------------------
    @abc.abstractmethod
    def submit(self, request: TaskRequest) -> JobRecord:
        """Queue a job; a job with the same id already queued or running is joined (not queued twice).

        A finished or failed job with that id is queued afresh (the caller has already looked in the
        result cache; an error is retried on a new request).
        """

    def submit_nowait(self, request: TaskRequest) -> None:
        """Submit without waiting for the channel's answer where the channel can (Redis reads it with the next
        call, and raises a failure there); here, :meth:`submit`."""
        self.submit(request)

    @abc.abstractmethod
    def claim(self, worker: str, limits: dict[str, int], *, backend_id: str = "",
              lease_s: float = 30.0) -> list[JobRecord]:
        """Take up to ``limits[handler]`` jobs per handler for ``worker``, oldest first.

        Queued jobs and running jobs whose lease expired are both claimable; each claim adds one attempt.
        """

    @abc.abstractmethod
    def heartbeat(self, worker: str, job_ids: Iterable[str], *, lease_s: float = 30.0) -> list[str]:
        """Extend the leases ``worker`` holds; return the ids whose lease it still holds."""

    @abc.abstractmethod
    def finish(self, worker: str, job_id: str, result: str | None = None) -> bool:
        """Mark a job finished (``result``: JSON text for queries/actions; calculations use task_results)."""

    @abc.abstractmethod
    def fail(self, worker: str, job_id: str, error: str, traceback: str | None = None) -> bool:
        """Mark a job failed with its message and traceback."""

    @abc.abstractmethod
    def release(self, worker: str, job_id: str, *, count_attempt: bool = False) -> bool:
        """Put a running job back in the queue (graceful stop, or its worker process died)."""

    @abc.abstractmethod
    def get(self, job_id: str) -> JobRecord | None:
        """The job's record, or None when the channel does not know it."""

    @abc.abstractmethod
    def stats(self) -> dict:
        """``{"queued": {handler: n}, "running": {handler: n}, "finished": n, "error": n}``."""

    @abc.abstractmethod
    def running_jobs(self) -> list[JobRecord]:
        """Every job currently running, with its worker and lease."""

    @abc.abstractmethod
    def put_backend(self, worker: str, info: dict | None) -> None:
        """Record a backend's heartbeat with its description (None removes it)."""

    @abc.abstractmethod
    def backends(self) -> dict[str, tuple[float, dict]]:
        """Every recorded backend: worker id -> (heartbeat time, description)."""

    @abc.abstractmethod
    def prune(self, older_than_s: float) -> int:
        """Forget finished and failed jobs that ended more than ``older_than_s`` ago; return how many."""

    @abc.abstractmethod
    def stale_queued(self, submitted_before: float) -> list[JobRecord]:
        """Queued jobs that carry a backend id and were submitted before ``submitted_before`` (channel clock)."""

    @abc.abstractmethod
    def expire(self, job_id: str, error: str) -> bool:
        """Fail a job that is still queued (no worker holds it) with ``error``; return whether it was queued."""

    @abc.abstractmethod
    def request_stop(self, job_id: str, error: str) -> bool:
        """Ask the backend running ``job_id`` to stop it and fail it with ``error``; whether the job is running.

        The backend that holds the job looks for requests about once a second (:meth:`stop_requests`), kills
        the worker process running it and records the error; a job that ends first keeps its own outcome.
        """

    @abc.abstractmethod
    def stop_requests(self, job_ids: list[str]) -> dict[str, str]:
        """Of ``job_ids``, the running ones someone asked to stop: job id -> the error to fail them with."""

    def close(self) -> None:  # noqa: B027  (optional: only channels holding connections override it)
        """Release connections (the channel may not be used afterwards)."""

    def has_news(self) -> bool:
        """Whether a job may have been queued since the last call (True when the channel cannot tell).

        A busy backend asks before claiming, so that it does not query the channel on every turn of its loop.
        """
        return True

    def news_fd(self) -> int | None:
        """A file descriptor that becomes readable when :meth:`has_news` may turn True, or None (no such thing)."""
        return None

    def listen(self, handlers: set[str] | None) -> None:  # noqa: B027  (only channels that publish override it)
        """Let :meth:`has_news` and :meth:`wait_for_work` report only jobs of ``handlers`` (None: every handler)."""

    def wait_for_work(self, timeout: float) -> None:
        """Return when a job may have been queued, or after ``timeout`` seconds (backends idle here).

        The default just sleeps; implementations that can be told about new jobs return sooner.
        """
        time.sleep(timeout)

    # --- conveniences written once --------------------------------------------------------------------
    def end_and_claim(self, worker: str, job_id: str, *, result: str | None = None, error: str | None = None,
                      traceback: str | None = None, limits: dict[str, int], backend_id: str = "",
                      lease_s: float = 30.0) -> tuple[bool, list[JobRecord]]:
        """Finish a job (fail it when ``error`` is given) and claim more: what a busy worker does between jobs.

        Returns whether the channel accepted the outcome, and the claimed jobs. Redis does both in one round
        trip.
        """
        if error is None:
            accepted = self.finish(worker, job_id, result)
        else:
            accepted = self.fail(worker, job_id, error, traceback)
        return accepted, self.claim(worker, limits, backend_id=backend_id, lease_s=lease_s)


    def expire_unserved(self, max_age_s: float = UNSERVED_EXPIRY_S) -> int:
        """Fail the jobs queued longer than ``max_age_s`` for a backend id that no live backend serves.

        Backends publish a digest of their backend id with their heartbeat (``backendIdDigest``); a request for
        an id nobody serves would otherwise wait in the queue for ever. Returns how many jobs expired.
        """
        served = {info.get("backendIdDigest") for info in self.live_backends().values()}
        n = 0
        for job in self.stale_queued(self.now() - max_age_s):
            if backend_id_digest(job.backend_id) in served:
                continue
            msg = (f"no backend serving this job's backend id took {job.task_name} within {max_age_s:g} s on "
                   f"channel {self.name!r}; start one with `sortingview-start-backend --backend-id ID "
                   f"--channel {self.name}` (the id the figURL or script was given), then submit the task again")
            n += self.expire(job.job_id, "BackendUnavailableError: " + msg)
        return n

    def status(self, job_id: str) -> JobStatus | None:
        rec = self.get(job_id)
        return None if rec is None else rec.status

    def wait(self, job_id: str, timeout: float | None = None) -> JobRecord:
        """Block until the job is finished or failed; raise TaskTimeoutError after ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.0002
        while True:
            rec = self._ended(job_id, timeout, deadline)
            if rec is not None:
                return rec
            # short sleeps first keep the round trip of fast tasks in the milliseconds
            time.sleep(delay if deadline is None else max(0.0, min(delay, deadline - time.monotonic())))
            delay = min(delay * 1.5, 0.02)

    def _ended(self, job_id: str, timeout: float | None, deadline: float | None) -> JobRecord | None:
        """The record if the job ended; None if it may still end in time; errors for unknown or late jobs."""
        return self._judge(self.get(job_id), job_id, timeout, deadline)

    def _judge(self, rec: JobRecord | None, job_id: str, timeout: float | None,
               deadline: float | None) -> JobRecord | None:
        """As :meth:`_ended`, for a record already read."""
        if rec is None:
            raise NotFoundError(f"job {job_id} is not in channel {self.name!r}; submit it first")
        if rec.done:
            return rec
        if deadline is not None and time.monotonic() >= deadline:
            raise TaskTimeoutError(f"job {job_id} ({rec.task_name}) is still {rec.status} after {timeout:g} s on "
                                   f"channel {self.name!r}; is a backend running (`sortingview status`)?")
        return None

    def now(self) -> float:
        """The channel's clock (heartbeats and leases are compared with it)."""
        return time.time()

    def live_backends(self, stale_s: float = BACKEND_STALE_S) -> dict[str, dict]:
        now = self.now()
        return {w: info for w, (beat, info) in self.backends().items() if now - beat <= stale_s}
