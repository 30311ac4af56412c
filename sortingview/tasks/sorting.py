"""Spike sorting as a task: ``sortingview.run_sorter.1`` runs a SpikeInterface sorter in a worker.

The sorter runs in a temporary folder (``$TMPDIR``; removed afterwards, and folders left by a worker that
was killed are swept by the next run) and its sorting is stored as an .npz sorting object, so the result is
the ``sha1://`` URI of an object that loads anywhere the store is seen. The task input names the sorter's
version (:func:`sorting_task_input` fills it in), so the calculation cache, keyed by the job id, never
answers with the output of another version. While the sorter runs, what it prints goes to a log file in
the store directory (:func:`sorting_log_path`): ``sortingview status`` shows its last lines, and a
sorter that fails reports them in its error.
"""
from __future__ import annotations

import contextlib
import glob
import os
import shutil
import tempfile
import time
from typing import Any

from ..errors import TaskError, TaskInputError
from ..serialize import task_job_id
from .registry import register_task

TASK_NAME = "sortingview.run_sorter.1"
#: sorters that install from PyPI and run without a GPU (``pip install sortingview[sorters]``)
SORTERS = ("simple", "spykingcircus2", "tridesclous2", "mountainsort5")
ALIASES = {"ms5": "mountainsort5", "sc2": "spykingcircus2", "tdc2": "tridesclous2"}
LOG_TAIL_LINES = 30
_TMP_PREFIX = "sortingview-sort-"


def sorter_name(name: str) -> str:
    """The SpikeInterface name of ``name`` (short aliases ms5, sc2, tdc2 accepted), checked to be usable."""
    import spikeinterface.sorters as ss

    if not isinstance(name, str):
        raise TaskInputError(f"a sorter name must be a string, got {name!r}")
    full = ALIASES.get(name, name)
    if full not in ss.sorter_dict:
        raise TaskInputError(f"unknown sorter {name!r}; sorters without a GPU: {', '.join(SORTERS)} "
                             f"(aliases {', '.join(f'{k}={v}' for k, v in ALIASES.items())})")
    if not ss.sorter_dict[full].is_installed():
        how = ("install the sorters with `pip install sortingview[sorters]`" if full in SORTERS else
               f"install it as SpikeInterface's sorter documentation says, or use one that "
               f"`pip install sortingview[sorters]` installs (no GPU needed): {', '.join(SORTERS)}")
        raise TaskInputError(f"sorter {full} is not installed here; {how}")
    return full


def sorter_version(name: str) -> str:
    """The version that decides a sorter's output: its own and SpikeInterface's (which runs it)."""
    import spikeinterface
    import spikeinterface.sorters as ss

    full = sorter_name(name)
    return f"{full} {ss.sorter_dict[full].get_sorter_version()}, spikeinterface {spikeinterface.__version__}"


def check_params(name: str, params: Any) -> dict:
    """``params`` if every key is a parameter of the sorter (so a typo fails before anything is queued)."""
    import spikeinterface.sorters as ss

    if not isinstance(params, dict):
        raise TaskInputError(f"sorter parameters must be a JSON object, got {params!r:.80}")
    known = ss.get_default_sorter_params(name)
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise TaskInputError(f"{name} has no parameter(s) {', '.join(map(repr, unknown))}; its parameters are "
                             f"{', '.join(known)}")
    jobs = params.get("job_kwargs", {}).get("n_jobs", 1) if isinstance(params.get("job_kwargs"), dict) else 1
    for key, value in (("n_jobs", params.get("n_jobs", 1)), ("job_kwargs.n_jobs", jobs)):
        if isinstance(value, int) and not 1 <= value <= (os.cpu_count() or 1):
            raise TaskInputError(f"{name}: {key}={value} must be from 1 to this machine's {os.cpu_count()} cores")
    return params


def sorting_task_input(recording: str, name: str, params: dict | None = None) -> dict:
    """The input of ``sortingview.run_sorter.1`` for a recording URI, sorter and parameters (version filled in)."""
    full = sorter_name(name)
    return {"recording": recording, "sorterName": full, "params": check_params(full, dict(params or {})),
            "sorterVersion": sorter_version(full)}


def sorting_log_path(task_input: dict) -> str:
    """Where the sorter's output goes while it runs (under the store directory, named by the job id)."""
    from ..store import get_store, store_dir

    base = get_store().directory or store_dir()
    return os.path.join(base, "sortingview", "sorting_logs", task_job_id(TASK_NAME, task_input) + ".log")


def log_tail(path: str, lines: int = LOG_TAIL_LINES) -> str:
    """The last ``lines`` lines of a log file ('' when there is none); reads at most 64 kB."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 65536))
            text = f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""
    # progress bars redraw with carriage returns: keep what each line showed last
    shown = [line.rsplit("\r", 1)[-1] for line in text.replace("\r\n", "\n").split("\n")]
    return "\n".join([line for line in shown if line.strip()][-lines:])


def _sweep_stale_folders() -> None:
    """Remove sorting folders of workers that died (a worker killed at its timeout cannot clean up)."""
    for folder in glob.glob(os.path.join(tempfile.gettempdir(), _TMP_PREFIX + "*")):
        try:
            pid = int(os.path.basename(folder)[len(_TMP_PREFIX):].split("-")[0])
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except (ValueError, PermissionError):
            continue


@contextlib.contextmanager
def _output_to(path: str):
    """Send what the sorter prints (Python's stdout and stderr) to ``path``, line-buffered."""
    from ..store._fs import open_file

    fd = open_file(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)  # never through a link (file or store folder)
    with open(fd, "w", buffering=1, encoding="utf-8", errors="replace") as log:
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            yield log


@register_task(TASK_NAME, handler="sorting")
def run_sorter(recording: str, sorterName: str, params: dict, sorterVersion: str) -> dict:
    """Sort ``recording`` with ``sorterName`` and ``params``; the sorting object's URI and what ran.

    ``sorterVersion`` must be what :func:`sorter_version` says here (a worker with another version installed
    refuses, rather than caching its output under the requested version).
    """
    name = sorter_name(sorterName)
    check_params(name, params)
    here = sorter_version(name)
    if sorterVersion != here:
        raise TaskInputError(f"this worker has {here}, the request asks for {sorterVersion}; install that version "
                             "on the backend's machine or submit again with the installed one")
    task_input = {"recording": recording, "sorterName": sorterName, "params": params, "sorterVersion": sorterVersion}
    _sweep_stale_folders()
    log_path = sorting_log_path(task_input)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"{_TMP_PREFIX}{os.getpid()}-") as tmp:
        uri, num_units = _sort(recording, name, params, tmp, log_path)
    from ..store import store_file

    return {"sorting": uri, "sorterName": name, "sorterVersion": here, "params": params, "numUnits": num_units,
            "runSec": round(time.perf_counter() - t0, 3), "logUri": store_file(log_path, label="sorter.log")}


def _sort(recording_uri: str, name: str, params: dict, folder: str, log_path: str) -> tuple[str, int]:
    import spikeinterface.sorters as ss

    from ..extractors import copy_sorting_extractor, store_sorting
    from ._objects import load_recording

    recording = load_recording(recording_uri)
    with _output_to(log_path) as log:
        print(f"sortingview: running {name} with {params or 'default parameters'}", file=log)
        try:
            sorting = ss.run_sorter(name, recording, folder=os.path.join(folder, "output"),
                                    remove_existing_folder=True, verbose=True, raise_error=True, **params)
        except Exception as exc:  # noqa: BLE001  (a sorter can fail in any way; the user needs its log)
            print(f"sortingview: {name} failed: {type(exc).__name__}: {exc}", file=log)
            failure = exc
        else:
            failure = None
    if failure is not None:
        raise TaskError(f"sorter {name} failed: {type(failure).__name__}: {str(failure)[:2000]}\n"
                        f"--- last lines of its log ({log_path}) ---\n{log_tail(log_path)}") from failure
    return store_sorting(copy_sorting_extractor(sorting)), len(sorting.get_unit_ids())
