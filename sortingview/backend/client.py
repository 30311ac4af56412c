"""The Python side of tasks: ``submit_task`` (a handle), ``get_task_status`` and ``run_task``.

A calculation already in the result cache (``task_results/``) is answered at once without queueing; any
other request goes to the channel, where a request for a job already queued or running joins it.
"""
from __future__ import annotations

import logging
import math
import os
import time
import uuid
import warnings
from dataclasses import dataclass
from typing import Any

from ..errors import NotFoundError, TaskError, TaskInputError, TaskTimeoutError, UnknownTaskError
from ..serialize import canonical_json, decode_value, sha1_of_bytes, task_job_id
from ..tasks import TaskSpec, cached_result, get_task, validate_input
from .channel import Channel, JobRecord, TaskRequest, channel_path, open_channel, resolve_channel
from .jobstatus import DONE, JobStatus

log = logging.getLogger("sortingview.backend")
#: after this long in the queue with no live backend, waiting clients are told to start one
NO_BACKEND_WARNING_S = 5.0


@dataclass
class TaskStatus:
    """Where a job stands. ``result`` is the encoded JSON result once finished."""

    job_id: str
    task_name: str
    status: JobStatus
    error: str | None = None
    traceback: str | None = None
    result: Any = None

    def to_json(self) -> dict:
        """The form the HTTP API sends (camelCase keys)."""
        return {"jobId": self.job_id, "taskName": self.task_name, "status": self.status, "error": self.error,
                "traceback": self.traceback, "result": self.result}


def _spec(task_name: str) -> TaskSpec:
    try:
        return get_task(task_name)
    except UnknownTaskError:
        # a plugin task: the backend configuration names the module that registers it
        from .config import ENV_CONFIG, load_config
        from .plugins import load_task_modules

        if not os.environ.get(ENV_CONFIG):
            raise
        load_task_modules(load_config().task_modules)
        return get_task(task_name)


def job_id_for(task_name: str, task_type: str, task_input: dict, backend_id: str | None) -> str:
    """The channel's job id: calculations by content (so equal requests join), others fresh each time."""
    if task_type != "calculation":
        return sha1_of_bytes(uuid.uuid4().bytes)
    if not backend_id:
        return task_job_id(task_name, task_input)
    # the backend id joins the hashed body; URIs count without their labels, as in task_job_id
    return sha1_of_bytes(canonical_json({"backendId": backend_id, "jobId": task_job_id(task_name, task_input)})
                         .encode("ascii"))


def _status_of(rec: JobRecord, chan: Channel) -> TaskStatus:
    st = TaskStatus(rec.job_id, rec.task_name, rec.status, rec.error, rec.traceback)
    if rec.status == JobStatus.FINISHED:
        if rec.task_type == "calculation":
            from ..store import MISSING, load_task_result

            st.result = load_task_result(rec.task_name, task_job_id(rec.task_name, rec.task_input))
            if st.result is MISSING:  # the result file was removed (or was damaged) since: compute it again
                req = TaskRequest(rec.job_id, rec.task_name, rec.task_type, rec.handler, rec.task_input,
                                  rec.backend_id)
                return TaskStatus(rec.job_id, rec.task_name, chan.submit(req).status)
        elif rec.result is not None:
            import json

            st.result = json.loads(rec.result)
    return st


class TaskHandle:
    """A submitted task: poll it with :meth:`status`, block on it with :meth:`wait`."""

    def __init__(self, job_id: str, task_name: str, channel: Channel, finished: TaskStatus | None = None):
        self.job_id = job_id
        self.task_name = task_name
        self.channel = channel
        self._finished = finished

    def __repr__(self) -> str:
        return f"TaskHandle({self.task_name}, job {self.job_id[:10]}, channel {self.channel.name!r})"

    def status(self) -> TaskStatus:
        if self._finished is not None:
            return self._finished
        rec = self.channel.get(self.job_id)
        if rec is None:
            raise NotFoundError(f"job {self.job_id} is no longer in channel {self.channel.name!r}; submit it again")
        return _status_of(rec, self.channel)

    def wait_status(self, timeout: float | None = None) -> TaskStatus:
        """The status once the job ended, or the current one after ``timeout`` seconds (long-poll)."""
        check_timeout(timeout)
        if self._finished is not None:
            return self._finished
        start = time.monotonic()
        warned = False
        while True:
            step = NO_BACKEND_WARNING_S if timeout is None else min(NO_BACKEND_WARNING_S, timeout)
            try:
                st = _status_of(self.channel.wait(self.job_id, step), self.channel)
                if st.status in DONE:
                    return st
            except TaskTimeoutError:
                pass
            elapsed = time.monotonic() - start
            if timeout is not None and elapsed >= timeout:
                return self.status()
            if not warned and not self.channel.live_backends():
                warnings.warn(f"task {self.task_name} has waited {elapsed:.0f} s in channel {self.channel.name!r} "
                              "and no backend is running there; start one with `sortingview-start-backend`",
                              RuntimeWarning, stacklevel=3)
                warned = True

    def cancel(self, why: str = "cancelled by its client") -> bool:
        """Take the job out of the queue, or ask the backend running it to stop it (within about a second; its
        worker process is killed); it then fails with ``CancelledError: <why>``. Whether it was queued or
        running (False: it had ended). A task on an ``inline`` or ``dask`` handler cannot be stopped: it runs
        until it ends or reaches its timeout, and the backend logs a warning."""
        return cancel_job(self.channel, self.job_id, f"CancelledError: {why}") is not None

    def wait(self, timeout: float | None = None) -> Any:
        """The decoded result; TaskError (with the remote traceback) or TaskTimeoutError otherwise."""
        st = self.wait_status(timeout)
        if st.status == JobStatus.FINISHED:
            return decode_value(st.result)
        if st.status == JobStatus.ERROR:
            raise TaskError(f"task {self.task_name} failed: {st.error}", traceback=st.traceback)
        raise TaskTimeoutError(f"task {self.task_name} (job {self.job_id[:10]}) is still {st.status} after "
                               f"{timeout:g} s on channel {self.channel.name!r}; see `sortingview status`")


def cancel_job(channel: Channel, job_id: str, error: str) -> str | None:
    """Fail a queued job with ``error`` at once, or ask the backend running it to stop it and fail it so;
    ``"queued"`` or ``"running"`` for what it was, None when it had ended (or is unknown)."""
    if channel.expire(job_id, error):
        return "queued"
    return "running" if channel.request_stop(job_id, error) else None


def check_timeout(timeout: float | None) -> None:
    """A wait ends: ``timeout`` is None (wait for the result) or a finite number of seconds, at least 0."""
    if timeout is None:
        return
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not math.isfinite(timeout) \
            or timeout < 0:
        raise TaskInputError(f"timeout={timeout!r} is not a number of seconds; pass a finite number >= 0, or None "
                             "to wait for the result")


def channel_is_served(name: str, channel_url: str | None = None) -> bool:
    """Whether channel ``name`` exists and a live backend serves it, found without creating anything.

    A SQLite channel exists when its file does; a Redis channel is only a key prefix, so there the backends'
    heartbeats decide alone.
    """
    url = channel_url or os.environ.get("SORTINGVIEW_CHANNEL_URL") or None
    if url is None and not os.path.isfile(channel_path(name)):
        return False
    return bool(open_channel(name, url).live_backends())


def submit_task(task_name: str, task_input: dict, *, backend_id: str | None = None,
                channel: str | Channel | None = None, channel_url: str | None = None) -> TaskHandle:
    """Submit a task to the channel (or answer a cached calculation at once) and return its handle.

    Raises UnknownTaskError / TaskInputError at once for a request no backend could run.
    """
    spec = _spec(task_name)
    validate_input(spec, task_input)
    chan = resolve_channel(channel, channel_url)
    job_id = job_id_for(task_name, spec.task_type, task_input, backend_id)
    if spec.task_type == "calculation":
        hit = cached_result(task_name, task_input)
        if hit is not None:
            return TaskHandle(job_id, task_name, chan, TaskStatus(job_id, task_name, JobStatus.FINISHED, result=hit))
    # on Redis the answer is read with the handle's first look at the job (waiting costs no extra round trip)
    chan.submit_nowait(TaskRequest(job_id, task_name, spec.task_type, spec.handler_type, task_input,
                                   backend_id or ""))
    return TaskHandle(job_id, task_name, chan)


def get_task_status(job_id: str, *, channel: str | Channel | None = None,
                    channel_url: str | None = None) -> TaskStatus:
    """The status of a submitted job (NotFoundError when the channel does not know it)."""
    chan = resolve_channel(channel, channel_url)
    rec = chan.get(job_id)
    if rec is None:
        raise NotFoundError(f"no job {job_id} in channel {chan.name!r}; submit the task first")
    return _status_of(rec, chan)


def wait_task_status(job_id: str, timeout: float, *, channel: str | Channel | None = None,
                     channel_url: str | None = None) -> TaskStatus:
    """Long-poll: the status once the job ended, or after ``timeout`` seconds, whichever comes first."""
    chan = resolve_channel(channel, channel_url)
    rec = chan.get(job_id)
    if rec is None:
        raise NotFoundError(f"no job {job_id} in channel {chan.name!r}; submit the task first")
    return TaskHandle(job_id, rec.task_name, chan).wait_status(timeout)


def run_task(task_name: str, task_input: dict, *, inline: bool = False, timeout: float | None = None,
             backend_id: str | None = None, channel: str | Channel | None = None,
             channel_url: str | None = None) -> Any:
    """Run a task and return its decoded result.

    With ``inline=True`` the task runs in this process (no backend needed); otherwise it is submitted to the
    channel and this call waits (up to ``timeout`` seconds) for a backend to run it.
    """
    if inline:
        from ..tasks import run_task_inline

        return run_task_inline(task_name, task_input)
    return submit_task(task_name, task_input, backend_id=backend_id, channel=channel,
                       channel_url=channel_url).wait(timeout)
