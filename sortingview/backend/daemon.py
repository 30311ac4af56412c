"""The backend run loop: claim jobs from the channel, hand them to job handlers, record what became of them.

Lifecycle as in huey's consumer: :meth:`Backend.run` loops until :meth:`Backend.stop` is called (signal
handlers only call it); ``run(burst=True)`` returns once nothing is queued or running, which makes tests
deterministic. On a graceful stop the backend claims nothing more, lets running jobs finish for up to
``grace_s`` seconds, then releases the rest back to the channel, so another backend can take them.
"""
from __future__ import annotations

import logging
import os
import select
import socket
import threading
import time
import uuid

from .._version import __version__
from ..errors import ChannelError, DiskFullError
from .channel import Channel, JobRecord, open_channel
from .channel.base import backend_id_digest
from .config import BackendConfig
from .execution import Outcome, record_outcome, vet_claimed
from .handlers import JobHandler, make_handler
from .plugins import load_task_modules
from .pool import WorkerContext, warm_up

log = logging.getLogger("sortingview.backend")
_STATUS_EVERY_S = 2.0
# how long an idle loop sleeps between looks at the channel: short after activity, backing off to the cap
_MIN_IDLE_S = 0.0005
_MAX_IDLE_S = 0.01
_IDLE_WAIT_S = 0.1
_RECLAIM_EVERY_S = 0.05
_STOPS_EVERY_S = 1.0  # how often a backend running jobs looks for requests to stop one (Channel.request_stop)
_KEEP_ENDED_S = 7 * 24 * 3600  # finished and failed jobs stay visible to `status` and clients this long
_EXPIRE_EVERY_S = 60.0  # how often a backend fails jobs queued for a backend id that nobody serves
_OUTAGE_RETRY_S = 1.0  # a channel that cannot be reached or written (disk full) is tried again this often


class Backend:
    """One backend process: its channel, its handlers and the jobs it holds leases on."""

    def __init__(self, config: BackendConfig, *, channel: Channel | None = None):
        self.config = config
        load_task_modules(config.task_modules)
        self.channel = channel or open_channel(config.channel, config.channel_url)
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.handlers: dict[str, JobHandler] = {}
        self.jobs: dict[str, tuple[JobRecord, float]] = {}  # job id -> (record, start time)
        self.completed = 0
        self._stop = threading.Event()
        self._hard_stop = threading.Event()
        self._next_lease = self._next_status = self._next_prune = self._next_claim = self._next_expire = 0.0
        self._next_stops = 0.0
        self._unstoppable: set[str] = set()  # jobs asked to stop whose handler cannot (told once in the log)
        self._burst = False
        self._poller = select.poll()
        self._polled: set[int] = set()

    # --- control ------------------------------------------------------------------------------------
    def stop(self, *, graceful: bool = True) -> None:
        """Ask the loop to stop (safe from a signal handler or another thread)."""
        if not graceful or self._stop.is_set():
            self._hard_stop.set()
        self._stop.set()

    def _handler(self, name: str) -> JobHandler:
        h = self.handlers.get(name)
        if h is None:
            cfg = self.config.handler(name)
            url = None if self.channel.url.startswith("sqlite://") else self.channel.url
            # on Redis, parallel workers claim their own jobs; on SQLite the backend claims for them
            context = WorkerContext(name, self.channel.name, url, self.worker_id, self.config.backend_id or "",
                                    self.config.lease_s, cfg.max_attempts, cfg.memory_limit_gb,
                                    self_claim=url is not None and cfg.type == "parallel",
                                    share=max(1, cfg.num_workers))
            h = self.handlers[name] = make_handler(cfg, self.config.task_modules, context)
        return h

    def run(self, *, burst: bool = False) -> int:
        """Serve the channel until stopped (or, with ``burst``, until it is empty); return jobs completed."""
        self._log_start()
        if any(h.type == "parallel" for h in self.config.handlers):
            if self.channel.url.startswith("sqlite://"):  # the backend claims for its workers: warm up meanwhile
                threading.Thread(target=warm_up, args=(self.config.task_modules,), name="sortingview-warm-up",
                                 daemon=True).start()
            else:
                warm_up(self.config.task_modules)  # before the first claim: see warm_up
        self._burst = burst  # a burst must see an empty queue before it ends: it always looks
        idle = _MIN_IDLE_S
        try:
            while not self._stop.is_set():
                busy = self._turn()
                if burst and not busy and not self.jobs and self._nothing_left():
                    break
                idle = _MIN_IDLE_S if busy else min(idle * 1.5, _MAX_IDLE_S)
                if self.jobs:
                    self._sleep(idle, news=not burst)
                elif not busy:
                    # nothing running: block on the channel until a job arrives (or a lease may have expired)
                    self.channel.wait_for_work(_IDLE_WAIT_S)
                    self._next_claim = 0.0  # the wait consumed the news: claim on the next turn
            self._drain()
        finally:
            self._shutdown()
        return self.completed

    def _nothing_left(self) -> bool:
        """For a burst: whether no job is queued for a handler whose workers claim their own, nor held by one of
        them before it told the backend (the backend's own claim sees every other job)."""
        names = {name for name, h in self.handlers.items() if getattr(h, "context", None) and h.context.self_claim}
        if not names:
            return True
        if any(self.channel.queue_length(name, self.config.backend_id or "") for name in names):
            return False
        prefix = self.worker_id + "/"
        return not any((r.worker or "").startswith(prefix) for r in self.channel.running_jobs())

    # --- one turn of the loop -------------------------------------------------------------------------
    def _turn(self) -> int:
        """Collect outcomes, claim jobs, renew leases; a channel or disk outage is logged and waited out."""
        try:
            # collect first, so that slots freed this turn are filled by the claim right after
            busy = self._collect() + self._claim()
            self._keep_alive()
            return busy
        except (ChannelError, DiskFullError) as exc:
            if self._burst:
                raise
            log.error("%s; the backend keeps running and tries again in %g s", exc, _OUTAGE_RETRY_S)
            self._stop.wait(_OUTAGE_RETRY_S)
            return 0

    def _claim(self) -> int:
        # while busy, look at the channel only when it says something was queued, or now and then (for
        # leases that expired elsewhere): workers claim their own next jobs
        now = time.monotonic()
        if not self._burst and not self.channel.has_news() and now < self._next_claim:
            return 0
        self._next_claim = now + _RECLAIM_EVERY_S
        limits = {h.name: self._free_slots(h.name) for h in self.config.handlers}
        # no news of handlers whose workers all claim their own jobs: their submissions need not wake this loop
        self.channel.listen({name for name, n in limits.items() if n > 0})
        jobs = self.channel.claim(self.worker_id, limits, backend_id=self.config.backend_id or "",
                                  lease_s=self.config.lease_s)
        for job in jobs:
            self._begin(job)
        return len(jobs)

    def _free_slots(self, name: str) -> int:
        h = self.handlers.get(name)
        if h is not None:
            return h.free_slots()
        cfg = self.config.handler(name)
        return 1 if cfg.type == "inline" else cfg.num_workers

    def _begin(self, job: JobRecord) -> None:
        settled = vet_claimed(self.channel, self.worker_id, job, self.config.handler(job.handler).max_attempts)
        if settled is not None:
            self._log(settled, job.handler)
            return
        self.jobs[job.job_id] = (job, time.monotonic())
        handler = self._handler(job.handler)
        handler.start(job)
        if handler.claims_itself and job.job_id not in handler.running():  # its lease was lost on the way
            del self.jobs[job.job_id]
            return
        log.debug("start %s %s on %s (attempt %d)", job.job_id[:10], job.task_name, job.handler, job.attempts)

    def _collect(self) -> int:
        """Record what ended; return how many outcomes ask for a quick next turn (a slot the backend refills)."""
        n = 0
        for h in list(self.handlers.values()):
            outcomes = h.poll()
            now = time.monotonic()
            # jobs claimed by a worker itself first: a batch of its messages may also carry their outcomes
            for job in h.adopted():
                self.jobs[job.job_id] = (job, now)
            for outcome in outcomes:
                self._record(outcome, h.name)
                if h.supervises_only and outcome.recorded:  # its worker went on by itself: nothing to hurry
                    continue
                n += 1
                if not (h.claims_itself and outcome.recorded):  # a freed slot no worker refills: claim now
                    self._next_claim = 0.0
            self._log_counts(h)
        return n

    def _log_counts(self, h: JobHandler) -> None:
        """One line per task name for the short jobs a handler's workers ran and recorded on their own."""
        for where, counts in h.ran():
            for task_name, (jobs, seconds, longest) in sorted(counts.items()):
                log.info("done %d x %s on %s (%s) in %.2f ms each on average, the longest %.2f ms", jobs, task_name,
                         h.name, where, 1000 * seconds / jobs, 1000 * longest)
                self.completed += jobs

    def _record(self, o: Outcome, handler: str) -> None:
        entry = self.jobs.pop(o.job_id, None)
        self._unstoppable.discard(o.job_id)
        if o.recorded:  # the worker wrote it to the channel itself
            self._log(o, handler)
            return
        if entry is None:
            return
        job, _ = entry
        holder = job.worker or self.worker_id  # the backend, or a worker that claims its own jobs
        if o.lost and job.attempts < self.config.handler(job.handler).max_attempts:
            log.warning("lost %s %s on %s (%s) after %.3f s: %s; giving it back to the channel", o.job_id[:10],
                        job.task_name, handler, o.where, o.seconds, o.error)
            self.channel.release(holder, o.job_id, count_attempt=True)
            return
        self._log(record_outcome(self.channel, holder, o), handler)

    def _log(self, o: Outcome, handler: str) -> None:
        tag = f"{o.job_id[:10]} {o.task_name} on {handler} ({o.where})"
        lost = "" if o.accepted else " (its lease had been lost: not recorded)"
        if o.ok:
            log.info("done %s in %.3f s%s", tag, o.seconds, lost)
        else:
            log.error("error %s after %.3f s: %s%s", tag, o.seconds, o.error, lost)
        self.completed += 1

    def _keep_alive(self) -> None:
        now = time.monotonic()
        if self.jobs and now >= self._next_lease:
            # per lease holder: this backend, or each worker that claims its own jobs (which renews them too, but
            # cannot before its process is up)
            holders: dict[str, list[str]] = {}
            for job_id, (job, _) in self.jobs.items():
                holders.setdefault(job.worker or self.worker_id, []).append(job_id)
            held = {i for holder, ids in holders.items()
                    for i in self.channel.heartbeat(holder, ids, lease_s=self.config.lease_s)}
            for job_id in set(self.jobs) - held:
                log.warning("lease on %s was lost (this backend was too slow to renew it); another backend may "
                            "run it", job_id[:10])
            self._next_lease = now + self.config.lease_s / 3
        if self.jobs and now >= self._next_stops:
            self._next_stops = now + _STOPS_EVERY_S
            for job_id, error in self.channel.stop_requests(list(self.jobs)).items():
                self._stop_job(job_id, error)
        if now >= self._next_status:
            self.channel.put_backend(self.worker_id, self.describe())
            self._next_status = now + min(_STATUS_EVERY_S, self.config.lease_s / 3)
        if now >= self._next_expire:
            expired = self.channel.expire_unserved(self.config.unserved_expiry_s)
            if expired:
                log.warning("failed %d job(s) queued for over %g s for a backend id that no backend serves",
                            expired, self.config.unserved_expiry_s)
            self._next_expire = now + min(_EXPIRE_EVERY_S, self.config.unserved_expiry_s / 2)
        if now >= self._next_prune:  # the channel is a queue, not an archive: results live in the store
            pruned = self.channel.prune(_KEEP_ENDED_S)
            if pruned:
                log.info("forgot %d job(s) that ended more than %d h ago", pruned, _KEEP_ENDED_S // 3600)
            self._next_prune = now + 3600

    def _stop_job(self, job_id: str, error: str) -> None:
        """Someone asked (through the channel) to stop a job this backend runs: kill it and record ``error``."""
        job = self.jobs[job_id][0]
        h = self.handlers.get(job.handler)
        outcomes = h.stop(job_id, error) if h is not None else []
        if not outcomes:
            if job_id not in self._unstoppable:
                self._unstoppable.add(job_id)
                log.warning("asked to stop %s %s, but could not (a %s handler cannot stop a running task, or the "
                            "task was ending); it runs until it ends or reaches timeout_s", job_id[:10],
                            job.task_name, self.config.handler(job.handler).type)
            return
        log.info("stopping %s %s on %s, as asked", job_id[:10], job.task_name, job.handler)
        for o in outcomes:
            self._record(o, job.handler)

    def _sleep(self, seconds: float, *, news: bool = False) -> None:
        """Wait until a running job ends, or ``seconds`` pass (with ``news``: or the channel has news)."""
        fds = {x if isinstance(x, int) else x.fileno() for h in self.handlers.values() for x in h.waitables()}
        news_fd = self.channel.news_fd() if news and fds else None
        if news_fd is not None:
            # a submission wakes this wait too, so the loop need not turn every half millisecond to look for
            # one: with a job running, each such turn took CPU from the job's own path on a small machine
            fds.add(news_fd)
            seconds = _MAX_IDLE_S
        if not fds:
            self._stop.wait(seconds)
            return
        # one poll object for the life of the loop, updated with the difference (multiprocessing's wait() builds
        # and fills a new selector on every call, a measurable share of a trivial task's time)
        for fd in self._polled - fds:
            self._poller.unregister(fd)
        for fd in fds - self._polled:
            self._poller.register(fd, select.POLLIN)
        self._polled = fds
        self._poller.poll(seconds * 1000)

    # --- stopping ---------------------------------------------------------------------------------------
    def _drain(self) -> None:
        for h in self.handlers.values():
            h.drain()
        if not self.jobs:
            return
        log.info("stopping: waiting up to %g s for %d running task(s)", self.config.grace_s, len(self.jobs))
        deadline = time.monotonic() + self.config.grace_s
        while self.jobs and time.monotonic() < deadline and not self._hard_stop.is_set():
            self._collect()
            self._keep_alive()
            self._sleep(0.01)

    def _shutdown(self) -> None:
        self._collect()  # outcomes and self-claimed jobs already reported by workers
        for h in self.handlers.values():
            for job_id in h.close():
                if job_id in self.jobs:
                    self.channel.release(self.jobs[job_id][0].worker or self.worker_id, job_id)
                    log.info("released %s back to the channel", job_id[:10])
            self._log_counts(h)  # the last counts, read as the workers stopped
        self.jobs.clear()
        from .dask_handler import close_dask_clients

        close_dask_clients()
        try:
            self.channel.put_backend(self.worker_id, None)
        except (ChannelError, DiskFullError) as exc:  # its heartbeat goes stale on its own
            log.error("could not remove this backend's heartbeat: %s", exc)
        log.info("backend %s stopped after %d task(s)", self.worker_id, self.completed)

    # --- reporting ----------------------------------------------------------------------------------------
    def describe(self) -> dict:
        """What ``sortingview status`` shows for this backend."""
        now = time.monotonic()
        return {
            "workerId": self.worker_id, "host": socket.gethostname(), "pid": os.getpid(), "version": __version__,
            "channel": self.config.channel, "hasBackendId": bool(self.config.backend_id),
            "backendIdDigest": backend_id_digest(self.config.backend_id or ""),
            "handlers": {h.name: h.describe() for h in self.config.handlers},
            "canStop": sorted(h.name for h in self.config.handlers if h.stops_running_tasks),
            "running": [{"jobId": j.job_id, "taskName": j.task_name, "handler": j.handler,
                         "seconds": round(now - t0, 3)} for j, t0 in self.jobs.values()],
            "completed": self.completed,
        }

    def _log_start(self) -> None:
        where = self.channel.url
        log.info("backend %s serving channel %r at %s%s", self.worker_id, self.config.channel, where,
                 " (with a backend id)" if self.config.backend_id else "")
        log.info("handlers: %s", ", ".join(f"{h.name}={h.describe()}" for h in self.config.handlers))
        if self.config.task_modules:
            log.info("task modules: %s", ", ".join(self.config.task_modules))
