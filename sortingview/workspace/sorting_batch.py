"""``W.run_sorters``: every recording x sorter submitted to the backend at once, one progress bar."""
from __future__ import annotations

from ..errors import TaskError
from .sorting_runs import failures_error


def submit_all(recordings: dict[str, str], sorters: list[tuple[str, dict]], *, channel: str | None = None,
               backend_id: str | None = None) -> list[tuple[str, str, dict, object]]:
    """Submit ``sortingview.run_sorter.1`` for each (recording, sorter); ``[(recording id, sorter, params,
    handle)]``. A combination already computed is answered from the cache without queueing."""
    from ..backend.client import submit_task
    from ..tasks.sorting import TASK_NAME, sorting_task_input

    return [(rid, name, params, submit_task(TASK_NAME, sorting_task_input(uri, name, params), channel=channel,
                                            backend_id=backend_id))
            for rid, uri in recordings.items() for name, params in sorters]


def run_batch(workspace, recordings: dict[str, str], sorters: list[tuple[str, dict]], *, progress: bool = True,
              timeout: float | None = None, channel: str | None = None, backend_id: str | None = None) -> list[str]:
    """Submit every combination, then add each result to ``workspace`` as it ends; the sorting ids.

    ``timeout``: seconds to wait for each run (None: as long as it takes).
    """
    from tqdm.auto import tqdm

    jobs = submit_all(recordings, sorters, channel=channel, backend_id=backend_id)
    sids, failures = [], []
    with tqdm(total=len(jobs), desc="run_sorters", unit="sorting", disable=not progress) as bar:
        for rid, name, params, handle in jobs:
            bar.set_postfix_str(f"{name} on {rid}", refresh=True)
            try:
                result = handle.wait(timeout)
            except TaskError as exc:
                failures.append(f"{name} on {rid}: {exc}")
            else:
                sids.append(workspace._add_sorting_run(rid, name, params, result))
            bar.update()
    if failures:
        raise failures_error(failures)
    return sids
