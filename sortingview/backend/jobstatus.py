"""Where a job stands: one ``str`` Enum used by the channels, the backend, the client and the server.

The members are strings, so they compare equal to the plain words stored in SQLite and Redis and are
written as those words in JSON.
"""
from __future__ import annotations

from enum import Enum


class JobStatus(str, Enum):
    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    ERROR = "error"

    def __str__(self) -> str:
        return self.value

    @property
    def done(self) -> bool:
        """Whether the job has ended (finished or failed)."""
        return self in (JobStatus.FINISHED, JobStatus.ERROR)


#: the statuses of a job that has ended
DONE = (JobStatus.FINISHED, JobStatus.ERROR)
#: the statuses of a job that a new request joins instead of queueing it again
ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)

__all__ = ["JobStatus", "DONE", "ACTIVE"]
