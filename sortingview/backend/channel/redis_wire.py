"""Commands on the per-task path of the Redis channel, sent in one round trip on a thread's own connection.

redis-py's client and pipeline objects spend tens of microseconds per call on connection-pool bookkeeping,
observability hooks and response callbacks; for a trivial task that is as much as the Redis server's own
work. The few hot calls (submit, claim, finish-and-claim, wait) therefore write packed commands on a plain
redis-py ``Connection`` held per thread (and re-made after a fork) and read the raw replies. Everything
else keeps using the ordinary client.
"""
from __future__ import annotations

import hashlib
import os
import threading


class Wire:
    """Raw round trips to the Redis server behind ``client`` (a ``redis.Redis``)."""

    def __init__(self, client):
        self.client = client
        self._local = threading.local()
        self._lock = threading.Lock()
        self._conns: list = []

    def _conn(self):
        local = self._local
        if getattr(local, "pid", None) != os.getpid():  # first use in this thread, or a forked child
            pool = self.client.connection_pool
            local.conn, local.pid = pool.connection_class(**pool.connection_kwargs), os.getpid()
            with self._lock:
                self._conns.append(local.conn)
        return local.conn

    def call(self, *commands: tuple) -> list:
        """Send ``commands`` pipelined and return their raw replies (RESP2: hashes as flat lists).

        A reply that is an error is raised after every reply has been read, so the connection stays usable. A
        broken connection is re-made and the commands are sent once more, as redis-py's own retry does.
        """
        import redis

        try:
            return self._round_trip(commands)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
            self._conn().disconnect()
            return self._round_trip(commands)

    def _round_trip(self, commands: tuple) -> list:
        conn = self.send(commands)
        return self.read(conn, len(commands))

    def send(self, commands: tuple):
        """Send ``commands`` pipelined; read their replies with :meth:`read` on the connection returned."""
        conn = self._conn()
        try:
            conn.send_packed_command(conn.pack_commands(commands))
        except BaseException:
            conn.disconnect()
            raise
        return conn

    def read(self, conn, n: int) -> list:
        """The next ``n`` raw replies on ``conn``; an error reply is raised after all ``n`` were read."""
        import redis

        replies, error = [], None
        for _ in range(n):
            try:
                replies.append(conn.read_response())
            except redis.exceptions.ResponseError as exc:
                replies.append(None)
                error = error or exc
            except BaseException:
                conn.disconnect()  # a half-read reply: the connection cannot be trusted any more
                raise
        if error is not None:
            raise error
        return replies

    def evalsha(self, text: str, args: list):
        """Run one Lua script by its SHA, loading it when the server lacks it (one script per round trip: had
        a second one been sent with it, it might have run while the first was missing, and a retry would
        run it twice)."""
        import redis

        command = ("EVALSHA", script_sha(text), 0, *args)
        try:
            return self.call(command)[0]
        except redis.exceptions.NoScriptError:  # a new or restarted server: nothing ran; load it, run once more
            self.client.script_load(text)
            return self.call(command)[0]

    def close(self) -> None:
        with self._lock:
            for conn in self._conns:
                conn.disconnect()
            self._conns.clear()


_shas: dict[str, str] = {}


def script_sha(text: str) -> str:
    sha = _shas.get(text)
    if sha is None:
        sha = _shas[text] = hashlib.sha1(text.encode()).hexdigest()
    return sha
