"""The import page's sorter jobs: kept in a small JSON file so the list survives a server restart, watched
until they end, and cancelled while still queued (doc/sorting.md, "Import and sort from the browser").

The file is ``<store>/sortingview/import_jobs-<hash of the import folder>.json``: a server restarted with the
same store and import folder finds its list again, and starts watching the jobs that had not ended (a job
that ended while the server was down is added to its workspace then). At most ``MAX_JOBS`` jobs are kept
(the oldest ended ones are forgotten first) and each error is clipped, so the file stays small.

Cancelling uses the channel's ``expire``: it fails a job that no worker holds yet, atomically (SQLite and
Redis). A running job cannot be stopped: the channel has no way to tell a worker to stop a task.
"""
from __future__ import annotations

import json
import logging
import os
import threading

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
    """The jobs of one import folder, in memory and in their file (every change is written at once)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.jobs: list[dict] = self._load()

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
        """Write the list (the caller holds the lock): a temporary file renamed over the old one."""
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        tmp = f"{self.path}.{os.getpid()}.{threading.get_ident()}.tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(self.jobs, f)
            os.replace(tmp, self.path)
        except OSError as exc:  # a full disk must not break the page: the list is still in memory
            log.warning("could not save the import page's job list to %s: %s", self.path, exc)

    def add(self, job: dict) -> None:
        with self.lock:
            self.jobs.append(job)
            while len(self.jobs) > MAX_JOBS:
                old = next((j for j in self.jobs if j["status"] in ENDED), self.jobs[0])
                self.jobs.remove(old)
            self._save()

    def update(self, job: dict, **fields) -> bool:
        """Change a job unless it has ended (a cancelled job stays cancelled); whether it changed."""
        if isinstance(fields.get("error"), str):
            fields["error"] = fields["error"][:MAX_ERROR_CHARS]
        with self.lock:
            if job["status"] in ENDED or all(job.get(k) == v for k, v in fields.items()):
                return False
            job.update(fields)
            self._save()
            return True

    def find(self, job_id: str) -> dict | None:
        with self.lock:
            return next((j for j in reversed(self.jobs) if j["jobId"] == job_id), None)

    def unfinished(self) -> list[dict]:
        with self.lock:
            return [j for j in self.jobs if j["status"] not in ENDED]

    def newest_first(self) -> list[dict]:
        with self.lock:
            return [dict(j) for j in reversed(self.jobs)]


def cancel(book: JobBook, job: dict, user: str) -> tuple[bool, str]:
    """Cancel a queued job through its channel: (done, why not)."""
    from ..backend.channel import resolve_channel

    if job["status"] in ENDED:
        return False, f"job {job['jobId']} has already ended ({job['status']})"
    chan = resolve_channel(job.get("channel"))
    if not chan.expire(job["jobId"], CANCELLED_ERROR.format(user=user)):
        rec = chan.get(job["jobId"])
        state = "gone from the channel" if rec is None else str(getattr(rec.status, "value", rec.status))
        return False, (f"job {job['jobId']} is {state}: only a queued job can be cancelled (the channel cannot "
                       "stop a worker that holds the job; it ends at the sorting handler's time limit)")
    with book.lock:
        job.update(status="cancelled", error=f"cancelled by {user}", cancelledBy=user)
        book._save()
    return True, ""
