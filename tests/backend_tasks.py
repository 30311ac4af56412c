"""Tasks used only by the backend tests (loaded through the backend's ``task_modules`` setting).

They are trivial on purpose: the tests are about moving tasks, not computing. Tasks that misbehave
(raise, hang, kill their worker) do so only when asked through their input.
"""
from __future__ import annotations

import os
import signal
import time

from sortingview.tasks import register_task


@register_task("svtest.add.1", handler="misc")
def add(a: float, b: float = 0, sleepSec: float = 0) -> dict:
    if sleepSec:
        time.sleep(sleepSec)
    return {"sum": a + b, "pid": os.getpid()}


@register_task("svtest.pid.1", handler="misc", task_type="query")
def pid() -> dict:
    return {"pid": os.getpid(), "channel": os.environ.get("SORTINGVIEW_CHANNEL")}


@register_task("svtest.fail.1", handler="misc")
def fail(message: str) -> dict:
    raise ValueError(message)


@register_task("svtest.sleep.1", handler="misc")
def sleep(seconds: float, tag: str = "") -> dict:
    time.sleep(seconds)
    return {"slept": seconds, "tag": tag, "pid": os.getpid()}


@register_task("svtest.die_once.1", handler="misc")
def die_once(marker: str, value: int = 0) -> dict:
    """SIGKILLs its own worker process the first time (when ``marker`` does not exist yet)."""
    if not os.path.exists(marker):
        with open(marker, "w") as f:
            f.write(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    return {"value": value, "pid": os.getpid()}


@register_task("svtest.always_die.1", handler="misc")
def always_die() -> dict:
    os.kill(os.getpid(), signal.SIGKILL)
    return {}


@register_task("svtest.slow_square.1", handler="waveforms")
def slow_square(x: int, sleepSec: float = 0.0) -> dict:
    time.sleep(sleepSec)
    return {"square": x * x, "pid": os.getpid()}


@register_task("svtest.where.1", handler="correlograms")
def where(x: int, sleepSec: float = 0.0) -> dict:
    time.sleep(sleepSec)
    try:
        from distributed import get_worker

        address = get_worker().address
    except (ImportError, ValueError):
        address = None
    return {"x": x, "pid": os.getpid(), "daskWorker": address}


@register_task("svtest.pid_then_sleep.1", handler="misc")
def pid_then_sleep(pidFile: str, seconds: float) -> dict:
    """Appends its worker's pid to ``pidFile`` (so a test can kill it), then sleeps."""
    with open(pidFile, "a") as f:
        f.write(f"{os.getpid()}\n")
    time.sleep(seconds)
    return {"pid": os.getpid()}


# --- helpers shared by the backend tests ----------------------------------------------------------------
TESTS_DIR = os.path.dirname(os.path.abspath(__file__))


def write_config(path, **top) -> str:
    """A backend YAML config that loads this module; ``top`` adds top-level keys (job_handlers, lease_s, ...)."""
    import yaml

    cfg = {"task_modules": ["backend_tasks"], "lease_s": 2, "grace_s": 10, **top}
    with open(path, "w") as f:
        yaml.safe_dump(cfg, f)
    return str(path)


def backend_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (TESTS_DIR, env.get("PYTHONPATH")) if p)
    env.pop("SORTINGVIEW_JOB_HANDLER_CONFIG", None)
    return env


def start_backend_process(config: str, *args: str, log_path=None):
    """``sortingview-start-backend --no-server --config CONFIG ARGS`` as a real subprocess."""
    import subprocess
    import sys

    cmd = [sys.executable, "-c", "from sortingview.cli.backend_cmds import start_backend; start_backend()",
           "--no-server", "--config", config, *args]
    out = open(log_path, "w") if log_path else subprocess.DEVNULL
    return subprocess.Popen(cmd, env=backend_env(), stdout=out, stderr=subprocess.STDOUT)


def kill_tree(proc) -> None:
    """Kill a backend process started by a test and its workers, and wait for them (a worker that outlived its
    backend by a moment could claim the next test's jobs: they have the same ids)."""
    import psutil

    children = psutil.Process(proc.pid).children(recursive=True) if proc.poll() is None else []
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)
    for c in children:
        try:
            c.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(children, timeout=10)


def wait_until(predicate, timeout: float = 30.0, what: str = "condition"):
    """Poll ``predicate`` until it returns something truthy (and return that), or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.1)


def backend_alive(channel, pid: int) -> bool:
    return any(info.get("pid") == pid for info in channel.live_backends().values())


@register_task("svtest.allocate.1", handler="misc")
def allocate(gigabytes: float) -> dict:
    """Allocate and touch ``gigabytes`` of memory (a task that asks for more than its worker may have)."""
    import numpy as np

    a = np.ones(int(gigabytes * 2**30) // 8)
    return {"bytes": int(a.nbytes), "pid": os.getpid()}
