"""The task registry: versioned task names -> plain functions, with handler type and task type.

A task is a module-level function with keyword arguments in camelCase (its input fields), registered with
:func:`register_task`. A second registration of a name fails at import; an unknown name is an
:class:`UnknownTaskError` that lists the registered ones. :func:`validate_input` checks a task input against
the function's signature (unknown fields, missing fields, wrong JSON types) and the bounds of
:mod:`~sortingview.tasks.limits` before anything runs.

``TaskSpec.func`` is the registered function guarded for running: it applies the bounds that need the data
(``limits.with_data``) and checks, before the task reads and again after it returns (before its result is
stored), that every file its input reaches is unchanged (``store.integrity.check_unchanged``).
"""
from __future__ import annotations

import functools
import inspect
import re
import types
import typing
from dataclasses import dataclass
from typing import Any, Callable

from ..errors import SortingviewError, TaskInputError, UnknownTaskError
from .limits import check_static

HANDLER_TYPES = ("clusters", "correlograms", "extract_snippets", "metrics", "misc", "timeseries", "waveforms",
                 "sorting")  # sorting: an extension of the original seven (issue 15, doc/sorting.md)
TASK_TYPES = ("calculation", "action", "query")
_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+\.[0-9]+$")


@dataclass(frozen=True)
class TaskSpec:
    name: str
    func: Callable[..., Any]
    handler_type: str
    task_type: str

    @property
    def parameters(self) -> dict[str, inspect.Parameter]:
        return dict(_signature(self.func)[0])


@functools.lru_cache(maxsize=None)
def _signature(func: Callable[..., Any]) -> tuple[dict[str, inspect.Parameter], dict[str, Any]]:
    """A function's parameters and resolved annotations, computed once: resolving string annotations
    (``from __future__ import annotations``) costs tens of microseconds, and every task is validated twice."""
    params = dict(inspect.signature(func).parameters)
    hints = typing.get_type_hints(func)
    return params, {name: hints.get(name, p.annotation) for name, p in params.items()}


_registry: dict[str, TaskSpec] = {}


def register_task(name: str, *, handler: str, task_type: str = "calculation"):
    """Decorator: register ``func`` as task ``name`` (``sortingview.<what>.<version>``)."""
    if not _NAME.match(name):
        raise SortingviewError(f"task name {name!r} must look like 'sortingview.<what>.<version>'")
    if handler not in HANDLER_TYPES:
        raise SortingviewError(f"task {name}: handler {handler!r} is not one of {', '.join(HANDLER_TYPES)}")
    if task_type not in TASK_TYPES:
        raise SortingviewError(f"task {name}: task type {task_type!r} is not one of {', '.join(TASK_TYPES)}")

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        if name in _registry:
            other = _registry[name].func
            raise SortingviewError(
                f"task {name} is registered twice: by {other.__module__}.{other.__qualname__} and by "
                f"{func.__module__}.{func.__qualname__}; give the new one a new version number"
            )
        _registry[name] = TaskSpec(name, _guarded(name, func), handler, task_type)
        return func

    return decorate


def _guarded(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` with the data-dependent bounds applied and its input files checked before and after it runs."""

    @functools.wraps(func)
    def run(**kwargs: Any) -> Any:
        from ..store.integrity import check_unchanged
        from .limits import with_data

        check_unchanged(kwargs)
        result = func(**with_data(name, kwargs))
        check_unchanged(kwargs)  # a file changed while the task read it: its result must not be stored
        return result

    return run


def get_task(name: str) -> TaskSpec:
    _load_builtin_tasks()
    spec = _registry.get(name)
    if spec is None:
        known = ", ".join(sorted(_registry)) or "(none)"
        raise UnknownTaskError(f"unknown task {name!r}; registered tasks are: {known}")
    return spec


def list_tasks() -> list[TaskSpec]:
    _load_builtin_tasks()
    return [_registry[k] for k in sorted(_registry)]


_builtin_loaded = False


def _load_builtin_tasks() -> None:
    global _builtin_loaded
    if not _builtin_loaded:  # an import statement per lookup is measurable on the per-task path
        from . import _builtin  # noqa: F401  (importing registers every built-in task)

        _builtin_loaded = True


# --- input validation ----------------------------------------------------------------------------------
def _json_type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _matches(value: Any, annotation: Any) -> bool:
    if annotation is inspect.Parameter.empty or annotation is Any:
        return True
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, a) for a in typing.get_args(annotation))
    if annotation is None or annotation is type(None):
        return value is None
    if origin in (list, tuple):
        return isinstance(value, list)
    if origin is dict:
        return isinstance(value, dict)
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool) or (
            isinstance(value, float) and value.is_integer())
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is str:
        return isinstance(value, str)
    if isinstance(annotation, type):
        return isinstance(value, annotation)
    return True


def validate_input(spec: TaskSpec, task_input: Any) -> dict:
    """Check ``task_input`` against the task's signature; return the keyword arguments to call it with."""
    if not isinstance(task_input, dict):
        raise TaskInputError(f"input of task {spec.name} must be a JSON object, got {_json_type_name(task_input)}")
    params, hints = _signature(spec.func)
    unknown = sorted(set(task_input) - set(params))
    if unknown:
        raise TaskInputError(
            f"task {spec.name} has no input field(s) {', '.join(map(repr, unknown))}; "
            f"its fields are {', '.join(params) or '(none)'}"
        )
    kwargs = {}
    for pname, p in params.items():
        if pname not in task_input:
            if p.default is inspect.Parameter.empty:
                raise TaskInputError(f"task {spec.name} needs input field {pname!r}")
            continue
        value = task_input[pname]
        ann = hints[pname]
        if not _matches(value, ann):
            want = getattr(ann, "__name__", None) or str(ann).replace("typing.", "")
            raise TaskInputError(
                f"task {spec.name}: input field {pname!r} must be {want}, got {_json_type_name(value)} {value!r:.80}"
            )
        if ann is int and isinstance(value, float):
            value = int(value)
        kwargs[pname] = value
    check_static(spec.name, kwargs, {k: p.default for k, p in params.items() if p.default is not p.empty})
    return kwargs
