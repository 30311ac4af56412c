"""Requests that never end or take too much: each attack against a real server, then shown refused.

The server here runs the real backend runner with no worker, so a submitted task stays queued: a long-poll
on it waits for its whole deadline, and a client's queued jobs stay queued until the test ends them.
"""
from __future__ import annotations

import os
import threading
import time

import pytest
from test_server_support import request, running_server

from sortingview.backend.channel import MAX_OPEN_CHANNELS, open_channel

SORTING_INFO = "sortingview.sorting_info.1"


def _task(i: int = 0) -> dict:
    return {"taskName": SORTING_INFO, "taskInput": {"sorting": f"sha1://{i:040x}"}, "waitSec": 0}


def _wait_until(cond, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


@pytest.fixture
def server(store_dir):
    with running_server() as srv:
        yield srv


@pytest.fixture
def queued_job(server):
    status, _, r = request(f"{server.url}/api/task", method="POST", body=_task())
    assert status == 200 and r["status"] == "queued"
    return r["jobId"]


@pytest.mark.parametrize("wait", ["nan", "NaN", "inf", "-inf", "infinity", "-1", "26", "1e308", "1e999",
                                  "\u0661\u0662", "\u00b2", "0x10", " 5", "5\n", ""])
def test_a_wait_that_is_not_a_finite_number_in_range_is_400(server, queued_job, wait):
    from urllib.parse import quote

    status, _, r = request(f"{server.url}/api/task/{queued_job}?wait={quote(wait)}", timeout=10)
    assert status == 400 and "wait=" in r["error"] and "from 0 to 25" in r["error"]


@pytest.mark.parametrize("raw", [b'NaN', b'Infinity', b'-Infinity', b'1e400', b'-1', b'1e9', b'"5"', b'true'])
def test_a_wait_sec_that_is_not_a_finite_number_in_range_is_400(server, raw):
    body = b'{"taskName": "%s", "taskInput": {"sorting": "sha1://%s"}, "waitSec": %s}' % (
        SORTING_INFO.encode(), b"a" * 40, raw)
    status, _, r = request(f"{server.url}/api/task", method="POST", raw=body, timeout=10)
    assert status == 400, r
    assert "waitSec" in r["error"] or "not a number JSON allows" in r["error"] or "finite" in r["error"]


def test_fifty_nan_long_polls_at_once_leave_the_server_answering(server, queued_job):
    results: list[int] = []

    def poll(i: int) -> None:
        if i % 2:
            results.append(request(f"{server.url}/api/task/{queued_job}?wait=nan", timeout=30)[0])
        else:
            raw = b'{"taskName": "%s", "taskInput": {"sorting": "sha1://%s"}, "waitSec": NaN}' % (
                SORTING_INFO.encode(), b"b" * 40)
            results.append(request(f"{server.url}/api/task", method="POST", raw=raw, timeout=30)[0])

    threads = [threading.Thread(target=poll, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == [400] * 50
    t0 = time.monotonic()
    assert request(f"{server.url}/api/backend-status", timeout=10)[0] == 200
    assert time.monotonic() - t0 < 5


def test_long_polls_are_bounded_per_client_and_in_total(store_dir):
    # 12 threads: long-polls may hold 4 of them, 3 from one client address
    with running_server(threads=12) as srv:
        _, _, r = request(f"{srv.url}/api/task", method="POST", body=_task(1))
        url = f"{srv.url}/api/task/{r['jobId']}?wait=20"
        slots = srv.app.config["SV"].long_polls
        pollers = [threading.Thread(target=request, args=(url,)) for _ in range(3)]
        for t in pollers:
            t.start()
        _wait_until(lambda: slots.count("127.0.0.1") == 3)
        status, headers, body = request(url, timeout=10)
        assert status == 429 and headers["retry-after"] == "2" and "already has 3 requests waiting" in body["error"]
        # another address still gets the last slot; a third address finds the server full
        other = threading.Thread(target=request, args=(url,), kwargs={"source": "127.0.0.2"})
        other.start()
        _wait_until(lambda: slots.count("127.0.0.2") == 1)
        status, headers, body = request(url, source="127.0.0.3", timeout=10)
        assert status == 503 and headers["retry-after"] == "2"
        # a submission without a free slot is still queued, and answered at once with its status
        status, _, st = request(f"{srv.url}/api/task", method="POST", body={**_task(2), "waitSec": 20}, timeout=10)
        assert status == 200 and st["status"] == "queued"
        # everything else still answers: the slots leave threads free
        assert request(f"{srv.url}/api/backend-status", timeout=10)[0] == 200
        assert request(f"{srv.url}/viewer/js/main.js", timeout=10)[0] == 200
    for t in [*pollers, other]:
        t.join(15)


@pytest.mark.parametrize("raw, message", [
    (b"[" * 100_000, "nests too deeply"),
    (b'{"taskName": "x", "taskInput": ' + b'{"a": ' * 40 + b"1" + b"}" * 40 + b"}", "nests too deeply"),
    (b'{"taskName": "x", "taskInput": {"a": 1e999}}', "finite number"),
    (b'{"taskName": "x", "taskInput": {"a": ' + b"9" * 5000 + b"}}", "not valid JSON"),
    (b'{"taskName": "x", "taskInput": {"a": \xd9\xa1}}', "not valid JSON"),
    (b"\xff\xfe{}", "not valid JSON"),
], ids=["array-100000-deep", "input-40-deep", "1e999", "5000-digits", "arabic-indic-digit", "not-utf8"])
def test_deep_nesting_huge_numbers_and_odd_digits_are_400(server, raw, message):
    status, _, r = request(f"{server.url}/api/task", method="POST", raw=raw, timeout=10)
    assert status == 400 and message in r["error"]


@pytest.mark.parametrize("method, path, body", [
    ("GET", "/api/feed/abc?start=%D9%A1", None),
    ("GET", "/api/feed/abc?start=99999999999999999999", None),
    ("GET", "/api/feed/abc?start=-1", None),
    ("GET", "/api/feed/abc?wait=nan", None),
    ("GET", "/api/feed/%00?start=0", None),
    ("GET", "/api/figure?d=sha1://%ff%fe", None),
    ("GET", "/api/curation?workspace=%ff&sortingId=x", None),
    ("GET", "/f?v=spikesortingview-1&d=%00", None),
    ("POST", "/api/signin", {"token": "alice:\ud800"}),
    ("POST", "/api/signin", {"token": "x" * 100_000}),
    ("POST", "/api/curation", {"workspace": ["x"], "sortingId": {}, "action": 1}),
    ("GET", "/api/whoami", None),
])
def test_odd_input_is_a_client_error_never_a_500(server, method, path, body):
    headers = {"Authorization": "Bearer nobody:\u00e9"} if path == "/api/whoami" else {}
    status, _, _ = request(f"{server.url}{path}", method=method, body=body, headers=headers, timeout=10)
    assert 400 <= status < 500


def _channel_files(store_dir) -> set[str]:
    return {os.path.join(d, f) for d, _, files in os.walk(store_dir) for f in files}


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_requests_naming_unknown_channels_are_404_and_create_nothing(server, queued_job, store_dir):
    files, fds = _channel_files(store_dir), _open_fds()
    for i in range(100):
        name = f"made-up-{i}"
        status, _, r = request(f"{server.url}/api/task/{queued_job}?channel={name}&wait=0")
        assert status == 404 and f"no channel {name!r}" in r["error"]
        assert request(f"{server.url}/api/task", method="POST", body={**_task(3), "channel": f"{name}-p"})[0] == 404
        assert request(f"{server.url}/api/backend-status?channel={name}-s")[0] == 404
    assert _channel_files(store_dir) == files  # 300 names, not one channel database
    assert _open_fds() <= fds + 5


def test_a_channel_a_live_backend_serves_may_be_selected(server, store_dir):
    lab = open_channel("lab-c")  # what `sortingview-start-backend --channel lab-c` does
    lab.put_backend("worker-1", {"backendId": None})
    status, _, r = request(f"{server.url}/api/task", method="POST", body={**_task(4), "channel": "lab-c"})
    assert status == 200 and r["status"] == "queued" and lab.get(r["jobId"]).status == "queued"
    lab.put_backend("worker-1", None)  # the backend stopped
    server.app.config["SV"].channels.recheck_s = 0
    assert request(f"{server.url}/api/task", method="POST", body={**_task(5), "channel": "lab-c"})[0] == 404


def test_open_channel_handles_are_bounded(store_dir):
    from sortingview.backend import channel as channels

    fds = _open_fds()
    for i in range(3 * MAX_OPEN_CHANNELS):
        open_channel(f"script-{i}").stats()  # a careless script using a new channel each time
    assert len(channels._cache) <= MAX_OPEN_CHANNELS
    assert _open_fds() <= fds + 3 * MAX_OPEN_CHANNELS + 5  # a SQLite channel holds 3: database, WAL, index


def test_a_client_that_floods_the_queue_is_answered_429(store_dir):
    with running_server(max_queued_per_client=5) as srv:
        jobs = []
        for i in range(5):
            status, _, r = request(f"{srv.url}/api/task", method="POST", body=_task(10 + i))
            assert status == 200 and r["status"] == "queued"
            jobs.append(r["jobId"])
        status, headers, r = request(f"{srv.url}/api/task", method="POST", body=_task(20))
        assert status == 429 and "Retry-After" in {k.title(): v for k, v in headers.items()}
        assert "5 tasks queued or running" in r["error"]
        # another client is not held back by the first one's jobs
        assert request(f"{srv.url}/api/task", method="POST", body=_task(21), source="127.0.0.2")[0] == 200
        # once jobs end, the client may submit again
        chan = open_channel("default")
        claimed = chan.claim("test-worker", {"misc": 2})
        assert len(claimed) == 2
        for rec in claimed:
            chan.fail("test-worker", rec.job_id, "ended by the test")
        assert request(f"{srv.url}/api/task", method="POST", body=_task(22))[0] == 200
        assert request(f"{srv.url}/api/task", method="POST", body=_task(23))[0] == 200
        assert request(f"{srv.url}/api/task", method="POST", body=_task(24))[0] == 429
