"""A channel in Redis (``redis://host:port/db``), for backends on several hosts.

Every state change is one Lua script, so it is atomic on the server without client-side locks, and leases
use the Redis server's clock (``TIME``), so hosts with skewed clocks still agree on when a lease expired.
Keys are prefixed ``sortingview:<channel name>:``, so several channels can share one database.

Layout: ``job:<id>`` (hash of the record's fields), ``q:<backendId>:<handler>`` (list of queued ids),
``w:<backendId>:<handler>`` (wake tokens, see redis_scripts.py), ``queues`` (set of queue keys), ``running``
(zset id -> lease end), ``finished`` / ``error`` (zsets id -> end time), ``backends`` (hash worker -> JSON
heartbeat); pub/sub ``events:<handler>`` when a queue stops being empty.
"""
from __future__ import annotations

import functools
import json
import time
from typing import Callable, Iterable

from ...errors import ChannelError
from .base import Channel, JobRecord, TaskRequest, clip, encode_input
from .redis_scripts import CLAIM, END, END_CLAIM, END_MANY, EXPIRE, HAND_OVER, HEARTBEAT, STOP, SUBMIT
from .redis_wire import Wire, script_sha

_FLOATS = ("lease_until", "submitted", "started", "finished")


#: methods whose commands read the replies of deferred submissions in their own round trip (or defer one)
_MERGING = frozenset({"wait", "get", "submit_nowait"})


def _wrap_errors(method):
    """Turn Redis connection problems into a ChannelError that names the URL."""

    settle = method.__name__ not in _MERGING

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        import redis

        try:
            if settle:  # deferred submissions first, so that this call sees them
                self.wire.settle()
            return method(self, *args, **kwargs)
        except redis.exceptions.ConnectionError as exc:
            raise ChannelError(f"cannot reach the Redis channel at {self.url}: {exc}; start redis-server there "
                               "or fix the channel URL (SORTINGVIEW_CHANNEL_URL / --channel-url)") from exc
        except redis.exceptions.RedisError as exc:
            raise ChannelError(f"Redis channel {self.url}: {exc}") from exc

    return wrapper


def _pairs(flat: list) -> dict:
    """A hash returned by Lua's HGETALL (a flat key, value list) as a dict (RESP3 replies are one already)."""
    if isinstance(flat, dict):
        return flat
    return dict(zip(flat[::2], flat[1::2], strict=True))


def _record(fields: dict) -> JobRecord | None:
    if not fields:
        return None
    d = {k.decode(): v.decode() for k, v in fields.items()}
    values: dict = {k: d.get(k) for k in ("job_id", "task_name", "task_type", "handler", "backend_id", "status",
                                          "worker", "error", "traceback", "result")}
    values["backend_id"] = values["backend_id"] or ""
    values["task_input"] = json.loads(d["task_input"])
    values["attempts"] = int(d.get("attempts", 0))
    for k in _FLOATS:
        values[k] = float(d[k]) if d.get(k) else None
    return JobRecord(**values)


class RedisChannel(Channel):
    """A channel named ``name`` in the Redis database at ``url``."""

    def __init__(self, url: str, name: str = "default"):
        try:
            import redis
        except ImportError as exc:
            raise ChannelError("a redis:// channel needs the redis package: pip install 'sortingview[redis]'") from exc
        self.name, self.url = name, url
        self.prefix = f"sortingview:{name}:"
        try:
            self.r = redis.Redis.from_url(url, socket_connect_timeout=10, socket_timeout=60, health_check_interval=30)
        except ValueError as exc:
            raise ChannelError(f"bad Redis channel URL {url!r}: {exc}; use redis://host:port/db") from exc
        self.wire = Wire(self.r)  # the per-task calls
        self._heartbeat = self.r.register_script(HEARTBEAT)
        self._end_script = self.r.register_script(END)
        self._expire_script = self.r.register_script(EXPIRE)
        self._stop_script = self.r.register_script(STOP)
        self._events = None
        self._listen: set[str] | None = None

    @_wrap_errors
    def submit(self, request: TaskRequest) -> JobRecord:
        status, worker, attempts = self.wire.evalsha(SUBMIT, [
            self.prefix, request.job_id, request.task_name, request.task_type, request.handler,
            encode_input(request.task_input), request.backend_id])
        return JobRecord(request.job_id, request.task_name, request.task_type, request.handler, request.task_input,
                         request.backend_id, status=status.decode(), attempts=int(attempts),
                         worker=worker.decode() if worker else None)

    @_wrap_errors
    def submit_nowait(self, request: TaskRequest) -> None:
        """As :meth:`submit`, without waiting for Redis's answer: it is read by this thread's next call on the
        channel (waiting for the job reads it in the same round trip), and a failure is raised there."""
        self.wire.defer(("EVALSHA", script_sha(SUBMIT), 0, self.prefix, request.job_id, request.task_name,
                         request.task_type, request.handler, encode_input(request.task_input), request.backend_id))

    @_wrap_errors
    def claim(self, worker: str, limits: dict[str, int], *, backend_id: str = "",
              lease_s: float = 30.0) -> list[JobRecord]:
        pairs = [x for h, n in limits.items() if n > 0 for x in (h, n)]
        if not pairs:
            return []
        claimed = self.wire.evalsha(CLAIM, [self.prefix, worker, lease_s, backend_id, 0, *pairs])
        return [_record(_pairs(flat)) for flat in claimed]

    @_wrap_errors
    def wait_and_claim(self, worker: str, handler: str, *, backend_id: str = "", lease_s: float = 30.0,
                       timeout: float = 0.5) -> JobRecord | None:
        """Block until a job of ``handler`` is queued (or ``timeout`` passes), then claim one: what an idle worker
        that claims its own jobs does. One round trip: BLPOP on the handler's wake tokens, the claim behind it
        (which runs also when the wait timed out, so jobs without a token and expired leases are still taken)."""
        import redis

        claim = ("EVALSHA", script_sha(CLAIM), 0, self.prefix, worker, lease_s, backend_id, 1, handler, 1)
        try:
            _, claimed = self.wire.call(("BLPOP", f"{self.prefix}w:{backend_id}:{handler}", timeout), claim)
        except redis.exceptions.NoScriptError:  # the wait ran, the claim did not: claim alone (loading it)
            claimed = self.wire.evalsha(CLAIM, list(claim[3:]))
        return _record(_pairs(claimed[0])) if claimed else None

    @_wrap_errors
    def queue_length(self, handler: str, backend_id: str = "") -> int:
        """How many jobs of ``handler`` are queued for ``backend_id`` (a burst backend asks before it ends)."""
        return self.r.llen(f"{self.prefix}q:{backend_id}:{handler}")

    @_wrap_errors
    def hand_over(self, job_id: str, holder: str, to: str, *, lease_s: float = 30.0) -> bool:
        """Pass the unexpired lease on a running job from ``holder`` to ``to`` (a backend to the worker it
        started), renewed for ``lease_s``; False when ``holder`` no longer holds it."""
        return bool(self.wire.evalsha(HAND_OVER, [self.prefix, job_id, holder, to, lease_s]))

    def _get_many(self, ids: list[str]) -> list[JobRecord]:
        pipe = self.r.pipeline(transaction=False)
        for i in ids:
            pipe.hgetall(self.prefix + "job:" + i)
        return [rec for rec in map(_record, pipe.execute()) if rec is not None]

    @_wrap_errors
    def heartbeat(self, worker: str, job_ids: Iterable[str], *, lease_s: float = 30.0) -> list[str]:
        ids = list(job_ids)
        if not ids:
            return []
        return [i.decode() for i in self._heartbeat(args=[self.prefix, worker, lease_s, *ids])]

    @_wrap_errors
    def _end(self, worker: str, job_id: str, action: str, a: str | None = None, b: str | None = None) -> bool:
        args = [self.prefix, worker, job_id, action, a or "", b or "", "1" if a is not None else "0"]
        return bool(self._end_script(args=args))

    def finish(self, worker: str, job_id: str, result: str | None = None) -> bool:
        return self._end(worker, job_id, "finish", result)

    def fail(self, worker: str, job_id: str, error: str, traceback: str | None = None) -> bool:
        return self._end(worker, job_id, "fail", clip(error), clip(traceback))

    def release(self, worker: str, job_id: str, *, count_attempt: bool = False) -> bool:
        return self._end(worker, job_id, "release_count" if count_attempt else "release")

    @_wrap_errors
    def end_and_claim(self, worker: str, job_id: str, *, result: str | None = None, error: str | None = None,
                      traceback: str | None = None, limits: dict[str, int], backend_id: str = "",
                      lease_s: float = 30.0) -> tuple[bool, list[JobRecord]]:
        if error is None:
            args = [self.prefix, worker, job_id, "finish", result or "", "", "1" if result is not None else "0"]
        else:
            args = [self.prefix, worker, job_id, "fail", clip(error), clip(traceback) or "", "1"]
        pairs = [x for h, n in limits.items() if n > 0 for x in (h, n)]
        accepted, claimed = self.wire.evalsha(END_CLAIM, [*args, lease_s, backend_id, *pairs])
        return bool(accepted), [_record(_pairs(flat)) for flat in claimed]

    @_wrap_errors
    def end_many_and_claim(self, worker: str, ended: list[tuple[str, str | None, str | None, str | None]],
                           released: list[str], handler: str, n: int, *, share: int = 1, backend_id: str = "",
                           lease_s: float = 30.0, wait: float = 0.0,
                           on_ended: Callable[[list[bool]], None] | None = None
                           ) -> tuple[list[bool], list[JobRecord], int]:
        """Record several outcomes and give back jobs not run, then claim up to ``n`` jobs of ``handler``: what a
        worker that claims its own jobs does after a batch of them.

        ``ended`` holds (job id, result, error, traceback), error None for a success. The claim takes at most
        ``1 / share`` of the queue (at least one job), so that ``share`` workers of one handler split a burst
        instead of one taking it all. With ``wait`` > 0 the claim first blocks up to ``wait`` seconds on the
        handler's wake tokens (as :meth:`wait_and_claim`), in the same round trip as the outcomes, which are
        recorded before the wait; ``on_ended(accepted)`` is then called as soon as they are, when the claim does
        not answer at once. Returns whether each ended job was accepted (this worker still held it), the
        claimed records, and how many jobs of ``handler`` are still queued (a worker that knows more are
        queued need not wait).
        """
        import redis

        head: list = [self.prefix, worker, lease_s, backend_id, handler]
        ends: list = []
        for job_id, result, error, tb in ended:
            if error is None:
                ends += [job_id, "finish", result or "", "", "1" if result is not None else "0"]
            else:
                ends += [job_id, "fail", clip(error), clip(tb) or "", "1"]
        for job_id in released:
            ends += [job_id, "release", "", "", "0"]
        count = len(ended) + len(released)
        if wait <= 0:
            accepted, claimed, queued = self.wire.evalsha(END_MANY, [*head, max(0, n), max(1, share), 0, count, *ends])
            return [bool(a) for a in accepted[:len(ended)]], [_record(_pairs(flat)) for flat in claimed], queued
        sha = script_sha(END_MANY)
        self.wire.settle()
        commands = (("EVALSHA", sha, 0, *head, 0, 1, 0, count, *ends),
                    ("BLPOP", f"{self.prefix}w:{backend_id}:{handler}", wait),
                    ("EVALSHA", sha, 0, *head, max(0, n), max(1, share), 1, 0))
        try:
            conn = self.wire.send(commands)
            try:
                [(accepted, _, _)] = self.wire.read(conn, 1)
            except redis.exceptions.NoScriptError:
                try:  # the wait and the claim answer too: read them, so the connection stays in step
                    self.wire.read(conn, 2)
                except redis.exceptions.NoScriptError:
                    pass
                raise
            if on_ended is not None and not conn.can_read(timeout=0.002):
                on_ended([bool(a) for a in accepted[:len(ended)]])
            _, (_, claimed, queued) = self.wire.read(conn, 2)
        except redis.exceptions.NoScriptError:  # a new or restarted server: nothing ran; load it, then no wait
            self.r.script_load(END_MANY)
            return self.end_many_and_claim(worker, ended, released, handler, n, share=share, backend_id=backend_id,
                                           lease_s=lease_s)
        return [bool(a) for a in accepted[:len(ended)]], [_record(_pairs(flat)) for flat in claimed], queued

    @_wrap_errors
    def get(self, job_id: str) -> JobRecord | None:
        [flat] = self.wire.call(("HGETALL", self.prefix + "job:" + job_id), merge=True)
        return _record(_pairs(flat))

    @_wrap_errors
    def stats(self) -> dict:
        out: dict = {"queued": {}, "running": {}, "finished": 0, "error": 0}
        for q in sorted(self.r.smembers(self.prefix + "queues")):
            n = self.r.llen(q)
            if n:
                handler = q.decode().rsplit(":", 1)[1]
                out["queued"][handler] = out["queued"].get(handler, 0) + n
        for rec in self.running_jobs():
            out["running"][rec.handler] = out["running"].get(rec.handler, 0) + 1
        out["finished"] = self.r.zcard(self.prefix + "finished")
        out["error"] = self.r.zcard(self.prefix + "error")
        return out

    @_wrap_errors
    def running_jobs(self) -> list[JobRecord]:
        ids = [i.decode() for i in self.r.zrange(self.prefix + "running", 0, -1)]
        return [r for r in self._get_many(ids) if r.status == "running"]

    @_wrap_errors
    def wait(self, job_id: str, timeout: float | None = None) -> JobRecord:
        """As Channel.wait, but blocked on the token list the finishing worker pushes to, instead of polling.

        One round trip per turn: BLMOVE from the token list to itself returns at once when the job has ended
        (and leaves the token for anyone else waiting on the job), else blocks until it ends; the HGETALL
        pipelined behind it runs when it returns and reads the record.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        token, job = self.prefix + "done:" + job_id, self.prefix + "job:" + job_id
        turn = 0.05  # short at first, so that waiting for a job the channel does not know fails quickly
        while True:
            left = turn if deadline is None else min(turn, deadline - time.monotonic())
            turn = 1.0
            _, flat = self.wire.call(("BLMOVE", token, token, "RIGHT", "LEFT", max(left, 0.01)), ("HGETALL", job),
                                     merge=True)  # a submission's deferred reply is read in the same round trip
            rec = self._judge(_record(_pairs(flat)), job_id, timeout, deadline)
            if rec is not None:
                return rec

    def _subscribe(self) -> bool:
        """Listen to this channel's events; True when the subscription is new (events may have been missed)."""
        if self._events is not None:
            return False
        self._events = self.r.pubsub(ignore_subscribe_messages=True)
        if self._listen is None:
            self._events.psubscribe(self.prefix + "events:*")
        elif self._listen:
            self._events.subscribe(*(self.prefix + "events:" + h for h in sorted(self._listen)))
        return True

    def listen(self, handlers: set[str] | None) -> None:
        """Hear of queued jobs only for ``handlers`` (None: all). A backend whose workers of a handler type all
        claim their own jobs stops listening to it, so a submission wakes those workers and not the backend."""
        handlers = None if handlers is None else set(handlers)
        if handlers == self._listen:
            return
        self._listen = handlers
        if self._events is not None:
            try:
                self._events.close()
            except Exception:  # noqa: BLE001  (a broken connection is dropped all the same)
                pass
            self._events = None

    def has_news(self) -> bool:
        import redis

        try:
            news = self._subscribe()
            conn = self._events.connection  # a plain look at the socket first: a busy loop asks on every turn
            while (conn is None or conn.can_read(timeout=0)) and self._events.get_message(timeout=0) is not None:
                news = True
            return news
        except redis.exceptions.RedisError:  # the claim that follows reports a real outage
            self._events = None
            return True

    def news_fd(self) -> int | None:
        """The pub/sub connection's socket (readable when a job was queued; has_news drains it)."""
        import redis

        try:
            self._subscribe()
        except redis.exceptions.RedisError:
            self._events = None
            return None
        sock = getattr(self._events.connection, "_sock", None)  # redis-py keeps its socket private
        return None if sock is None else sock.fileno()

    def wait_for_work(self, timeout: float) -> None:
        """Block until a job is queued or released on this channel (a Redis PUBLISH), or ``timeout`` passes."""
        import redis

        try:
            self._subscribe()
            deadline = time.monotonic() + timeout
            # get_message also returns None after reading a subscription confirmation: wait out the rest. The
            # wait itself is the connection's can_read (get_message's own blocking path costs several times more)
            while (left := deadline - time.monotonic()) > 0:
                conn = self._events.connection
                if conn is not None and not conn.can_read(timeout=left):
                    continue
                if self._events.get_message(timeout=0 if conn is not None else left) is not None:
                    while (conn is None or conn.can_read(timeout=0)) and self._events.get_message(timeout=0):
                        pass  # drain: one wake-up is enough for many submissions
                    return
        except redis.exceptions.RedisError:  # the claim that follows reports a real outage
            self._events = None
            time.sleep(timeout)

    def now(self) -> float:
        sec, usec = self.r.time()
        return sec + usec / 1e6

    @_wrap_errors
    def put_backend(self, worker: str, info: dict | None) -> None:
        if info is None:
            self.r.hdel(self.prefix + "backends", worker)
        else:
            self.r.hset(self.prefix + "backends", worker, json.dumps({"heartbeat": self.now(), "info": info}))

    @_wrap_errors
    def backends(self) -> dict[str, tuple[float, dict]]:
        raw = self.r.hgetall(self.prefix + "backends")
        out = {}
        for w, v in raw.items():
            d = json.loads(v)
            out[w.decode()] = (d["heartbeat"], d["info"])
        return out

    @_wrap_errors
    def stale_queued(self, submitted_before: float) -> list[JobRecord]:
        ids: list[str] = []
        for q in self.r.smembers(self.prefix + "queues"):
            backend_id = q.decode()[len(self.prefix) + 2:].rsplit(":", 1)[0]
            if backend_id:
                ids += [i.decode() for i in self.r.lrange(q, 0, -1)]
        stale = [r for r in self._get_many(ids)
                 if r.status == "queued" and r.submitted is not None and r.submitted < submitted_before]
        return sorted(stale, key=lambda r: r.submitted)

    @_wrap_errors
    def expire(self, job_id: str, error: str) -> bool:
        return bool(self._expire_script(args=[self.prefix, job_id, clip(error)]))

    @_wrap_errors
    def request_stop(self, job_id: str, error: str) -> bool:
        return bool(self._stop_script(args=[self.prefix, job_id, clip(error)]))

    @_wrap_errors
    def stop_requests(self, job_ids: list[str]) -> dict[str, str]:
        if not job_ids:
            return {}
        pipe = self.r.pipeline(transaction=False)
        for job_id in job_ids:
            pipe.hmget(self.prefix + "job:" + job_id, "status", "stop")
        return {job_id: stop.decode() for job_id, (status, stop) in zip(job_ids, pipe.execute(), strict=True)
                if status == b"running" and stop is not None}

    @_wrap_errors
    def prune(self, older_than_s: float) -> int:
        cutoff = self.now() - older_than_s
        n = 0
        for zset in ("finished", "error"):
            ids = self.r.zrangebyscore(self.prefix + zset, "-inf", cutoff)
            if ids:
                self.r.delete(*[self.prefix + kind + i.decode() for i in ids for kind in ("job:", "done:")])
                self.r.zrem(self.prefix + zset, *ids)
                n += len(ids)
        return n

    def close(self) -> None:
        if self._events is not None:
            self._events.close()
        self.wire.close()
        self.r.close()
