"""The ``parallel`` handler: a pool of worker processes, one job at a time each.

Workers are started lazily (a handler type that gets no tasks costs no process) from a forkserver that has
already imported the tasks, so starting one takes milliseconds. A worker that overruns its timeout is
killed and replaced; a worker that dies mid-task (OOM killer, SIGKILL) reports the job *lost*, and the
backend gives it back to the channel. Workers die with the backend, busy or not: a watchdog thread in each
worker holds the read end of a "lifeline" pipe whose only write end the backend holds, and kills its
process when the pipe reaches end-of-file. (The forkserver's parent-death signal cannot do this: every
forked worker inherits the forkserver's own keep-alive pipe, so the forkserver outlives the backend.)

A busy worker keeps the backend loop off the critical path: it records its job's outcome in the channel
itself (as the backend's lease holder) and claims its next job of the same type right away, then tells the
backend both in one message. On SQLite the backend hands jobs only to workers that said they are idle, so
the two never race; it still owns leases (heartbeats), timeouts and dead workers.

On Redis (``WorkerContext.self_claim``) idle workers claim too, each as a lease holder of its own (see
claiming.py): the backend only starts the missing workers of a handler (claiming their first jobs and handing
the leases over), reads the workers' reports in batches, renews the leases it knows of, enforces timeouts,
and gives back the jobs of workers that died.
"""
from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import pickle
import select
import signal
import threading
import time
from dataclasses import dataclass, replace

from ..store import store_dir
from .channel import JobRecord
from .config import HandlerConfig
from .execution import Outcome, record_outcome, run_job, vet_claimed
from .handlers import JobHandler


def _send(conn, message) -> None:
    """Send over a worker pipe with plain pickle: Connection.send builds a ForkingPickler per message, which
    costs more than a trivial task (the messages hold only plain dataclasses, no handles to reduce)."""
    conn.send_bytes(pickle.dumps(message, pickle.HIGHEST_PROTOCOL))


def _recv(conn):
    return pickle.loads(conn.recv_bytes())


def _ready(fd: int) -> bool:
    """Whether ``fd`` has data or end-of-file (a process sentinel: the process ended). The backend asks this
    of each worker on every turn; multiprocessing's own poll() and is_alive() build a selector per call."""
    p = select.poll()
    p.register(fd, select.POLLIN)
    return bool(p.poll(0))


def _watch_backend(lifeline) -> None:
    """Kill this worker, whatever it is doing, as soon as the backend's end of the lifeline closes."""
    try:
        lifeline.recv()  # the backend never sends: this returns only by end-of-file
    except (EOFError, OSError):
        pass
    os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True)
class WorkerContext:
    """What a worker needs to claim and record jobs for its backend."""

    handler: str
    channel: str
    channel_url: str | None
    worker_id: str
    backend_id: str
    lease_s: float
    max_attempts: int
    memory_limit_gb: float = 0.0  # the worker's address-space limit (RLIMIT_AS); 0: none
    #: the worker claims its own jobs, as the lease holder ``worker_id`` (Redis); else the backend feeds it
    self_claim: bool = False
    #: how many workers of this handler split its queue (a self-claiming worker takes at most its share at once)
    share: int = 1


def _limit_memory(ctx: WorkerContext) -> None:
    """Cap this worker's address space, so a job that asks for too much fails with MemoryError instead of
    taking the machine's memory (and the OOM killer's choice of victim) from everyone else."""
    if ctx.memory_limit_gb > 0:
        import resource

        limit = int(ctx.memory_limit_gb * 2**30)
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))


def _explain_memory_error(outcome: Outcome, ctx: WorkerContext) -> bool:
    """Reword a MemoryError outcome so it names the limit and the setting; True when the job ran out of memory."""
    if outcome.ok or not (outcome.error or "").startswith("MemoryError"):
        return False
    if ctx.memory_limit_gb > 0:
        outcome.error = (
            f"MemoryError: task {outcome.task_name} needed more memory than the {ctx.memory_limit_gb:g} GB limit of "
            f"each {ctx.handler} worker and was stopped (the worker is replaced); ask for less (fewer units, "
            f"spikes or frames), or raise job_handlers.{ctx.handler}.memory_limit_gb in the backend configuration "
            f"(0: no limit). {outcome.error}")
    return True


def _worker_main(conn, lifeline, task_modules: tuple[str, ...], environ: dict[str, str],
                 ctx: WorkerContext, running=None) -> None:
    """A worker process: run jobs from ``conn`` (and the ones it claims next) until the pipe closes."""
    threading.Thread(target=_watch_backend, args=(lifeline,), name="lifeline", daemon=True).start()
    # the forkserver's environment is that of the backend when the first worker started; take today's
    os.environ.clear()
    os.environ.update(environ)
    # Ctrl-C reaches the whole process group; the backend decides whether running tasks finish or stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _limit_memory(ctx)
    from .channel import open_channel
    from .plugins import load_task_modules

    load_task_modules(task_modules)
    channel = open_channel(ctx.channel, ctx.channel_url)
    if ctx.self_claim:
        from .claiming import serve

        serve(conn, channel, ctx, running)
        return
    draining = False
    while True:
        try:
            job = _recv(conn)
        except (EOFError, OSError):
            return
        if job is None:
            return
        if job == "drain":
            draining = True
            continue
        while job is not None:
            outcome = run_job(job.job_id, job.task_name, job.task_input, job.task_type, store_dir())
            # after a MemoryError the heap may be fragmented or half-freed: report, then make way for a new worker
            stop = _explain_memory_error(outcome, ctx)
            try:
                while conn.poll():  # only "drain" or None arrive while busy
                    stop = _recv(conn) is None or stop
                    draining = True
                job, reports = _record_and_claim(channel, ctx, outcome, claim=not (draining or stop))
                _send(conn, ("retire" if stop else "done", reports, job))
            except (EOFError, OSError):
                return  # the backend is gone; a job claimed just now goes back when its lease runs out
            if stop:
                return


def _record_and_claim(channel, ctx: WorkerContext, outcome: Outcome,
                      claim: bool) -> tuple[JobRecord | None, list[Outcome]]:
    """Record the outcome and (unless draining) claim the next job, in one round trip where possible."""
    if not claim:
        return None, [record_outcome(channel, ctx.worker_id, outcome)]
    outcome.accepted, jobs = channel.end_and_claim(
        ctx.worker_id, outcome.job_id, result=outcome.result, error=None if outcome.ok else outcome.error or "",
        traceback=outcome.traceback, limits={ctx.handler: 1}, backend_id=ctx.backend_id, lease_s=ctx.lease_s)
    outcome.recorded = True
    outcome.result = outcome.traceback = None  # in the channel now: the backend's report needs neither
    reports = [outcome]
    while jobs:  # each turn settles one job that must not run, so this ends
        settled = vet_claimed(channel, ctx.worker_id, jobs[0], ctx.max_attempts)
        if settled is None:
            return jobs[0], reports
        reports.append(settled)
        jobs = channel.claim(ctx.worker_id, {ctx.handler: 1}, backend_id=ctx.backend_id, lease_s=ctx.lease_s)
    return None, reports


_context = None


def _mp_context(task_modules: tuple[str, ...]):
    global _context
    if _context is None:
        try:
            ctx = multiprocessing.get_context("forkserver")
            # warm_kernels: the correlogram kernels loaded once here, not in each worker's first request
            ctx.set_forkserver_preload(["sortingview.tasks._builtin", "sortingview.backend.status",
                                         "sortingview.backend.pool", "sortingview.backend.warm_kernels"])
        except ValueError:  # no forkserver on this platform
            ctx = multiprocessing.get_context("spawn")
        _context = ctx
    return _context


def _nothing() -> None:
    pass


def warm_up(task_modules: tuple[str, ...]) -> None:
    """Start the forkserver (it imports the tasks) before any job is claimed: the first worker start waits for
    it, seconds on a loaded machine, and a backend blocked there cannot renew the leases it just took."""
    mp = _mp_context(task_modules)
    if mp.get_start_method() == "forkserver":
        p = mp.Process(target=_nothing, name="sortingview-warm-up")
        p.start()
        p.join()


RUNNING_ID_BYTES = 128  # job ids are 40 hex digits


class _Worker:
    def __init__(self, task_modules: tuple[str, ...], ctx: WorkerContext):
        self.ctx = ctx
        mp = _mp_context(task_modules)
        self.conn, child = mp.Pipe()
        life_r, self.lifeline = mp.Pipe(duplex=False)
        #: the id of the job a self-claiming worker runs, written by it in shared memory (no message, no waking
        #: of the backend): if it dies, that job is the one charged an attempt
        self.running = mp.RawArray("c", RUNNING_ID_BYTES) if ctx.self_claim else None
        self.proc = mp.Process(target=_worker_main, name=f"sortingview-{ctx.handler}",
                               args=(child, life_r, task_modules, dict(os.environ), ctx, self.running))
        self.proc.start()
        child.close()
        life_r.close()
        self.job: JobRecord | None = None
        self.t0 = 0.0
        #: jobs the worker said it started whose outcomes have not come yet (more than one within a batch)
        self.started: set[str] = set()

    @property
    def where(self) -> str:
        return f"{self.proc.name} pid {self.proc.pid}"

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)
        self.conn.close()
        self.lifeline.close()


class ParallelHandler(JobHandler):
    """Up to ``num_workers`` jobs at once, each in its own worker process."""

    claims_itself = True

    def __init__(self, config: HandlerConfig, task_modules: tuple[str, ...] = (),
                 context: WorkerContext | None = None):
        super().__init__(config, task_modules)
        if context is None:
            raise ValueError("a parallel handler needs a WorkerContext (the backend passes it)")
        self.context = context
        self.supervises_only = context.self_claim
        self.workers: list[_Worker] = []
        self._adopted: list[JobRecord] = []
        self._ran: list[tuple[str, dict]] = []
        self._started = 0

    def free_slots(self) -> int:
        if self.context.self_claim:  # idle workers claim by themselves: the backend only fills missing ones
            return self.config.num_workers - len(self.workers)
        return self.config.num_workers - sum(1 for w in self.workers if w.job is not None)

    def start(self, job: JobRecord) -> None:
        worker = next((w for w in self.workers if w.job is None), None)
        if worker is None or self.context.self_claim:
            worker = self._new_worker()
            if self.context.self_claim:  # the backend claimed the job: its lease passes to the worker
                if not self._channel().hand_over(
                        job.job_id, job.worker or self.context.worker_id, worker.ctx.worker_id,
                        lease_s=self.context.lease_s):
                    return  # its lease was lost meanwhile: the worker claims work of its own instead
                job.worker = worker.ctx.worker_id
        worker.job, worker.t0 = job, time.monotonic()
        try:
            _send(worker.conn, job)
        except OSError:
            pass  # a dead worker: poll() sees its sentinel and reports the job lost

    def poll(self) -> list[Outcome]:
        out: list[Outcome] = []
        for w in list(self.workers):
            out += self._poll_worker(w)
        return out

    def _new_worker(self) -> _Worker:
        ctx = self.context
        if ctx.self_claim:  # each worker holds its own leases
            self._started += 1
            ctx = replace(ctx, worker_id=f"{ctx.worker_id}/{ctx.handler}{self._started}")
        worker = _Worker(self.task_modules, ctx)
        self.workers.append(worker)
        return worker

    def adopted(self) -> list[JobRecord]:
        jobs, self._adopted = self._adopted, []
        return jobs

    def ran(self) -> list[tuple[str, dict]]:
        """What self-claiming workers ran that the backend was never told of, since the last call: (where,
        {task name: [jobs, seconds, longest]}) per summary."""
        out, self._ran = self._ran, []
        return out

    def drain(self) -> None:
        for w in self.workers:
            try:
                _send(w.conn, "drain")
            except OSError:
                pass

    def _poll_worker(self, w: _Worker) -> list[Outcome]:
        if w.job is None and not self.context.self_claim:
            if _ready(w.proc.sentinel):  # died while idle: forget it, a new one starts when needed
                self._drop(w)
            return []
        out: list[Outcome] = []
        try:
            # every report waiting (a self-claiming worker writes when a job has run 50 ms, when one fails, and a
            # count of the others each second; the backend reads its reports in batches)
            while _ready(w.conn.fileno()):
                kind, reports, next_job, *started = _recv(w.conn)
                if kind == "ran":  # counts of short jobs it recorded that the backend was never told of
                    self._ran.append((next_job or w.where, reports))  # (next_job: where they ran)
                    continue
                for o in reports:
                    o.where = o.where or w.where
                    w.started.discard(o.job_id)
                out += reports
                if kind == "retire":  # it stops after this (out of memory, or told to): never hand it a job
                    self._drop(w)
                    return out
                w.job, w.t0 = next_job, started[0] if started else time.monotonic()
                if next_job is not None:
                    self._adopted.append(next_job)
                    w.started.add(next_job.job_id)
                if not self.context.self_claim:
                    return out
        except (EOFError, OSError):
            return out + self._lost(w)
        if out:
            return out
        if not _ready(w.proc.sentinel):  # still alive
            if w.job is not None and time.monotonic() - w.t0 > self.config.timeout_s:
                job = w.job
                self._drop(w)
                return [self.timeout_outcome(job, time.monotonic() - w.t0, w.where), *self._batch_left(w, job)]
            return []
        return self._lost(w)

    def _lost(self, w: _Worker) -> list[Outcome]:
        """A worker died: its job is lost (the backend gives it back), and so is any job it had just claimed."""
        w.proc.join(1)
        code = w.proc.exitcode
        how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        self._drop(w)
        running = [(w.job, time.monotonic() - w.t0)] if w.job else []
        # jobs it claimed itself and had not named yet (short so far): the one it was running (it said so in
        # shared memory) is lost, an attempt charged, as a named one would be; the others of its batch go back
        # uncharged. When it cannot be told, all of them are charged, so that a job killing its workers ends.
        held = self._held([w], known={w.job.job_id} if w.job else set())
        charged = []
        if w.job is None:
            current = w.running.value.decode("ascii", "replace") if w.running is not None else ""
            charged = [rec for rec in held if rec.job_id == current] or held
        for rec in held:
            if rec not in charged:
                self._channel().release(rec.worker, rec.job_id, count_attempt=False)
                continue
            self._adopted.append(rec)
            running.append((rec, max(0.0, time.time() - rec.started) if rec.started else 0.0))
        return [Outcome(job.job_id, False, error=(
            f"WorkerLostError: the {self.name} worker process ({w.where}) died ({how}) while running "
            f"{job.task_name}; it may have run out of memory"), seconds=seconds,
            where=w.where, lost=True, task_name=job.task_name) for job, seconds in running]

    def stop(self, job_id: str, error: str) -> list[Outcome]:
        w = next((w for w in self.workers if w.job is not None and w.job.job_id == job_id), None)
        if w is None:
            return []
        job = w.job
        self._drop(w)
        return [Outcome(job_id, False, error=error, seconds=time.monotonic() - w.t0, where=w.where,
                        task_name=job.task_name), *self._batch_left(w, job, "was asked to stop")]

    def _batch_left(self, w: _Worker, overran: JobRecord, what: str = "") -> list[Outcome]:
        """A self-claiming worker stopped for ``overran``: the other jobs of its batch go back to the channel. Those
        it said it started (run, their outcomes not yet recorded) come back as lost, for the backend to release
        (an attempt each); the rest it held, never started, are released here as not tried."""
        started = w.started - {overran.job_id}
        self._release_held([w], known=started | {overran.job_id}, count_attempt=False)
        what = what or f"ran longer than timeout_s={self.config.timeout_s:g} s"
        why = (f"WorkerLostError: its {self.name} worker ({w.where}) was stopped when {overran.task_name} (job "
               f"{overran.job_id[:10]}) of the same batch {what}")
        return [Outcome(i, False, error=why, where=w.where, lost=True) for i in sorted(started)]

    def _held(self, workers: list[_Worker], known: set[str]) -> list[JobRecord]:
        """The jobs that self-claiming ``workers`` hold in the channel and never named to the backend (short so
        far, or claimed just before the worker died or was stopped), but ``known`` ones."""
        ids = {w.ctx.worker_id for w in workers}
        if not (self.context.self_claim and ids):
            return []
        return [rec for rec in self._channel().running_jobs() if rec.worker in ids and rec.job_id not in known]

    def _release_held(self, workers: list[_Worker], known: set[str], count_attempt: bool) -> None:
        """Give back the jobs of :meth:`_held`; ``known`` ones the backend handles."""
        for rec in self._held(workers, known):
            self._channel().release(rec.worker, rec.job_id, count_attempt=count_attempt)

    def _channel(self):
        from .channel import open_channel

        return open_channel(self.context.channel, self.context.channel_url)

    def _drop(self, w: _Worker) -> None:
        w.kill()
        self.workers.remove(w)

    def running(self) -> list[str]:
        return [w.job.job_id for w in self.workers if w.job is not None]

    def waitables(self) -> list:
        if self.context.self_claim:  # their reports wait for the backend's next turn; a death wakes it
            return [w.proc.sentinel for w in self.workers]
        return [x for w in self.workers if w.job is not None for x in (w.conn, w.proc.sentinel)]

    def worker_pids(self) -> dict[str, int]:
        """Job id -> pid of the worker process running it."""
        return {w.job.job_id: w.proc.pid for w in self.workers if w.job is not None}

    def close(self) -> list[str]:
        busy = self.running()
        for w in self.workers:
            if w.job is None and w.proc.is_alive():
                try:
                    _send(w.conn, None)
                except OSError:
                    pass
        for w in list(self.workers):
            if w.job is None:
                w.proc.join(2)
                try:  # the last counts of a worker that claimed its own jobs
                    while _ready(w.conn.fileno()):
                        kind, counts, where, *_ = _recv(w.conn)
                        if kind == "ran":
                            self._ran.append((where or w.where, counts))
                except (EOFError, OSError):
                    pass
            w.kill()
        self._release_held(self.workers, known=set(busy), count_attempt=False)
        self.workers.clear()
        return busy
