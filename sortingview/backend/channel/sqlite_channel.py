"""The default channel: one SQLite file in the store directory, shared by every process on a host.

WAL mode lets readers (clients waiting for results) run while a writer commits; every change is one short
``BEGIN IMMEDIATE`` transaction, so concurrent backends serialise on SQLite's lock instead of racing.
``synchronous=NORMAL`` in WAL mode survives a killed process (the case we design for), not a power cut.
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from typing import Iterable

from ...errors import ChannelError, DiskFullError
from ..jobstatus import ACTIVE, JobStatus
from .base import Channel, JobRecord, TaskRequest, clip, encode_input

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL UNIQUE,
    task_name TEXT NOT NULL, task_type TEXT NOT NULL, handler TEXT NOT NULL, task_input TEXT NOT NULL,
    backend_id TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    worker TEXT, lease_until REAL, error TEXT, traceback TEXT, result TEXT,
    submitted REAL, started REAL, finished REAL
);
CREATE INDEX IF NOT EXISTS jobs_queue ON jobs (status, backend_id, handler, seq);
CREATE INDEX IF NOT EXISTS jobs_lease ON jobs (status, lease_until);
CREATE TABLE IF NOT EXISTS backends (worker TEXT PRIMARY KEY, heartbeat REAL NOT NULL, info TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS stops (job_id TEXT PRIMARY KEY, error TEXT NOT NULL);
"""
_COLUMNS = ("job_id", "task_name", "task_type", "handler", "task_input", "backend_id", "status", "attempts",
            "worker", "lease_until", "error", "traceback", "result", "submitted", "started", "finished")
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM jobs"


def _retry_busy(op, path: str, timeout: float = 30.0):
    """Run ``op``, retrying while another process holds the write lock.

    SQLite's own busy handler sleeps in steps of milliseconds; these transactions last tens of microseconds,
    so retrying sooner keeps the queue's latency low under contention.
    """
    deadline = time.monotonic() + timeout
    delay = 0.00002
    while True:
        try:
            return op()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise channel_error(exc, path) from exc
            if time.monotonic() > deadline:
                raise ChannelError(f"channel database {path} stayed locked for {timeout:g} s; is a process stuck "
                                   "holding it?") from exc
        time.sleep(delay)
        delay = min(delay * 2, 0.002)


def channel_error(exc: sqlite3.Error, path: str) -> ChannelError | DiskFullError:
    """The error for a failed SQLite statement; a full disk says so (SQLite: "database or disk is full")."""
    if isinstance(exc, sqlite3.OperationalError) and ("disk is full" in str(exc) or "disk I/O" in str(exc)):
        return DiskFullError(28, f"disk full: the channel database {path} cannot grow ({exc}); free space on that "
                             "disk; the channel is unchanged and keeps serving once there is room", path)
    return ChannelError(f"channel database {path}: {exc}")


def _record(row: tuple) -> JobRecord:
    values = dict(zip(_COLUMNS, row, strict=True))
    values["task_input"] = json.loads(values["task_input"])
    return JobRecord(**values)


class SqliteChannel(Channel):
    """A channel in the SQLite file ``path`` (created on first use)."""

    def __init__(self, path: str, name: str = "default"):
        self.name = name
        self.path = os.path.abspath(path)
        self.url = f"sqlite://{self.path}"
        self._local = threading.local()
        from ...store.private import ensure_file, refuse_symlink

        # created here, with the store's modes (group-writable in a shared store) and never through a link;
        # SQLite gives its -wal and -shm files the database's mode
        ensure_file(self.path)
        for suffix in ("-wal", "-shm", "-journal"):
            refuse_symlink(self.path + suffix)
        try:
            self._db().executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise ChannelError(f"cannot create the channel database {self.path}: {exc}") from exc

    # --- connections ------------------------------------------------------------------------------------
    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None or getattr(self._local, "pid", None) != os.getpid():
            from ...store.private import makedirs

            makedirs(os.path.dirname(self.path))  # IntegrityError if a folder of the store became a link
            try:
                db = sqlite3.connect(self.path, timeout=0, isolation_level=None, check_same_thread=False)
                _retry_busy(lambda: db.execute("PRAGMA journal_mode=WAL"), self.path)
                db.execute("PRAGMA synchronous=NORMAL")
            except sqlite3.Error as exc:
                raise ChannelError(f"cannot open the channel database {self.path}: {exc}; check that the "
                                   "directory exists and is writable") from exc
            self._local.db, self._local.pid = db, os.getpid()
        return db

    class _Tx:
        def __init__(self, db: sqlite3.Connection, path: str):
            self.db, self.path = db, path

        def __enter__(self) -> sqlite3.Connection:
            _retry_busy(lambda: self.db.execute("BEGIN IMMEDIATE"), self.path)
            return self.db

        def __exit__(self, exc_type, exc, tb) -> None:
            try:
                self.db.execute("ROLLBACK" if exc_type else "COMMIT")
            except sqlite3.Error as end_exc:  # COMMIT fails on a full disk: leave no transaction open
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
                raise channel_error(end_exc, self.path) from end_exc
            if isinstance(exc, sqlite3.Error):
                raise channel_error(exc, self.path) from exc

    def _tx(self) -> _Tx:
        return self._Tx(self._db(), self.path)

    def _read(self, sql: str, params: tuple = ()) -> list[tuple]:
        db = self._db()
        return _retry_busy(lambda: db.execute(sql, params).fetchall(), self.path)

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    # --- the abstract surface -----------------------------------------------------------------------
    def submit(self, request: TaskRequest) -> JobRecord:
        now = time.time()
        self._local.empty = None  # our own commits do not move data_version
        with self._tx() as db:
            row = db.execute(f"{_SELECT} WHERE job_id = ?", (request.job_id,)).fetchone()
            if row is not None and row[_COLUMNS.index("status")] in ACTIVE:
                return _record(row)
            if row is not None:  # ended before: forget that run, and a request to stop it
                db.execute("DELETE FROM jobs WHERE job_id = ?", (request.job_id,))
                db.execute("DELETE FROM stops WHERE job_id = ?", (request.job_id,))
            db.execute(
                "INSERT INTO jobs (job_id, task_name, task_type, handler, task_input, backend_id, status, "
                "submitted) VALUES (?, ?, ?, ?, ?, ?, 'queued', ?)",
                (request.job_id, request.task_name, request.task_type, request.handler,
                 encode_input(request.task_input), request.backend_id, now),
            )
        return JobRecord(request.job_id, request.task_name, request.task_type, request.handler,
                         request.task_input, request.backend_id, submitted=now)

    def claim(self, worker: str, limits: dict[str, int], *, backend_id: str = "",
              lease_s: float = 30.0) -> list[JobRecord]:
        wanted = {h: n for h, n in limits.items() if n > 0}
        if not wanted:
            return []
        now = time.time()
        # an idle backend polls often: skip the write transaction while nobody changed the database since
        # the last empty claim (data_version moves on every commit by another connection), but look for
        # expired leases at least once a second
        version = self._local.version_seen = self._read("PRAGMA data_version")[0][0]
        last = getattr(self._local, "empty", None)
        if last is not None and last[0] == (version, backend_id, tuple(sorted(wanted))) and now < last[1]:
            return []
        claimed: list[str] = []
        with self._tx() as db:
            for handler, n in wanted.items():
                rows = db.execute(
                    "SELECT job_id FROM jobs WHERE status = 'running' AND lease_until < ? AND backend_id = ? "
                    "AND handler = ? ORDER BY seq LIMIT ?", (now, backend_id, handler, n)).fetchall()
                if len(rows) < n:
                    rows += db.execute(
                        "SELECT job_id FROM jobs WHERE status = 'queued' AND backend_id = ? AND handler = ? "
                        "ORDER BY seq LIMIT ?", (backend_id, handler, n - len(rows))).fetchall()
                claimed += [r[0] for r in rows]
            if not claimed:
                next_expiry = db.execute("SELECT MIN(lease_until) FROM jobs WHERE status = 'running'").fetchone()[0]
                recheck = min(now + 1.0, next_expiry if next_expiry is not None else now + 1.0)
                self._local.empty = ((version, backend_id, tuple(sorted(wanted))), recheck)
                return []
            marks = ",".join("?" * len(claimed))
            db.execute(
                f"UPDATE jobs SET status = 'running', worker = ?, lease_until = ?, attempts = attempts + 1, "
                f"started = ? WHERE job_id IN ({marks})", (worker, now + lease_s, now, *claimed))
            rows = db.execute(f"{_SELECT} WHERE job_id IN ({marks}) ORDER BY seq", claimed).fetchall()
        return [_record(r) for r in rows]

    def heartbeat(self, worker: str, job_ids: Iterable[str], *, lease_s: float = 30.0) -> list[str]:
        ids = list(job_ids)
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        with self._tx() as db:
            db.execute(f"UPDATE jobs SET lease_until = ? WHERE status = 'running' AND worker = ? "
                       f"AND job_id IN ({marks})", (time.time() + lease_s, worker, *ids))
            rows = db.execute(f"SELECT job_id FROM jobs WHERE status = 'running' AND worker = ? "
                              f"AND job_id IN ({marks})", (worker, *ids)).fetchall()
        return [r[0] for r in rows]

    def _end(self, worker: str, job_id: str, sets: str, params: tuple) -> bool:
        with self._tx() as db:
            cur = db.execute(f"UPDATE jobs SET {sets} WHERE job_id = ? AND status = 'running' AND worker = ?",
                             (*params, job_id, worker))
            return cur.rowcount == 1

    def finish(self, worker: str, job_id: str, result: str | None = None) -> bool:
        return self._end(worker, job_id, "status = 'finished', result = ?, finished = ?, lease_until = NULL",
                         (result, time.time()))

    def fail(self, worker: str, job_id: str, error: str, traceback: str | None = None) -> bool:
        return self._end(worker, job_id,
                         "status = 'error', error = ?, traceback = ?, finished = ?, lease_until = NULL",
                         (clip(error), clip(traceback), time.time()))

    def release(self, worker: str, job_id: str, *, count_attempt: bool = False) -> bool:
        self._local.empty = None
        undo = "" if count_attempt else ", attempts = MAX(attempts - 1, 0)"
        return self._end(worker, job_id, f"status = 'queued', worker = NULL, lease_until = NULL{undo}", ())

    def wait_for_work(self, timeout: float) -> None:
        """Poll SQLite's data_version (a cheap read without a transaction) until another process commits."""
        deadline = time.monotonic() + timeout
        # compare with what the last claim saw, so a commit made since then is not missed
        start = getattr(self._local, "version_seen", None)
        if start is None:
            start = self._read("PRAGMA data_version")[0][0]
        while time.monotonic() < deadline:
            time.sleep(min(0.001, max(0.0, deadline - time.monotonic())))
            if self._read("PRAGMA data_version")[0][0] != start:
                return

    def get(self, job_id: str) -> JobRecord | None:
        rows = self._read(f"{_SELECT} WHERE job_id = ?", (job_id,))
        return _record(rows[0]) if rows else None

    def stats(self) -> dict:
        out: dict = {"queued": {}, "running": {}, "finished": 0, "error": 0}
        rows = self._read("SELECT status, handler, COUNT(*) FROM jobs GROUP BY status, handler")
        for status, handler, n in rows:
            if status in ACTIVE:
                out[status][handler] = n
            else:
                out[status] += n
        return out

    def running_jobs(self) -> list[JobRecord]:
        rows = self._read(f"{_SELECT} WHERE status = 'running' ORDER BY seq")
        return [_record(r) for r in rows]

    def put_backend(self, worker: str, info: dict | None) -> None:
        with self._tx() as db:
            if info is None:
                db.execute("DELETE FROM backends WHERE worker = ?", (worker,))
            else:
                db.execute("INSERT OR REPLACE INTO backends (worker, heartbeat, info) VALUES (?, ?, ?)",
                           (worker, time.time(), json.dumps(info)))

    def backends(self) -> dict[str, tuple[float, dict]]:
        rows = self._read("SELECT worker, heartbeat, info FROM backends")
        return {w: (beat, json.loads(info)) for w, beat, info in rows}

    def stale_queued(self, submitted_before: float) -> list[JobRecord]:
        rows = self._read(f"{_SELECT} WHERE status = 'queued' AND backend_id != '' AND submitted < ? ORDER BY seq",
                          (submitted_before,))
        return [_record(r) for r in rows]

    def expire(self, job_id: str, error: str) -> bool:
        with self._tx() as db:
            cur = db.execute("UPDATE jobs SET status = ?, error = ?, finished = ? WHERE job_id = ? AND status = ?",
                             (JobStatus.ERROR.value, clip(error), time.time(), job_id, JobStatus.QUEUED.value))
            return cur.rowcount == 1

    def request_stop(self, job_id: str, error: str) -> bool:
        with self._tx() as db:
            if not db.execute("SELECT 1 FROM jobs WHERE job_id = ? AND status = ?",
                              (job_id, JobStatus.RUNNING.value)).fetchall():
                return False
            db.execute("INSERT OR REPLACE INTO stops (job_id, error) VALUES (?, ?)", (job_id, clip(error)))
            return True

    def stop_requests(self, job_ids: list[str]) -> dict[str, str]:
        if not job_ids:
            return {}
        marks = ",".join("?" * len(job_ids))
        rows = self._read(f"SELECT s.job_id, s.error FROM stops s JOIN jobs j ON j.job_id = s.job_id "
                          f"WHERE j.status = 'running' AND s.job_id IN ({marks})", tuple(job_ids))
        return dict(rows)

    def prune(self, older_than_s: float) -> int:
        with self._tx() as db:
            db.execute("DELETE FROM stops WHERE job_id NOT IN (SELECT job_id FROM jobs WHERE status = 'running')")
            cur = db.execute("DELETE FROM jobs WHERE status IN ('finished', 'error') AND finished < ?",
                             (time.time() - older_than_s,))
            return cur.rowcount
