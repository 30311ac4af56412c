"""The import page's sorter jobs: kept in a small JSON file so the list survives a server restart, watched
until they end, and cancelled, queued or running (doc/sorting.md, "Import and sort from the browser").

The file is ``<store>/sortingview/import_jobs-<hash of the import folder>.json``: a server restarted with the
same store and import folder finds its list again, and starts watching the jobs that had not ended (a job
that ended while the server was down is added to its workspace then). At most ``MAX_JOBS`` jobs are kept
(the oldest ended ones are forgotten first) and each error is clipped, so the file stays small.

Several servers on one store and import folder share the file: each change is made under an ``flock``, on the
list as the file holds it, and a finished job's sorting is added to its workspace by one server only.

Cancelling uses the channel's ``expire``: it fails a job that no worker holds yet, atomically (SQLite and
Redis). A running job cannot be stopped: the channel has no way to tell a worker to stop a task.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from typing import Callable, Iterator

from ..serialize import sha1_of_bytes

log = logging.getLogger(__name__)
MAX_JOBS = 500  # jobs remembered per import folder
MAX_ERROR_CHARS = 4000
ENDED = ("done", "failed", "cancelled")
CANCELLED_ERROR = "CancelledError: cancelled from the import page by {user}"


def jobs_path(folder: str) -> str:
    from ..store import get_store, store_dir

    base = get_store().directory or store_dir()
    digest = sha1_of_bytes(os.path.realpath(folder).encode("utf-8"))[:12]
    return os.path.join(base, "sortingview", f"import_jobs-{digest}.json")


class JobBook:
    """The jobs of one import folder. The file is the list: every read looks at it again when it changed, and every
    change is made under an exclusive ``flock`` (``store.private.locked``) around reading, changing and writing
    it, so several servers on one store (or one server's threads) lose none of each other's jobs, and a job's
    end is recorded once: :meth:`finish` adds a sorting to its workspace only for the first server to get there.

    The dicts callers hold (from :meth:`add`, :meth:`find`, :meth:`unfinished`) are kept in step with the file by
    the calls that take them (:meth:`update` and :meth:`finish` copy the job's current fields into them)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = threading.RLock()  # this process's threads; the flock orders processes
        self._seen: tuple | None = None  # (inode, size, mtime) of the file when last read or written
        self.jobs: list[dict] = []
        self._refresh()

    @contextlib.contextmanager
    def _changing(self) -> Iterator[None]:
        """This process's lock and the file's, with the list read again if another process changed it."""
        from ..store.private import locked

        with self.lock, locked(self.path):
            self._refresh()
            yield

    def _refresh(self) -> None:
        try:
            st = os.stat(self.path)
        except OSError:
            st = None
        seen = None if st is None else (st.st_ino, st.st_size, st.st_mtime_ns)
        if seen != self._seen:
            self.jobs = self._load()
            self._seen = seen

    def _load(self) -> list[dict]:
        try:
            with open(self.path, encoding="utf-8") as f:
                jobs = json.load(f)
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            log.warning("the import page's job list %s is unreadable (%s); starting with an empty list", self.path, exc)
            return []
        if not isinstance(jobs, list):
            return []
        return [j for j in jobs if isinstance(j, dict) and isinstance(j.get("jobId"), str)
                and isinstance(j.get("status"), str)][-MAX_JOBS:]

    def _save(self) -> None:
        """Write the list (the caller holds both locks): atomically, durably, never through a link."""
        from ..store.private import write_file

        try:
            write_file(self.path, json.dumps(self.jobs).encode("utf-8"))
            st = os.stat(self.path)
            self._seen = (st.st_ino, st.st_size, st.st_mtime_ns)
        except OSError as exc:  # a full disk must not break the page: the list is still in memory
            log.warning("could not save the import page's job list to %s: %s", self.path, exc)

    def _by_id(self, job_id: str) -> dict | None:
        return next((j for j in reversed(self.jobs) if j["jobId"] == job_id), None)

    def _synced(self, job: dict) -> dict:
        """The list's own dict of ``job``, its fields copied into ``job`` (``job`` itself when the list no
        longer holds it: forgotten, more than MAX_JOBS since, or from another list)."""
        current = self._by_id(job["jobId"])
        if current is None:
            return job
        job.update(current)
        return current

    def add(self, job: dict) -> None:
        with self._changing():
            self.jobs.append(job)
            while len(self.jobs) > MAX_JOBS:
                old = next((j for j in self.jobs if j["status"] in ENDED), self.jobs[0])
                self.jobs.remove(old)
            self._save()

    def update(self, job: dict, **fields) -> bool:
        """Change a job unless it has ended (a cancelled job stays cancelled); whether it changed. ``job`` gets
        the job's current fields either way."""
        if isinstance(fields.get("error"), str):
            fields["error"] = fields["error"][:MAX_ERROR_CHARS]
        with self._changing():
            current = self._synced(job)
            if current["status"] in ENDED or all(current.get(k) == v for k, v in fields.items()):
                return False
            current.update(fields)
            job.update(current)
            self._save()
            return True

    def finish(self, job: dict, end: Callable[[], dict]) -> bool:
        """Record the end of a job once: unless it has ended already (another server recorded it, or it was
        cancelled), ``end()`` runs under the locks and its fields are saved into the job; whether it ran."""
        with self._changing():
            current = self._synced(job)
            if current["status"] in ENDED:
                return False
            fields = end()
            current.update(fields)
            job.update(fields)
            self._save()
            return True

    def find(self, job_id: str) -> dict | None:
        with self.lock:
            self._refresh()
            return self._by_id(job_id)

    def unfinished(self) -> list[dict]:
        with self.lock:
            self._refresh()
            return [j for j in self.jobs if j["status"] not in ENDED]

    def newest_first(self) -> list[dict]:
        with self.lock:
            self._refresh()
            return [dict(j) for j in reversed(self.jobs)]


def cancel(book: JobBook, job: dict, user: str) -> tuple[bool, str]:
    """Cancel a job through its channel: (done, why not). A queued job is cancelled at once; for a running one
    the backend is asked to stop it (it kills the sorter's worker within about a second), and the job's watcher
    marks it cancelled when the channel says it ended so."""
    from ..backend.channel import resolve_channel
    from ..backend.client import cancel_job

    if job["status"] in ENDED:
        return False, f"job {job['jobId']} has already ended ({job['status']})"
    chan = resolve_channel(job.get("channel"))
    was = cancel_job(chan, job["jobId"], CANCELLED_ERROR.format(user=user))
    if was == "queued":
        book.update(job, status="cancelled", error=f"cancelled by {user}", cancelledBy=user)
        return True, ""
    if was == "running":
        book.update(job, status="running", stopRequestedBy=user)
        return True, ""
    rec = chan.get(job["jobId"])
    state = "gone from the channel" if rec is None else str(getattr(rec.status, "value", rec.status))
    return False, f"job {job['jobId']} is {state}: only a queued or running job can be cancelled"
