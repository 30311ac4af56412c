"""How the server gets tasks done: through the backend's channel, or (tests, `--inline`) in threads here.

Both runners speak one small interface, :class:`TaskRunner`: ``submit`` returns a job id at once and
``status`` returns ``{"jobId", "taskName", "status", "error"?, "traceback"?, "result"?}`` with the encoded
result when finished. A finished calculation is answered from ``task_results/`` before anything is queued.
"""
from __future__ import annotations

import base64
import threading
import time
import uuid
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from typing import Any, Protocol

from ..errors import NotFoundError, SortingviewError
from ..serialize import encode_value, task_job_id

DONE = ("finished", "error")


class TaskRunner(Protocol):
    def submit(self, task_name: str, task_input: dict, *, backend_id: str | None = None,
               channel: str | None = None) -> dict: ...

    def status(self, job_id: str, *, channel: str | None = None) -> dict: ...

    def wait(self, job_id: str, timeout: float, *, channel: str | None = None) -> dict:
        """The status once the job ended, or after ``timeout`` seconds."""


#: arrays up to this many raw bytes are sent uncompressed: the browser's per-array inflate costs more than the bytes
SMALL_ARRAY_BYTES = 4096


def for_browser(value: Any) -> Any:
    """Re-encode small zlib-compressed arrays of a result as plain base64 (same meaning, faster to decode)."""
    if isinstance(value, list):
        return [for_browser(v) for v in value]
    if not isinstance(value, dict):
        return value
    if value.get("_type") == "ndarray" and "data_gzip_b64" in value:
        raw = zlib.decompress(base64.b64decode(value["data_gzip_b64"]))
        if len(raw) <= SMALL_ARRAY_BYTES:
            out = {k: v for k, v in value.items() if k != "data_gzip_b64"}
            out["data_b64"] = base64.b64encode(raw).decode("ascii")
            return out
        return value
    return {k: for_browser(v) for k, v in value.items()}


def cached_status(task_name: str, task_input: dict) -> dict | None:
    """A finished status for a calculation whose result is already stored, else None."""
    from ..tasks import cached_result, get_task

    if get_task(task_name).task_type != "calculation":
        return None
    hit = cached_result(task_name, task_input)
    if hit is None:
        return None
    return {"jobId": task_job_id(task_name, task_input), "taskName": task_name, "status": "finished", "result": hit}


class InlineRunner:
    """Runs tasks in a thread pool inside the server process (no backend needed)."""

    def __init__(self, num_threads: int = 2):
        self._pool = ThreadPoolExecutor(num_threads, thread_name_prefix="sv-inline-task")
        self._jobs: dict[str, tuple[str, Future]] = {}
        self._lock = threading.Lock()

    def submit(self, task_name: str, task_input: dict, *, backend_id: str | None = None,
               channel: str | None = None) -> dict:
        from ..tasks import get_task, run_task_inline, validate_input

        spec = get_task(task_name)
        validate_input(spec, task_input)  # a bad input is the client's error, reported before queueing
        hit = cached_status(task_name, task_input)
        if hit is not None:
            return hit
        calc = spec.task_type == "calculation"
        job_id = task_job_id(task_name, task_input) if calc else uuid.uuid4().hex
        with self._lock:
            known = self._jobs.get(job_id)
            # a calculation runs once (later requests join it) unless it failed; queries and actions always run
            if known is None or known[1].done() and (not calc or known[1].exception() is not None):
                fut = self._pool.submit(lambda: encode_value(run_task_inline(task_name, task_input)))
                self._jobs[job_id] = (task_name, fut)
        return self.status(job_id)

    def status(self, job_id: str, *, channel: str | None = None) -> dict:
        with self._lock:
            entry = self._jobs.get(job_id)
        if entry is None:
            raise NotFoundError(f"no task with job id {job_id!r} on this server; submit it again")
        name, fut = entry
        out: dict[str, Any] = {"jobId": job_id, "taskName": name}
        if not fut.done():
            out["status"] = "running" if fut.running() else "queued"
        elif fut.exception() is not None:
            exc = fut.exception()
            out.update(status="error", error=str(exc), traceback=getattr(exc, "traceback", None))
        else:
            out.update(status="finished", result=fut.result())
        return out

    def wait(self, job_id: str, timeout: float, *, channel: str | None = None) -> dict:
        with self._lock:
            entry = self._jobs.get(job_id)
        if entry is not None:
            futures_wait([entry[1]], timeout=timeout)
        return self.status(job_id)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class BackendRunner:
    """Submits tasks to the channel that ``sortingview-start-backend`` workers claim from."""

    def __init__(self, channel: str = "default", channel_url: str | None = None):
        self.channel = channel
        self.channel_url = channel_url

    def _channel_kwargs(self, channel: str | None) -> dict:
        # a figURL may name another channel; its URL is then resolved by the backend client's configuration
        if channel and channel != self.channel:
            return {"channel": channel}
        return {"channel": self.channel, "channel_url": self.channel_url}

    def submit(self, task_name: str, task_input: dict, *, backend_id: str | None = None,
               channel: str | None = None) -> dict:
        from ..backend.client import submit_task
        from ..tasks import get_task, validate_input

        validate_input(get_task(task_name), task_input)
        hit = cached_status(task_name, task_input)
        if hit is not None:
            return hit
        handle = submit_task(task_name, task_input, backend_id=backend_id, **self._channel_kwargs(channel))
        return status_to_json(handle.status(), task_name)

    def status(self, job_id: str, *, channel: str | None = None) -> dict:
        from ..backend.client import get_task_status

        return status_to_json(get_task_status(job_id, **self._channel_kwargs(channel)))

    def wait(self, job_id: str, timeout: float, *, channel: str | None = None) -> dict:
        from ..backend.client import wait_task_status

        return status_to_json(wait_task_status(job_id, timeout, **self._channel_kwargs(channel)))

    def close(self) -> None:
        pass


def status_to_json(st: Any, task_name: str | None = None) -> dict:
    """The server's JSON form of a backend TaskStatus (result encoded, loaded from the store if needed)."""
    out: dict[str, Any] = {"jobId": st.job_id, "taskName": st.task_name or task_name, "status": st.status}
    if st.status == "error":
        out.update(error=st.error, traceback=st.traceback)
    elif st.status == "finished":
        result = st.result
        if result is None:
            result = _stored_result(out["taskName"], st.job_id)
        out["result"] = encode_value(result)
    return out


def _stored_result(task_name: str, job_id: str) -> Any:
    import json

    from ..store import get_store

    data = get_store().get_task_result(task_name, job_id)
    if data is None:
        raise SortingviewError(f"task {task_name} ({job_id}) finished but its result is not in the store")
    return json.loads(data)


def wait_for(runner: TaskRunner, status: dict, timeout: float, stop: threading.Event, *,
             channel: str | None = None) -> dict:
    """Long-poll: wait until the task is done, ``timeout`` passes or the server stops.

    The wait goes in slices of at most a second so that a stopping server answers its long-polls at once.
    """
    deadline = time.monotonic() + timeout
    while status["status"] not in DONE and not stop.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            break
        status = runner.wait(status["jobId"], min(left, 1.0), channel=channel)
    return status
