"""Commands on the per-task path of the Redis channel, sent in one round trip on a thread's own connection.

redis-py's client and pipeline objects spend tens of microseconds per call on connection-pool bookkeeping,
observability hooks and response callbacks; for a trivial task that is as much as the Redis server's own
work. The few hot calls (submit, claim, finish-and-claim, wait) therefore write packed commands on a plain
redis-py ``Connection`` held per thread (and re-made after a fork) and read the raw replies. Everything
else keeps using the ordinary client.

A submission need not wait for its reply (:meth:`Wire.defer`): the thread's next call reads it in the same
round trip as its own commands, so a client that submits and then waits pays one round trip, and a burst of
submissions pays none until the first wait. Only a command that is safe to send twice may be deferred (a
submission of a job already queued joins it): after a broken connection, or a script the server had
forgotten, the deferred commands are sent again.
"""
from __future__ import annotations

import atexit
import hashlib
import os
import sys
import threading
import weakref

#: at most this many deferred replies wait on a connection; the next deferral first reads them all
MAX_DEFERRED = 1000


class Wire:
    """Raw round trips to the Redis server behind ``client`` (a ``redis.Redis``)."""

    def __init__(self, client):
        self.client = client
        self._local = threading.local()
        self._lock = threading.Lock()
        self._conns: list = []
        self._pending: list[tuple[int, object, list]] = []  # (pid, connection, its thread's deferred commands)
        _WIRES.add(self)

    def _conn(self):
        local = self._local
        if getattr(local, "pid", None) != os.getpid():  # first use in this thread, or a forked child
            pool = self.client.connection_pool
            local.conn, local.pid = pool.connection_class(**pool.connection_kwargs), os.getpid()
            local.deferred, local.resend, local.scripts = [], False, set()
            with self._lock:
                self._conns.append(local.conn)
                self._pending.append((local.pid, local.conn, local.deferred))
        return local.conn

    def defer(self, command: tuple) -> None:
        """Send ``command`` now and read its reply with this thread's next call (an error in it is raised
        there), or when the process exits (:func:`_settle_at_exit`). Only for commands that are safe to send
        twice. A script's first command on a connection is not deferred: run at once, it loads the script if
        the server lacks it, so a deferred one never waits for a next call to be retried."""
        import redis

        local = self._local
        conn = self._conn()
        if getattr(conn, "_sock", None) is None:  # a new or re-made connection: perhaps a restarted server
            local.scripts.clear()
        if command[0] == "EVALSHA" and command[1] not in local.scripts:
            self._run_script_command(command)
            local.scripts.add(command[1])
            return
        if len(local.deferred) >= MAX_DEFERRED:
            self.call()
        try:
            self.send((*local.deferred, command) if local.resend else (command,))
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
            self._conn().disconnect()
            self.send((*local.deferred, command))
        local.resend = False
        local.deferred.append(command)

    def call(self, *commands: tuple, merge: bool = False) -> list:
        """Send ``commands`` pipelined and return their raw replies (RESP2: hashes as flat lists).

        A reply that is an error is raised after every reply has been read, so the connection stays usable. A
        broken connection is re-made and the commands are sent once more, as redis-py's own retry does.
        Deferred replies are read first: in a round trip of their own, or with ``merge`` (for commands that
        may run twice, such as reads) in the same one as ``commands``.
        """
        import redis

        self._conn()
        if self._local.deferred and not merge:
            self.call(merge=True)
        try:
            return self._round_trip(commands)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
            self._conn().disconnect()
            self._local.resend = bool(self._local.deferred)  # unanswered on the old connection: sent again
            return self._round_trip(commands)

    def _round_trip(self, commands: tuple) -> list:
        import redis

        local = self._local
        deferred = local.deferred
        conn = self.send((*deferred, *commands) if local.resend else commands)
        local.resend = False
        failed, done = [], 0
        try:
            for command in deferred:  # their replies come first
                try:
                    self.read(conn, 1)
                except redis.exceptions.ResponseError as exc:
                    failed.append((command, exc))
                done += 1
        finally:
            del deferred[:done]
        replies = self.read(conn, len(commands))
        if failed:  # only merged commands (safe to run twice) can have ridden with them: run those again
            self._redo(failed)
            return self._round_trip(commands)
        return replies

    def settle(self) -> None:
        """Read the replies of this thread's deferred commands (a round trip; none when there are none)."""
        self._conn()
        if self._local.deferred:
            self.call(merge=True)

    def _redo(self, failed: list) -> None:
        """Deferred commands the server refused: run again the ones that met a server without their script."""
        import redis

        for command, exc in failed:
            if not isinstance(exc, redis.exceptions.NoScriptError) or command[1] not in _texts:
                raise redis.exceptions.ResponseError(f"an earlier submission on this connection failed: {exc}")
            self.client.script_load(_texts[command[1]])
            self.call(command)

    def send(self, commands: tuple):
        """Send ``commands`` pipelined; read their replies with :meth:`read` on the connection returned."""
        conn = self._conn()
        try:
            conn.send_packed_command(conn.pack_commands(commands))
        except BaseException:
            conn.disconnect()
            self._local.resend = bool(self._local.deferred)
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
                self._local.resend = bool(self._local.deferred)
                raise
        if error is not None:
            raise error
        return replies

    def evalsha(self, text: str, args: list):
        """Run one Lua script by its SHA, loading it when the server lacks it (one script per round trip: had
        a second one been sent with it, it might have run while the first was missing, and a retry would
        run it twice)."""
        return self._run_script_command(("EVALSHA", script_sha(text), 0, *args))[0]

    def _run_script_command(self, command: tuple) -> list:
        """``command`` (an EVALSHA of a script :func:`script_sha` has seen) in a round trip of its own, loading
        the script if the server lacks it (a new or restarted server: nothing ran; load it, run once more)."""
        import redis

        try:
            return self.call(command)
        except redis.exceptions.NoScriptError:
            self.client.script_load(_texts[command[1]])
            return self.call(command)

    def settle_at_exit(self) -> None:
        """Read every deferred reply of this process's connections (any thread's): a submission whose reply
        was never read must still be queued after the process ends. A command the server refused for a
        missing script runs again with it loaded; on a broken connection the unanswered ones are sent again."""
        import redis

        with self._lock:
            pending = [(conn, deferred) for pid, conn, deferred in self._pending if pid == os.getpid() and deferred]
        for conn, deferred in pending:
            commands, deferred[:] = list(deferred), []
            retry = []
            try:
                for i, command in enumerate(commands):
                    try:
                        conn.read_response()
                    except redis.exceptions.NoScriptError:
                        retry.append(command)
                    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
                        retry += commands[i:]
                        break
            except redis.exceptions.RedisError as exc:
                print(f"sortingview: a submission to Redis failed at exit: {exc}", file=sys.stderr)
            for command in retry:
                try:
                    if command[0] == "EVALSHA" and command[1] in _texts:
                        self.client.script_load(_texts[command[1]])
                    self.client.execute_command(*command)
                except redis.exceptions.RedisError as exc:
                    print(f"sortingview: a submission to Redis was lost at exit: {exc}", file=sys.stderr)

    def close(self) -> None:
        with self._lock:
            for conn in self._conns:
                conn.disconnect()
            self._conns.clear()
            self._pending.clear()


_WIRES: weakref.WeakSet = weakref.WeakSet()


@atexit.register
def _settle_at_exit() -> None:
    for wire in list(_WIRES):
        wire.settle_at_exit()


_shas: dict[str, str] = {}
_texts: dict[str, str] = {}  # sha -> script, to load a script a deferred command met missing


def script_sha(text: str) -> str:
    sha = _shas.get(text)
    if sha is None:
        sha = _shas[text] = hashlib.sha1(text.encode()).hexdigest()
        _texts[sha] = text
    return sha

