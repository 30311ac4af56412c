"""A parallel worker that claims its own jobs (on a Redis channel), supervised by its backend.

Each worker has its own lease-holder id (the backend's id plus ``/<handler><n>``), its own Redis connections,
and serves its handler type alone: while idle it blocks on the channel's wake tokens and claims one job
(:meth:`RedisChannel.wait_and_claim`), runs it, writes the result (into the store for a calculation), and
finishes the job and claims the next one in one round trip. A thread renews the lease on its current job.
Jobs never pass through the backend process; the worker tells it only which job it runs (one message per
job), so that the backend can enforce the timeout, see a worker die (and give its jobs back), and report
running jobs. On ``drain`` (a graceful stop) it claims nothing more; on ``None`` or end-of-file it exits.
"""
from __future__ import annotations

import threading
import time

from ..errors import ChannelError
from ..store import store_dir
from .execution import Outcome, run_job, vet_claimed
from .pool import WorkerContext, _explain_memory_error, _record_and_claim, _recv, _send

#: how long an idle worker blocks on the channel before it looks at its pipe from the backend (drain, stop)
#: and claims anyway (jobs whose wake token went astray, and leases that expired elsewhere)
IDLE_WAIT_S = 0.5
_OUTAGE_RETRY_S = 1.0


class _Lease(threading.Thread):
    """Renews the lease on the worker's current job every ``lease_s / 3``, on a connection of its own."""

    def __init__(self, ctx: WorkerContext):
        super().__init__(name="lease", daemon=True)
        from .channel.redis_channel import RedisChannel

        self.ctx = ctx
        self.channel = RedisChannel(ctx.channel_url, ctx.channel)  # not the cached one: its own connections
        self.job_id: str | None = None
        self.wake = threading.Event()

    def run(self) -> None:
        while True:
            self.wake.wait(self.ctx.lease_s / 3)
            self.wake.clear()
            job_id = self.job_id
            if job_id is None:
                continue
            try:
                self.channel.heartbeat(self.ctx.worker_id, [job_id], lease_s=self.ctx.lease_s)
            except Exception:  # noqa: BLE001  (an outage: the next beat tries again; the lease may run out)
                pass


def serve(conn, channel, ctx: WorkerContext) -> None:
    """The worker's loop: jobs the backend hands over, and jobs it claims itself, until told to stop."""
    lease = _Lease(ctx)
    lease.start()
    draining = False
    job = None
    while True:
        try:
            while job is None and (draining or conn.poll()):  # while draining, only a stop can come
                message = _recv(conn)
                if message is None:
                    return
                if message == "drain":
                    draining = True
                else:  # the job the backend claimed when it started this worker: its clock starts now
                    job = message
                    _send(conn, ("done", [], job))
        except (EOFError, OSError):
            return
        if job is None:
            job = _claim(conn, channel, ctx)
            if job is None:
                continue
        lease.job_id = job.job_id
        outcome = run_job(job.job_id, job.task_name, job.task_input, job.task_type, store_dir())
        stop = _explain_memory_error(outcome, ctx)  # after a MemoryError: report, then make way for a new worker
        try:
            while conn.poll():  # only "drain" or None arrive while busy
                stop = _recv(conn) is None or stop
                draining = True
            job, reports = _record_and_claim(channel, ctx, outcome, claim=not (draining or stop))
            lease.job_id = None if job is None else job.job_id
            _send(conn, ("retire" if stop else "done", reports, job))
        except (EOFError, OSError):
            return  # the backend is gone; a job claimed just now goes back when its lease runs out
        if stop:
            return


def _claim(conn, channel, ctx: WorkerContext):
    """Wait for a job of this worker's handler and claim it; tell the backend (None: nothing came)."""
    try:
        job = channel.wait_and_claim(ctx.worker_id, ctx.handler, backend_id=ctx.backend_id, lease_s=ctx.lease_s,
                                     timeout=IDLE_WAIT_S)
    except ChannelError:  # an outage: the backend logs it too; look again in a while
        time.sleep(_OUTAGE_RETRY_S)
        return None
    reports: list[Outcome] = []
    while job is not None:  # each turn settles one job that must not run, so this ends
        settled = vet_claimed(channel, ctx.worker_id, job, ctx.max_attempts)
        if settled is None:
            break
        reports.append(settled)
        jobs = channel.claim(ctx.worker_id, {ctx.handler: 1}, backend_id=ctx.backend_id, lease_s=ctx.lease_s)
        job = jobs[0] if jobs else None
    if job is not None or reports:
        _send(conn, ("done", reports, job))
    return job
