"""Loading the task modules a backend configuration names (plugins), in the backend and in its workers."""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
from typing import Iterable

from ..errors import ConfigError

_loaded: set[str] = set()


def load_task_modules(entries: Iterable[str]) -> None:
    """Import every entry (a module name, or a path to a .py file) once, registering its tasks.

    Also imports the built-in tasks and the backend's own (``sortingview.backend_status.1``).
    """
    from ..tasks import list_tasks
    from . import status  # noqa: F401  (registers sortingview.backend_status.1)

    list_tasks()
    for entry in entries:
        if entry in _loaded:
            continue
        try:
            if entry.endswith(".py"):
                _load_path(entry)
            else:
                importlib.import_module(entry)
        except ConfigError:
            raise
        except ImportError as exc:
            raise ConfigError(f"task module {entry!r} (task_modules) cannot be imported: {exc}; install it or "
                              "add its folder to PYTHONPATH, or give the path of a .py file") from exc
        _loaded.add(entry)


def _load_path(path: str) -> None:
    if not os.path.isfile(path):
        raise ConfigError(f"task module file {path} (task_modules) does not exist")
    stem = os.path.splitext(os.path.basename(path))[0]
    name = f"sortingview_plugin_{hashlib.sha1(path.encode()).hexdigest()[:8]}_{stem}"
    if name in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
