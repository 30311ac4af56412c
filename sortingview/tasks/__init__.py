"""Registered tasks: names -> functions that load recording/sorting objects and call ``compute``.

``execute_task`` runs one task in this process and returns its JSON-able (encoded) result;
``run_task_inline`` adds the result cache (``task_results/`` in the store) for calculations and decodes.
The backend and the server use the same two functions, so a task means the same everywhere.
"""
from __future__ import annotations

from typing import Any

from ..bundle import BLOBS_FROM, pack_result
from ..serialize import decode_value, encode_value, task_job_id
from .registry import HANDLER_TYPES, TASK_TYPES, TaskSpec, get_task, list_tasks, register_task, validate_input


def execute_task(task_name: str, task_input: dict) -> Any:
    """Validate the input, run the task here, and return its encoded result (JSON-able once its large arrays'
    :class:`~sortingview.serialize.Blob` s are written as text, as ``store_json_bytes`` does)."""
    spec = get_task(task_name)
    kwargs = validate_input(spec, task_input)
    return encode_value(spec.func(**kwargs), blobs_from=BLOBS_FROM)


def cached_result(task_name: str, task_input: dict) -> Any | None:
    """The stored encoded result of a calculation, or None (a damaged stored result is deleted: None)."""
    from ..store import MISSING, load_task_result

    hit = load_task_result(task_name, task_job_id(task_name, task_input))
    return None if hit is MISSING else hit


def store_result(task_name: str, task_input: dict, encoded_result: Any) -> bytes:
    """Write an encoded result to ``task_results/`` (a bundle when it holds Blobs) and return the bytes written."""
    from ..store import get_store

    data = pack_result(encoded_result)
    get_store().put_task_result(task_name, task_job_id(task_name, task_input), data)
    return data


def run_task_inline(task_name: str, task_input: dict, *, use_cache: bool = True) -> Any:
    """Run a task in the calling process (no backend) and return the decoded result.

    Calculations are answered from the result cache when present, and their results are cached.
    """
    spec = get_task(task_name)
    if spec.task_type == "calculation" and use_cache:
        hit = cached_result(task_name, task_input)
        if hit is not None:
            return decode_value(hit)
    encoded = execute_task(task_name, task_input)
    if spec.task_type == "calculation":
        store_result(task_name, task_input, encoded)
    return decode_value(encoded)


__all__ = [
    "HANDLER_TYPES", "TASK_TYPES", "TaskSpec", "register_task", "get_task", "list_tasks", "validate_input",
    "execute_task", "run_task_inline", "cached_result", "store_result",
]
