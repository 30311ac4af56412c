"""A parallel worker that claims its own jobs (on a Redis channel), supervised by its backend.

Each worker has its own lease-holder id (the backend's id plus ``/<handler><n>``), its own Redis connections,
and serves its handler type alone: while idle it blocks on the channel's wake tokens and claims one job
(:meth:`RedisChannel.wait_and_claim`), runs it, writes the result (into the store for a calculation), and
then, in one round trip (:meth:`RedisChannel.end_many_and_claim`), records the outcome, waits for the next job
if none is queued, and claims it. While its jobs are short (under BATCH_JOB_S each) it claims up to BATCH_MAX at
once, never more than its share of the queue, and records them together; a job that runs longer sends the rest
of its batch back to the queue. A thread renews the leases on the jobs it holds.
Jobs never pass through the backend process. A job is named to the backend only once it has run
REPORT_AFTER_S (by the lease thread), so that the backend can enforce the timeout and report running jobs; the
outcomes of jobs it was never told of reach it as a count per task name every SUMMARY_EVERY_S (errors at once),
so that a stream of short jobs costs the backend one message a second, not one per job: its work, and the
wakings it caused, fell in the middle of other jobs' round trips on a small machine. The worker writes the id
of the job it runs in memory it shares with the backend (no message): when it dies, the backend charges that
job an attempt and gives back the rest of what it held in the channel uncharged. On ``drain`` (a graceful stop)
it claims nothing more; on ``None`` or end-of-file it exits.
"""
from __future__ import annotations

import threading
import time

from ..errors import ChannelError
from ..store import store_dir
from .execution import Outcome, run_job, vet_claimed
from .pool import WorkerContext, _explain_memory_error, _ready, _recv, _send

#: how long an idle worker blocks on the channel before it looks at its pipe from the backend (drain, stop)
#: and claims anyway (jobs whose wake token went astray, and leases that expired elsewhere)
IDLE_WAIT_S = 0.5
_OUTAGE_RETRY_S = 1.0
#: a worker whose jobs each ran under BATCH_JOB_S claims up to BATCH_MAX at once (never more than its share of the
#: queue) and records them in one round trip; a job that runs longer sends the rest of its batch back
BATCH_MAX = 8
BATCH_JOB_S = 0.002


#: a job is named to the backend once it has run this long (by the lease thread, so that short jobs cost no
#: message each): the backend's timeout then runs against that job, from the job's start
REPORT_AFTER_S = 0.05
#: how often the outcomes of jobs the backend was never told of reach it, counted per task name
SUMMARY_EVERY_S = 1.0


class _Pipe:
    """The worker's end of its pipe to the backend, written by the main thread and the lease thread."""

    def __init__(self, conn, running=None):
        self.conn = conn
        self.running = running  # shared memory: the id of the job this worker runs (see serve)
        self.lock = threading.Lock()
        self.current: tuple | None = None  # (job, monotonic start) of a job the backend does not know yet
        self.named: set[str] = set()  # jobs the backend was told of whose outcomes it has not had
        self.counts: dict[str, list] = {}  # task name -> [jobs, seconds, longest] of outcomes it was not told
        self.where = ""  # as the outcomes say where they ran
        self.next_summary = time.monotonic() + SUMMARY_EVERY_S

    def tell(self, message) -> None:
        with self.lock:
            self.current = None
            _send(self.conn, message)

    def name(self, job, started: float) -> None:
        """Tell the backend that ``job`` runs, since ``started`` (monotonic, the same clock as the backend's)."""
        with self.lock:
            self._name(job, started)

    def _name(self, job, started: float) -> None:  # (holding the lock)
        self.current = None
        self.named.add(job.job_id)
        _send(self.conn, ("done", [], job, started))

    def starting(self, job) -> None:
        """A job starts (the backend hears of it if it runs long)."""
        with self.lock:
            self.current = (job, time.monotonic())

    def ran(self) -> None:
        """The batch has run: nothing of it needs naming any more."""
        with self.lock:
            self.current = None

    def report_long_job(self) -> None:
        with self.lock:
            if self.current is None or time.monotonic() - self.current[1] < REPORT_AFTER_S:
                return
            try:
                self._name(*self.current)
            except OSError:
                pass  # the backend is gone; the main thread finds out at its next report

    def to_tell(self, outcomes: list[Outcome]) -> list[Outcome]:
        """Of ``outcomes`` (recorded in the channel), those the backend must hear of now: of jobs it was told of,
        and failures; the others are counted for the next summary."""
        out = []
        with self.lock:
            for o in outcomes:
                if o.job_id in self.named or not (o.ok and o.accepted and o.recorded):
                    self.named.discard(o.job_id)
                    out.append(o)
                else:
                    self.where = o.where
                    c = self.counts.setdefault(o.task_name, [0, 0.0, 0.0])
                    c[0] += 1
                    c[1] += o.seconds
                    c[2] = max(c[2], o.seconds)
        return out

    def summarize(self, *, now: bool = False) -> None:
        """Send the counts of outcomes the backend was not told of, every SUMMARY_EVERY_S (or ``now``)."""
        with self.lock:
            if not self.counts or not (now or time.monotonic() >= self.next_summary):
                return
            counts, self.counts = self.counts, {}
            self.next_summary = time.monotonic() + SUMMARY_EVERY_S
            try:
                _send(self.conn, ("ran", counts, self.where))
            except OSError:
                pass  # the backend is gone


class _Lease(threading.Thread):
    """Renews the leases on the worker's current jobs every ``lease_s / 3``, on a connection of its own, and names
    a long-running job of a batch to the backend (see REPORT_AFTER_S)."""

    def __init__(self, ctx: WorkerContext, pipe: _Pipe):
        super().__init__(name="lease", daemon=True)
        from .channel.redis_channel import RedisChannel

        self.ctx = ctx
        self.pipe = pipe
        self.channel = RedisChannel(ctx.channel_url, ctx.channel)  # not the cached one: its own connections
        self.job_ids: list[str] = []

    def run(self) -> None:
        next_beat = time.monotonic() + self.ctx.lease_s / 3
        while True:
            time.sleep(min(REPORT_AFTER_S, self.ctx.lease_s / 3))
            self.pipe.report_long_job()
            self.pipe.summarize()
            job_ids = self.job_ids
            if not job_ids or time.monotonic() < next_beat:
                continue
            next_beat = time.monotonic() + self.ctx.lease_s / 3
            try:
                self.channel.heartbeat(self.ctx.worker_id, job_ids, lease_s=self.ctx.lease_s)
            except Exception:  # noqa: BLE001  (an outage: the next beat tries again; the lease may run out)
                pass


def serve(conn, channel, ctx: WorkerContext, running=None) -> None:
    """The worker's loop: jobs the backend hands over, and jobs it claims itself, until told to stop.
    ``running`` (shared memory) holds the id of the job it runs, for the backend to read if it dies."""
    pipe = _Pipe(conn, running)
    lease = _Lease(ctx, pipe)
    lease.start()
    draining = False
    jobs: list = []  # claimed and not yet run (a batch when the last ones were short and the queue deep)
    queued = 0  # jobs of this handler left queued at the last claim: while some are, claim without waiting
    while True:
        try:
            while not jobs and (draining or _ready(conn.fileno())):  # while draining, only a stop can come
                message = _recv(conn)
                if message is None:
                    pipe.summarize(now=True)
                    return
                if message == "drain":
                    draining = True
                    pipe.summarize(now=True)
                else:  # the job the backend claimed when it started this worker: its clock starts now
                    jobs = [message]
                    pipe.name(message, time.monotonic())
        except (EOFError, OSError):
            return
        if not jobs:
            job = _claim(pipe, channel, ctx)
            if job is None:
                continue
            jobs = [job]
        lease.job_ids = [j.job_id for j in jobs]
        outcomes, stop = _run_batch(pipe, jobs, ctx)
        pipe.ran()
        released = [j.job_id for j in jobs[len(outcomes):]]  # not run (a job ran long, or out of memory)
        try:
            while _ready(conn.fileno()):  # only "drain" or None arrive while busy
                stop = _recv(conn) is None or stop
                draining = True
            n = BATCH_MAX if all(o.seconds < BATCH_JOB_S for o in outcomes) else 1
            jobs, reports, queued = _record_batch(pipe, channel, ctx, outcomes, released,
                                                  0 if draining or stop else n, wait=0.0 if queued else IDLE_WAIT_S)
            lease.job_ids = [j.job_id for j in jobs]
            if stop:
                pipe.summarize(now=True)
                pipe.tell(("retire", reports, None))
            elif reports:
                pipe.tell(("done", reports, None))
        except (EOFError, OSError):
            return  # the backend is gone; jobs claimed just now go back when their leases run out
        if stop:
            return


def _run_batch(pipe: _Pipe, jobs: list, ctx: WorkerContext) -> tuple[list[Outcome], bool]:
    """Run ``jobs`` in order until one runs long or out of memory; their outcomes, and whether to stop."""
    outcomes: list[Outcome] = []
    directory = store_dir()
    for job in jobs:
        if job.job_id not in pipe.named:  # (the backend's own first job is named already)
            pipe.starting(job)
        if pipe.running is not None:
            pipe.running.value = job.job_id.encode("ascii")
        outcome = run_job(job.job_id, job.task_name, job.task_input, job.task_type, directory)
        outcomes.append(outcome)
        if _explain_memory_error(outcome, ctx):  # report, then make way for a new worker
            return outcomes, True
        if outcome.seconds >= BATCH_JOB_S:  # the rest go back to the queue, for idle workers
            break
    return outcomes, False


def _record_batch(pipe: _Pipe, channel, ctx: WorkerContext, outcomes: list[Outcome], released: list[str],
                  n: int, wait: float) -> tuple[list, list[Outcome], int]:
    """Record the outcomes, give back ``released`` and claim up to ``n`` jobs (waiting for one up to ``wait``
    seconds), in one round trip. The backend hears of the outcomes as soon as they are recorded when no job
    comes at once; returns the jobs to run next, what the backend has not heard yet, and the jobs still
    queued."""
    pending: list[Outcome] = list(outcomes)

    def tell(accepted: list[bool]) -> None:  # before a wait: the backend must not think the job still runs
        _mark(outcomes, accepted)
        told = pipe.to_tell(outcomes)
        if told:
            pipe.tell(("done", told, None))
        pending.clear()

    ended = [(o.job_id, o.result, None if o.ok else o.error or "", o.traceback) for o in outcomes]
    accepted, claimed, queued = channel.end_many_and_claim(
        ctx.worker_id, ended, released, ctx.handler, n, share=ctx.share, backend_id=ctx.backend_id,
        lease_s=ctx.lease_s, wait=wait if n else 0.0, on_ended=tell)
    if pending:
        _mark(outcomes, accepted)
        pending[:] = pipe.to_tell(outcomes)
    jobs = []
    for job in claimed:
        settled = vet_claimed(channel, ctx.worker_id, job, ctx.max_attempts)
        if settled is None:
            jobs.append(job)
        else:
            pending.append(settled)
    return jobs, pending, queued


def _mark(outcomes: list[Outcome], accepted: list[bool]) -> None:
    for o, ok in zip(outcomes, accepted, strict=True):
        o.accepted, o.recorded = ok, True
        o.result = o.traceback = None  # in the channel now: the backend's report needs neither


def _claim(pipe: _Pipe, channel, ctx: WorkerContext):
    """Wait for a job of this worker's handler and claim it (None: nothing came); the backend hears of it if it
    runs long (see REPORT_AFTER_S), and at once of jobs the claim settled without running them."""
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
    if reports:
        pipe.tell(("done", reports, None))
    return job
