"""One task path in the server: inline mode is the channel and the inline job handler, as a backend runs them."""
from __future__ import annotations

import os
import threading

import pytest
from test_server_support import http, running_server

from sortingview.backend.channel import open_channel
from sortingview.backend.config import load_config
from sortingview.backend.daemon import Backend
from sortingview.backend.jobstatus import JobStatus
from sortingview.server.runner import INLINE_CHANNEL
from sortingview.tasks import register_task

_gate = threading.Event()


def nothing_query() -> None:
    return None


def nothing_calc(tag: str) -> None:
    return None


def where(tag: str) -> dict:
    _gate.wait(10)
    return {"pid": os.getpid(), "thread": threading.current_thread().name}


@pytest.fixture(scope="module", autouse=True)
def runner_tasks():
    register_task("sortingview.test_runner_nothing_q.1", handler="misc", task_type="query")(nothing_query)
    register_task("sortingview.test_runner_nothing_c.1", handler="misc")(nothing_calc)
    register_task("sortingview.test_runner_where.1", handler="clusters")(where)


def task(name: str, wait: float = 10, **task_input) -> dict:
    return {"taskName": f"sortingview.test_runner_{name}.1", "taskInput": task_input, "waitSec": wait}


def test_inline_mode_runs_tasks_through_its_channel_and_the_inline_handler(store_dir):
    _gate.set()
    with running_server(inline=True) as srv:
        status, r = http(f"{srv.url}/api/task", body=task("where", tag="a"))
        assert status == 200 and r["status"] == JobStatus.FINISHED
        assert r["result"]["pid"] == os.getpid() and r["result"]["thread"] == "sortingview-inline-clusters"
        rec = open_channel(INLINE_CHANNEL).get(r["jobId"])
        assert rec.status == JobStatus.FINISHED and rec.handler == "clusters" and rec.attempts == 1


def test_tasks_that_return_none_finish_with_a_null_result_inline(store_dir):
    with running_server(inline=True) as srv:
        for name, extra in (("nothing_q", {}), ("nothing_c", {"tag": "x"})):
            for _ in range(2):  # the second calculation is answered from the cache
                status, r = http(f"{srv.url}/api/task", body=task(name, **extra))
                assert (status, r["status"], r["result"]) == (200, "finished", None), r


def test_tasks_that_return_none_finish_with_a_null_result_through_a_backend(store_dir):
    with running_server() as srv:
        _, q = http(f"{srv.url}/api/task", body=task("nothing_q", wait=0))
        _, c = http(f"{srv.url}/api/task", body=task("nothing_c", wait=0, tag="y"))
        assert q["status"] == c["status"] == "queued"
        cfg = load_config(env={}, overrides={"lease_s": 5.0})
        from dataclasses import replace

        cfg = replace(cfg, handlers=tuple(replace(h, type="inline") for h in cfg.handlers))
        Backend(cfg).run(burst=True)
        for job in (q, c):
            status, st = http(f"{srv.url}/api/task/{job['jobId']}?wait=5")
            assert (status, st["status"], st["result"]) == (200, "finished", None), st


def test_a_second_request_joins_the_running_job_inline(store_dir):
    _gate.clear()
    with running_server(inline=True) as srv:
        _, first = http(f"{srv.url}/api/task", body=task("where", wait=0, tag="join"))
        _, second = http(f"{srv.url}/api/task", body=task("where", wait=0, tag="join"))
        assert first["jobId"] == second["jobId"] and second["status"] in ("queued", "running")
        _gate.set()
        _, done = http(f"{srv.url}/api/task/{first['jobId']}?wait=10")
        assert done["status"] == "finished"
        assert open_channel(INLINE_CHANNEL).get(first["jobId"]).attempts == 1
