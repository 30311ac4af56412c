"""The ``dask`` handler: jobs run on a Dask distributed cluster.

With ``scheduler_address`` the backend connects to an existing scheduler (e.g. one started by dask-jobqueue
on a SLURM cluster, whose workers see the same store directory); without, it starts a LocalCluster of
``num_workers`` single-threaded worker processes, shared by every dask handler of this backend.
"""
from __future__ import annotations

import logging
import time

from ..errors import ConfigError
from ..store import store_dir
from .channel import JobRecord
from .config import HandlerConfig
from .execution import Outcome
from .handlers import JobHandler

log = logging.getLogger("sortingview.backend")
_clients: dict[str, object] = {}


def _dask_job(job_id: str, task_name: str, task_input: dict, task_type: str, store_directory: str,
              task_modules: tuple[str, ...]) -> Outcome:
    """Runs on a dask worker: load the plugins once, then the task."""
    from distributed import get_worker

    from .execution import run_job
    from .plugins import load_task_modules

    load_task_modules(task_modules)
    outcome = run_job(job_id, task_name, task_input, task_type, store_directory)
    outcome.where = f"dask worker {get_worker().address}"
    return outcome


def dask_client(address: str | None, num_workers: int, memory_limit_gb: float = 0.0):
    """One client per scheduler address (None: a LocalCluster started on first use).

    A LocalCluster's workers get ``memory_limit_gb`` each (dask's nanny restarts a worker that passes it, and
    the job it ran fails); an existing cluster keeps the memory limits its own workers were started with.
    """
    key = address if address is not None else f"local:{memory_limit_gb:g}GB"
    client = _clients.get(key)
    if client is not None:
        return client
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ConfigError("a dask job handler needs dask.distributed: pip install 'sortingview[dask]'") from exc
    if address is None:
        cluster = LocalCluster(n_workers=num_workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.WARNING,
                               memory_limit=int(memory_limit_gb * 2**30) if memory_limit_gb else 0)
        client = Client(cluster)
        log.info("started a dask LocalCluster with %d workers at %s", num_workers, cluster.scheduler_address)
    else:
        try:
            client = Client(address, timeout=30)
        except OSError as exc:
            raise ConfigError(f"cannot reach the dask scheduler at {address} (scheduler_address): {exc}") from exc
    _clients[key] = client
    return client


def close_dask_clients() -> None:
    for address, client in list(_clients.items()):
        cluster = getattr(client, "cluster", None)
        client.close()
        if address is None and cluster is not None:
            cluster.close()
        del _clients[address]


class DaskHandler(JobHandler):
    """Up to ``num_workers`` jobs in flight on the cluster at once.

    A job that overruns its timeout is marked error and its future cancelled; dask cannot interrupt a task
    that is already running, so it may still occupy a dask worker until it returns.
    """

    def __init__(self, config: HandlerConfig, task_modules: tuple[str, ...] = ()):
        super().__init__(config, task_modules)
        self.client = dask_client(config.scheduler_address, config.num_workers, config.memory_limit_gb)
        self.futures: dict[str, tuple[object, JobRecord, float]] = {}

    def free_slots(self) -> int:
        return self.config.num_workers - len(self.futures)

    def start(self, job: JobRecord) -> None:
        fut = self.client.submit(_dask_job, job.job_id, job.task_name, job.task_input, job.task_type,
                                 store_dir(), tuple(self.task_modules), pure=False,
                                 key=f"{job.task_name}-{job.job_id}-{time.monotonic_ns()}")
        self.futures[job.job_id] = (fut, job, time.monotonic())

    def poll(self) -> list[Outcome]:
        out = []
        for job_id, (fut, job, t0) in list(self.futures.items()):
            if fut.done():
                del self.futures[job_id]
                out.append(self._outcome(fut, job, t0))
            elif time.monotonic() - t0 > self.config.timeout_s:
                del self.futures[job_id]
                fut.cancel()
                out.append(self.timeout_outcome(job, time.monotonic() - t0, "dask"))
        return out

    def _outcome(self, fut, job: JobRecord, t0: float) -> Outcome:
        if fut.status == "finished":
            return fut.result()
        exc = fut.exception() if fut.status == "error" else None
        # the dask worker died (KilledWorker) or the future was lost: give the job back to the channel
        why = f"dask could not run {job.task_name}: {exc!r}"
        if type(exc).__name__ == "KilledWorker" and self.config.memory_limit_gb and not self.config.scheduler_address:
            why += (f"; the worker running it died, e.g. restarted by dask for passing its "
                    f"{self.config.memory_limit_gb:g} GB limit (job_handlers.{self.config.name}.memory_limit_gb)")
        return Outcome(job.job_id, False, error=why, seconds=time.monotonic() - t0, where="dask", lost=True)

    def running(self) -> list[str]:
        return list(self.futures)

    def close(self) -> list[str]:
        busy = list(self.futures)
        for fut, _, _ in self.futures.values():
            fut.cancel()
        self.futures.clear()
        return busy
