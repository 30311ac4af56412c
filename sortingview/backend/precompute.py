"""``precompute``: compute ahead of time every task the viewer asks for when it opens a sorting.

The requests here are exactly what the viewer sends (``viewer/js/main.js``: the packed ``.2`` tasks where
one exists, the object URIs and nothing else, so catalogue defaults apply), hence the same job ids: once they
are in ``task_results/`` the first view is answered from the cache.
"""
from __future__ import annotations

from typing import Any

from ..errors import TaskError
from .channel import Channel
from .client import TaskHandle, TaskStatus, submit_task
from .jobstatus import JobStatus


def viewer_requests(workspace: Any, sorting_id: str) -> list[tuple[str, dict]]:
    """The (task name, task input) pairs the viewer submits for ``sorting_id``."""
    srt = workspace.get_sorting_record(sorting_id)
    rec = workspace.get_recording_record(srt["recordingId"])
    return requests_for(rec["recordingUri"], srt["sortingUri"])


def requests_for(r: str, s: str) -> list[tuple[str, dict]]:
    """The viewer's first requests for the recording and sorting objects at URIs ``r`` and ``s``."""
    return [
        ("sortingview.recording_info.1", {"recording": r}),
        ("sortingview.sorting_info.1", {"sorting": s}),
        ("sortingview.autocorrelograms.2", {"sorting": s}),  # all units
        # waveforms before metrics: a process that ran average_waveforms (templates with deviations) serves
        # unit_metrics from the same templates (doc/tasks.md, "Templates reused"); not the other way round
        ("sortingview.average_waveforms.2", {"recording": r, "sorting": s}),  # all units
        ("sortingview.unit_metrics.2", {"recording": r, "sorting": s}),
    ]


def precompute(workspace: Any, sorting_id: str, *, progress: bool = True, backend_id: str | None = None,
               channel: str | Channel | None = None, channel_url: str | None = None, wait: bool = True,
               timeout: float | None = None) -> dict[str, TaskStatus] | list[TaskHandle]:
    """Submit every task the viewer needs for a sorting; with ``wait``, wait for them with a progress bar.

    Returns the final status per task name (``wait=True``) or the handles (``wait=False``). A task that
    failed raises TaskError after the others have finished, naming each failure.
    """
    handles = [submit_task(name, inp, backend_id=backend_id, channel=channel, channel_url=channel_url)
               for name, inp in viewer_requests(workspace, sorting_id)]
    if not wait:
        return handles
    from tqdm.auto import tqdm

    statuses: dict[str, TaskStatus] = {}
    with tqdm(total=len(handles), desc=f"precompute {sorting_id}", unit="task", disable=not progress) as bar:
        for h in handles:
            st = h.wait_status(timeout)
            statuses[h.task_name] = st
            bar.set_postfix_str(h.task_name.split(".")[1])
            bar.update(1)
    failed = [f"{name}: {st.error}" for name, st in statuses.items() if st.status == JobStatus.ERROR]
    if failed:
        raise TaskError(f"precompute of sorting {sorting_id}: {len(failed)} task(s) failed: " + "; ".join(failed))
    late = [name for name, st in statuses.items() if st.status != JobStatus.FINISHED]
    if late:
        from ..errors import TaskTimeoutError

        raise TaskTimeoutError(f"precompute of sorting {sorting_id}: {', '.join(late)} not finished after "
                               f"{timeout} s; is a backend running (`sortingview status`)?")
    return statuses
