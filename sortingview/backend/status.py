"""What the backends of a channel are doing: ``backend_status()`` and the task ``sortingview.backend_status.1``."""
from __future__ import annotations

import os
import time

from ..tasks import register_task
from .channel import Channel, redact_url, resolve_channel


def backend_status(channel: str | Channel | None = None, channel_url: str | None = None) -> dict:
    """Live backends (from their heartbeats) with their handlers, queue depth per handler, running tasks.

    Backend ids are secrets, so only whether a backend has one is reported.
    """
    chan = resolve_channel(channel, channel_url)
    now = chan.now()
    backends = []
    for worker, (beat, info) in sorted(chan.backends().items()):
        age = now - beat
        if age <= _stale_s():
            backends.append({**info, "workerId": worker, "lastHeartbeatSecAgo": round(age, 3)})
    stats = chan.stats()
    running = [{"jobId": r.job_id, "taskName": r.task_name, "handler": r.handler, "worker": r.worker,
                "attempts": r.attempts, "runningSec": round(now - r.started, 3) if r.started else None,
                **_sorting_progress(r)} for r in chan.running_jobs()]
    return {"channel": chan.name, "channelUrl": redact_url(chan.url), "time": time.time(), "backends": backends,
            "queued": stats["queued"], "numQueued": sum(stats["queued"].values()), "running": running,
            "numFinished": stats["finished"], "numErrors": stats["error"]}


def _sorting_progress(rec) -> dict:
    """A running sorter's last log lines (doc/sorting.md), so `sortingview status` shows how far it got."""
    if rec.handler != "sorting":
        return {}
    from ..tasks.sorting import log_tail, sorting_log_path

    return {"logTail": log_tail(sorting_log_path(rec.task_input), lines=5)}


def _stale_s() -> float:
    from .channel.base import BACKEND_STALE_S

    return BACKEND_STALE_S


@register_task("sortingview.backend_status.1", handler="misc", task_type="query")
def backend_status_task() -> dict:
    """The status of the channel this backend serves (the backend passes it to its workers)."""
    return backend_status(os.environ.get("SORTINGVIEW_CHANNEL") or "default",
                          os.environ.get("SORTINGVIEW_CHANNEL_URL") or None)
