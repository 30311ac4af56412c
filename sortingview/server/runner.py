"""How the server gets tasks done: always through a channel and the backend's job handlers.

:class:`BackendRunner` submits to the channel that ``sortingview-start-backend`` serves. :class:`InlineRunner`
(tests, ``--inline``) is the same path on a SQLite channel of its own in the store, served by a backend
running in a thread of the server with every handler ``inline``; joining, caching and statuses are the
channel's, so a task means the same in both modes.

Both speak one small interface, :class:`TaskRunner`: ``submit`` returns a status at once and ``status``
returns ``{"jobId", "taskName", "status", "error"?, "traceback"?, "result"?}`` with the encoded result when
finished. A finished calculation is answered from ``task_results/`` before anything is queued.
"""
from __future__ import annotations

import base64
import logging
import math
import threading
import time
import zlib
from typing import Any, Protocol

from ..backend.channel import Channel
from ..backend.channel.base import UNSERVED_EXPIRY_S
from ..backend.channel.sqlite_channel import SqliteChannel
from ..backend.jobstatus import DONE, JobStatus
from ..serialize import Blob, encode_value
from .http import redact_store

log = logging.getLogger("sortingview.server")
#: the SQLite channel (in the store directory) that an inline server's own backend serves
INLINE_CHANNEL = "server-inline"
_EXPIRE_EVERY_S = 60.0


class TaskRunner(Protocol):
    def submit(self, task_name: str, task_input: dict, *, backend_id: str | None = None,
               channel: str | None = None) -> dict: ...

    def status(self, job_id: str, *, channel: str | None = None) -> dict: ...

    def wait(self, job_id: str, timeout: float, *, channel: str | None = None) -> dict:
        """The status once the job ended, or after ``timeout`` seconds."""


#: arrays up to this many raw bytes are sent uncompressed: the browser's per-array inflate costs more than the bytes
SMALL_ARRAY_BYTES = 4096


def for_browser(value: Any, keep_blobs: bool = False) -> Any:
    """Re-encode small zlib-compressed arrays of a result as plain base64 (same meaning, faster to decode), and
    write a bundle's arrays (:class:`~sortingview.serialize.Blob`) as the base64 text of the JSON form (unless
    ``keep_blobs``: the answer is a bundle)."""
    if isinstance(value, Blob):
        return value if keep_blobs else value.text()
    if isinstance(value, list):
        return [for_browser(v, keep_blobs) for v in value]
    if not isinstance(value, dict):
        return value
    if value.get("_type") == "ndarray" and "data_gzip_b64" in value and _small(value):
        data = value["data_gzip_b64"]
        packed = data.data if isinstance(data, Blob) else base64.b64decode(data)
        raw = zlib.decompressobj().decompress(packed, SMALL_ARRAY_BYTES + 1)
        if len(raw) <= SMALL_ARRAY_BYTES:
            out = {k: v for k, v in value.items() if k != "data_gzip_b64"}
            out["data_b64"] = base64.b64encode(raw).decode("ascii")
            return out
    return {k: for_browser(v, keep_blobs) for k, v in value.items()}


def _small(array: dict) -> bool:
    """Whether an encoded array's shape says it holds at most SMALL_ARRAY_BYTES (8 bytes an item at most)."""
    try:
        return math.prod(int(s) for s in array.get("shape", ())) * 8 <= SMALL_ARRAY_BYTES
    except (TypeError, ValueError):
        return False


class BackendRunner:
    """Submits tasks to the channel that backends claim from."""

    def __init__(self, channel: str | Channel = "default", channel_url: str | None = None,
                 unserved_expiry_s: float = UNSERVED_EXPIRY_S):
        self.channel = channel
        self.channel_url = channel_url
        self.unserved_expiry_s = unserved_expiry_s  # the YAML's ``unserved_expiry_s`` of the backend started alongside
        self._next_expire = 0.0

    def _channel_kwargs(self, channel: str | None) -> dict:
        # a figURL may name another channel; its URL is then resolved by the backend client's configuration
        if channel and channel != getattr(self.channel, "name", self.channel):
            return {"channel": channel}
        return {"channel": self.channel, "channel_url": self.channel_url}

    def submit(self, task_name: str, task_input: dict, *, backend_id: str | None = None,
               channel: str | None = None) -> dict:
        from ..backend.client import submit_task

        kwargs = self._channel_kwargs(channel)
        handle = submit_task(task_name, task_input, backend_id=backend_id, **kwargs)
        self._expire_unserved(handle.channel)
        return status_to_json(handle.status(), task_name)

    def status(self, job_id: str, *, channel: str | None = None) -> dict:
        from ..backend.client import get_task_status

        return status_to_json(get_task_status(job_id, **self._channel_kwargs(channel)))

    def wait(self, job_id: str, timeout: float, *, channel: str | None = None) -> dict:
        from ..backend.client import wait_task_status

        return status_to_json(wait_task_status(job_id, timeout, **self._channel_kwargs(channel)))

    def _expire_unserved(self, chan: Channel) -> None:
        """Now and then, fail jobs queued for a backend id nobody serves (there may be no backend to do it)."""
        now = time.monotonic()
        if now >= self._next_expire:
            self._next_expire = now + min(_EXPIRE_EVERY_S, self.unserved_expiry_s / 2)
            chan.expire_unserved(self.unserved_expiry_s)

    def close(self) -> None:
        pass


class InlineRunner(BackendRunner):
    """Runs tasks in the server process: a backend thread with ``inline`` handlers on a channel of its own.

    Backend ids and channel names in requests are ignored: this server's backend runs everything it is given.
    """

    def __init__(self, num_threads: int | None = None):
        from ..backend.channel import channel_path
        from ..backend.config import BackendConfig, HandlerConfig
        from ..backend.daemon import Backend
        from ..tasks.registry import HANDLER_TYPES

        chan = _NotifiedChannel(channel_path(INLINE_CHANNEL), INLINE_CHANNEL)
        super().__init__(chan)
        config = BackendConfig(handlers=tuple(HandlerConfig(h, type="inline") for h in HANDLER_TYPES),
                               channel=INLINE_CHANNEL)
        self._backend = Backend(config, channel=chan)
        self._thread = threading.Thread(target=self._backend.run, name="sortingview-inline-backend", daemon=True)
        self._thread.start()

    def submit(self, task_name: str, task_input: dict, *, backend_id: str | None = None,
               channel: str | None = None) -> dict:
        status = super().submit(task_name, task_input)
        self.channel.notify()
        return status

    def status(self, job_id: str, *, channel: str | None = None) -> dict:
        return super().status(job_id)

    def wait(self, job_id: str, timeout: float, *, channel: str | None = None) -> dict:
        return super().wait(job_id, timeout)

    def close(self) -> None:
        self._backend.stop(graceful=False)
        self.channel.notify()
        self._thread.join(5)


class _NotifiedChannel(SqliteChannel):
    """A SQLite channel whose idle backend is woken by the server's own submissions (no polling)."""

    def __init__(self, path: str, name: str):
        super().__init__(path, name)
        self._news = threading.Event()

    def notify(self) -> None:
        self._news.set()

    def wait_for_work(self, timeout: float) -> None:
        self._news.wait(timeout)
        self._news.clear()


def status_to_json(st: Any, task_name: str | None = None) -> dict:
    """The server's JSON form of a backend TaskStatus (its result is already loaded and encoded)."""
    out: dict[str, Any] = {"jobId": st.job_id, "taskName": st.task_name or task_name, "status": JobStatus(st.status)}
    if st.status == JobStatus.ERROR:
        # the backend's log keeps the full text; clients never see the store's directory
        out.update(error=redact_store(st.error), traceback=redact_store(st.traceback))
    elif st.status == JobStatus.FINISHED:
        out["result"] = encode_value(st.result)
    return out


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


__all__ = ["TaskRunner", "BackendRunner", "InlineRunner", "for_browser", "status_to_json", "wait_for", "INLINE_CHANNEL"]
