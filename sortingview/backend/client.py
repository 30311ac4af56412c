"""The Python side of tasks: ``run_task`` (inline, or submitted to a backend) and ``submit_task``."""
from __future__ import annotations

from typing import Any


def run_task(task_name: str, task_input: dict, *, inline: bool = False, timeout: float | None = None,
             backend_id: str | None = None, channel: str | None = None) -> Any:
    """Run a task and return its decoded result.

    With ``inline=True`` the task runs in this process (no backend needed); otherwise it is submitted to the
    channel and a backend runs it.
    """
    if inline:
        from ..tasks import run_task_inline

        return run_task_inline(task_name, task_input)
    raise NotImplementedError("submission to a backend is not implemented yet; pass inline=True")
