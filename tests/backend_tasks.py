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
def where(x: int) -> dict:
    try:
        from distributed import get_worker

        address = get_worker().address
    except (ImportError, ValueError):
        address = None
    return {"x": x, "pid": os.getpid(), "daskWorker": address}
