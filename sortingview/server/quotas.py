"""What one client may hold of the server: long-poll threads and unfinished queued jobs.

A long-poll holds a server thread for up to ``max_wait`` seconds, so their number is bounded in total (leaving
threads free for every other request) and per client address; a request over the bound is answered at once
(429 or 503 with ``Retry-After``) instead of waiting for a thread. Queued jobs are counted per client address,
so one client cannot fill the channel for everyone.
"""
from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from typing import Callable, Iterator

from .http import ApiError

#: how long a client refused for lack of a slot should wait before asking again
RETRY_AFTER_S = 2


class Overloaded(ApiError):
    """429 (this client holds too much) or 503 (the server as a whole does), with a Retry-After."""

    def __init__(self, status: int, message: str):
        super().__init__(status, message)
        self.retry_after = RETRY_AFTER_S


class LongPollSlots:
    """At most ``total`` long-polls at once, at most ``per_client`` of them from one address."""

    def __init__(self, total: int, per_client: int):
        if total < 1 or per_client < 1:
            raise ValueError(f"long-poll limits must be at least 1, got total={total}, per_client={per_client}")
        self.total = total
        self.per_client = per_client
        self._lock = threading.Lock()
        self._by_client: dict[str, int] = {}
        self._held = 0

    def try_acquire(self, client: str) -> str | None:
        """None when a slot was taken for ``client``; else why not (``"client"`` or ``"server"``)."""
        with self._lock:
            if self._by_client.get(client, 0) >= self.per_client:
                return "client"
            if self._held >= self.total:
                return "server"
            self._by_client[client] = self._by_client.get(client, 0) + 1
            self._held += 1
            return None

    def release(self, client: str) -> None:
        with self._lock:
            self._held -= 1
            left = self._by_client[client] - 1
            if left:
                self._by_client[client] = left
            else:
                del self._by_client[client]

    def count(self, client: str) -> int:
        with self._lock:
            return self._by_client.get(client, 0)

    @contextlib.contextmanager
    def slot(self, client: str, *, required: bool = True) -> Iterator[bool]:
        """Hold a slot while waiting. Without one: Overloaded if ``required``, else yields False (do not wait)."""
        why = self.try_acquire(client)
        if why is not None:
            if not required:
                yield False
                return
            raise self._refusal(why)
        try:
            yield True
        finally:
            self.release(client)

    def _refusal(self, why: str) -> Overloaded:
        if why == "client":
            return Overloaded(429, f"this client already has {self.per_client} requests waiting here; wait for "
                                   f"them to answer, or retry in {RETRY_AFTER_S} s")
        return Overloaded(503, f"the server already has {self.total} requests waiting; retry in {RETRY_AFTER_S} s")


class ClientQueue:
    """Unfinished jobs each client address has queued, bounded at ``limit`` per client.

    Job ids are remembered per client (at most ``limit`` each, for at most ``max_clients`` clients); when a
    client is at its limit, its jobs are looked up and those that ended are forgotten before it is refused.
    """

    def __init__(self, limit: int, max_clients: int = 1024):
        if limit < 1:
            raise ValueError(f"max_queued_per_client must be at least 1, got {limit}")
        self.limit = limit
        self.max_clients = max_clients
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, dict[str, str | None]] = OrderedDict()  # client -> job id -> channel

    def check(self, client: str, is_unfinished: Callable[[str, str | None], bool]) -> None:
        """429 when ``client`` already has ``limit`` unfinished jobs (``is_unfinished(job_id, channel)``)."""
        with self._lock:
            jobs = dict(self._jobs.get(client, {}))
        if len(jobs) < self.limit:
            return
        ended = {job for job, chan in jobs.items() if not is_unfinished(job, chan)}
        with self._lock:
            mine = self._jobs.get(client, {})
            for job in ended:
                mine.pop(job, None)
            if len(mine) >= self.limit:
                raise Overloaded(429, f"this client already has {len(mine)} tasks queued or running (the limit is "
                                      f"{self.limit}); wait for some to finish before submitting more")

    def add(self, client: str, job_id: str, channel: str | None) -> None:
        with self._lock:
            mine = self._jobs.setdefault(client, {})
            self._jobs.move_to_end(client)
            mine[job_id] = channel
            while len(self._jobs) > self.max_clients:
                self._jobs.popitem(last=False)

    def count(self, client: str) -> int:
        with self._lock:
            return len(self._jobs.get(client, {}))
