"""The HTTP API against a real waitress server: tasks with long-poll, store files, feeds, bad requests.

Tasks here run inline in the server (``inline=True``) with small tasks registered by this module, so the
HTTP behaviour is tested apart from the compute catalogue; the browser tests use the real backend.
"""
from __future__ import annotations

import threading
import time
import urllib.request

import numpy as np
import pytest
from test_server_support import http, running_server

from sortingview import store
from sortingview.errors import TaskError
from sortingview.serialize import decode_value
from sortingview.tasks import list_tasks, register_task, registry

_release = threading.Event()


def ramp(n: int, scale: float = 1.0) -> dict:
    return {"n": n, "values": np.arange(n, dtype="float32") * scale}


def fails(why: str) -> dict:
    raise TaskError(f"failed on purpose: {why}", traceback="Traceback: on purpose")


def slow(token: str) -> dict:
    _release.wait(30)
    return {"token": token}


@pytest.fixture(scope="module", autouse=True)
def test_tasks():
    """This module's tasks, registered for its tests only (the registry is restored afterwards)."""
    list_tasks()  # the built-ins first
    saved = registry._registry
    registry._registry = dict(saved)
    register_task("sortingview.test_server_ramp.1", handler="misc")(ramp)
    register_task("sortingview.test_server_fails.1", handler="misc", task_type="query")(fails)
    register_task("sortingview.test_server_slow.1", handler="misc", task_type="query")(slow)
    yield
    registry._registry = saved


@pytest.fixture
def server(store_dir):
    with running_server(inline=True) as srv:
        yield srv


def test_task_result_comes_back_encoded_and_cached(server):
    status, r = http(f"{server.url}/api/task", body={"taskName": "sortingview.test_server_ramp.1",
                                                      "taskInput": {"n": 500, "scale": 2}})
    assert status == 200 and r["status"] == "finished"
    assert r["result"]["values"]["_type"] == "ndarray"
    np.testing.assert_array_equal(decode_value(r["result"])["values"], np.arange(500) * 2.0)
    # a second request for the same calculation is answered from task_results/ with the same job id
    _, again = http(f"{server.url}/api/task", body={"taskName": "sortingview.test_server_ramp.1",
                                                    "taskInput": {"n": 500, "scale": 2.0}})
    assert again["jobId"] == r["jobId"] and again["status"] == "finished"


def test_long_poll_returns_when_the_task_finishes(server):
    _release.clear()
    status, r = http(f"{server.url}/api/task", body={"taskName": "sortingview.test_server_slow.1",
                                                      "taskInput": {"token": "t1"}, "waitSec": 0})
    assert status == 200 and r["status"] in ("queued", "running")
    threading.Timer(0.3, _release.set).start()
    t0 = time.monotonic()
    status, done = http(f"{server.url}/api/task/{r['jobId']}?wait=10")
    assert status == 200 and done["status"] == "finished" and done["result"] == {"token": "t1"}
    assert time.monotonic() - t0 < 5


def test_task_error_is_reported_with_traceback(server):
    status, r = http(f"{server.url}/api/task", body={"taskName": "sortingview.test_server_fails.1",
                                                      "taskInput": {"why": "testing"}})
    assert status == 200 and r["status"] == "error"
    assert "failed on purpose: testing" in r["error"] and "on purpose" in r["traceback"]


BAD_TASK_REQUESTS = [
    ({"taskName": "sortingview.no_such_task.1", "taskInput": {}}, "unknown task 'sortingview.no_such_task.1'"),
    ({"taskName": "sortingview.test_server_ramp.1", "taskInput": {"n": "ten"}}, "'n' must be int"),
    ({"taskName": "sortingview.test_server_ramp.1", "taskInput": {"n": 3, "bogus": 1}}, "no input field(s) 'bogus'"),
    ({"taskName": "sortingview.test_server_ramp.1", "taskInput": {}}, "needs input field 'n'"),
    ({"taskName": "sortingview.test_server_ramp.1", "taskInput": [1, 2]}, "'taskInput' must be a dict"),
    ({"taskName": 12, "taskInput": {}}, "'taskName' must be a str"),
    ({"taskInput": {}}, "lacks field(s) taskName"),
    ({"taskName": "sortingview.test_server_ramp.1", "taskInput": {"n": 1}, "waitSec": "x"}, "'waitSec'"),
    ({"taskName": "sortingview.test_server_ramp.1", "taskInput": {"n": 1}, "channel": "../x"}, "not a channel"),
    ([1, 2, 3], "must be a JSON object"),
]


@pytest.mark.parametrize("body,message", BAD_TASK_REQUESTS)
def test_bad_task_requests_get_400_with_a_clear_message(server, body, message):
    status, r = http(f"{server.url}/api/task", body=body)
    assert status == 400, r
    assert message in r["error"]
    assert http(f"{server.url}/api/backend-status")[0] == 200  # still serving


def test_malformed_json_and_oversized_bodies(server):
    status, r = http(f"{server.url}/api/task", raw=b'{"taskName": "x", ')
    assert status == 400 and "not valid JSON" in r["error"]
    status, r = http(f"{server.url}/api/task", raw=b"{" + b" " * (2 << 20) + b"}")
    assert status == 413 and "too large" in r["error"]
    status, r = http(f"{server.url}/api/task", raw=b"\xff\xfe", headers={"Content-Type": "application/json"})
    assert status == 400
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    status, r = http(f"{server.url}/api/task", raw=b"a=b", headers=form)
    assert status == 415 and "JSON" in r["error"]
    assert http(f"{server.url}/api/backend-status")[0] == 200


def test_store_files_by_sha1_are_served_read_only(server):
    uri = store.store_text("hello store")
    sha1 = uri[len("sha1://"):].split("?")[0]
    status, payload = http(f"{server.url}/api/file/{sha1}")
    assert status == 200 and payload == b"hello store"
    status, r = http(f"{server.url}/api/file/{sha1}", method="PUT", raw=b"x")
    assert status == 405
    status, part = http(f"{server.url}/api/file/{sha1}", headers={"Range": "bytes=6-10"})
    assert status == 206 and part == b"store"


def test_large_linked_files_are_streamed_not_loaded(server, tmp_path):
    import tracemalloc

    path = tmp_path / "big.bin"
    with open(path, "wb") as f:  # 64 MiB of seeded bytes, linked in place like a raw recording
        rng = np.random.default_rng(0)
        for _ in range(64):
            f.write(rng.bytes(1 << 20))
    sha1 = store.link_file(str(path))[len("sha1://"):].split("?")[0]
    tracemalloc.start()
    req = urllib.request.Request(f"{server.url}/api/file/{sha1}")
    total = 0
    with urllib.request.urlopen(req, timeout=60) as resp:
        while chunk := resp.read(1 << 20):
            total += len(chunk)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert total == 64 << 20
    assert peak < 16 << 20, f"serving a 64 MiB file peaked at {peak / 2**20:.0f} MiB of Python memory"
    assert http(f"{server.url}/api/file/{'0' * 40}")[0] == 404


@pytest.mark.parametrize("path", [
    "/api/file/not-a-hash", "/api/file/../../../etc/passwd", "/api/file/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/api/file/" + "g" * 40, "/api/file/" + "a" * 41,
])
def test_non_hex_hashes_and_traversal_are_refused(server, path):
    status, r = http(server.url + path)
    assert status == 400 and "sha1" in r["error"]


@pytest.mark.parametrize("path", ["/viewer/../../setup.py", "/viewer/%2e%2e/%2e%2e/setup.py",
                                  "/viewer/..%2f..%2fsetup.py", "/viewer/templates/home.html"])
def test_viewer_files_cannot_escape_their_folder(server, path):
    status, payload = http(server.url + path)
    assert status == 404
    assert b"setup(" not in payload


def test_feed_reads_and_long_poll(server):
    feed = store.create_feed()
    feed.append_message({"type": "HELLO"}, user_id="alice")
    fid = feed.feed_id
    status, r = http(f"{server.url}/api/feed/{fid}")
    assert status == 200 and r["records"][0]["message"] == {"type": "HELLO"}
    assert r["records"][0]["userId"] == "alice"
    threading.Timer(0.3, lambda: feed.append_message({"type": "LATER"})).start()
    status, r = http(f"{server.url}/api/feed/{fid}?start=1&wait=10")
    assert [x["message"]["type"] for x in r["records"]] == ["LATER"]
    assert http(f"{server.url}/api/feed/{'ab' * 20}")[0] == 404
    assert http(f"{server.url}/api/feed/..%2F..%2Fx")[0] == 400
    assert http(f"{server.url}/api/feed/{fid}?start=-1")[0] == 400


def test_figure_page_validates_its_parameters(server):
    status, page = http(f"{server.url}/f?v=unknown-1&d=sha1://{'a' * 40}")
    assert status == 400 and b"unknown figure type v=&#x27;unknown-1&#x27;" in page  # a page, for a person
    status, page = http(f"{server.url}/f?v=spikesortingview-1&d=sha1://abc")
    assert status == 400 and b"40-character" in page and b"<script" not in page
    status, page = http(f"{server.url}/f?v=<script>alert(1)</script>&d=x")
    assert status == 400 and b"<script>" not in page
    status, r = http(f"{server.url}/api/figure?d=sha1://{'a' * 40}")
    assert status == 404
    not_figure = store.store_json({"hello": 1})
    status, r = http(f"{server.url}/api/figure?d={not_figure}")
    assert status == 400 and "not spikesortingview figure data" in r["error"]


def test_shutdown_ends_pending_long_polls_quickly(store_dir):
    _release.clear()
    with running_server(inline=True) as srv:
        _, r = http(f"{srv.url}/api/task", body={"taskName": "sortingview.test_server_slow.1",
                                                   "taskInput": {"token": "t2"}, "waitSec": 0})
        results = []
        poller = threading.Thread(target=lambda: results.append(http(f"{srv.url}/api/task/{r['jobId']}?wait=25")))
        poller.start()
        time.sleep(0.3)  # let the long-poll reach the server; nothing to await from outside
        t0 = time.monotonic()
    assert time.monotonic() - t0 < 8
    _release.set()
    poller.join(10)
    assert results and results[0][0] == 200 and results[0][1]["status"] in ("queued", "running")


def test_many_long_polls_do_not_starve_other_requests(server):
    _release.clear()
    _, r = http(f"{server.url}/api/task", body={"taskName": "sortingview.test_server_slow.1",
                                                 "taskInput": {"token": "many"}, "waitSec": 0})
    feed = store.create_feed()
    pollers = [threading.Thread(target=http, args=(f"{server.url}/api/task/{r['jobId']}?wait=5",)) for _ in range(12)]
    pollers += [threading.Thread(target=http, args=(f"{server.url}/api/feed/{feed.feed_id}?wait=5",))
                for _ in range(12)]
    for t in pollers:
        t.start()
    t0 = time.monotonic()
    assert http(f"{server.url}/api/backend-status")[0] == 200
    assert time.monotonic() - t0 < 2
    _release.set()
    feed.append_message({"type": "WAKE"})
    for t in pollers:
        t.join(15)


def test_tasks_go_to_the_named_channel_with_the_server_backend_id(store_dir):
    from sortingview.backend.channel import open_channel

    task = {"taskName": "sortingview.sorting_info.1", "taskInput": {"sorting": f"sha1://{'c' * 40}"}, "waitSec": 0}
    # the real backend runner; no worker is running, so the channel is one the server is configured with
    with running_server(backend_id="lab-secret", channels=["lab-b"]) as srv:
        status, r = http(f"{srv.url}/api/task", body={**task, "channel": "lab-b"})
        assert status == 200 and r["status"] == "queued"
        status, st = http(f"{srv.url}/api/task/{r['jobId']}?channel=lab-b&wait=0.2")
        assert st["status"] == "queued"
        assert http(f"{srv.url}/api/backend-status?channel=lab-b")[1]["numQueued"] == 1
        assert http(f"{srv.url}/api/backend-status")[1]["numQueued"] == 0
        assert open_channel("lab-b").get(r["jobId"]).backend_id == "lab-secret"
        # a request that says "no backend id" gets none
        status, r2 = http(f"{srv.url}/api/task", body={**task, "channel": "lab-b", "backendId": None})
        assert open_channel("lab-b").get(r2["jobId"]).backend_id in ("", None)
        assert http(f"{srv.url}/api/task/{'e' * 40}?wait=0")[0] == 404


@pytest.mark.redis
def test_a_server_on_a_redis_channel_queues_there(store_dir, redis_url):
    from sortingview.backend.channel import open_channel

    task = {"taskName": "sortingview.sorting_info.1", "taskInput": {"sorting": f"sha1://{'d' * 40}"}, "waitSec": 0}
    with running_server(channel_url=redis_url) as srv:
        status, r = http(f"{srv.url}/api/task", body=task)
        assert status == 200 and r["status"] == "queued"
        st = http(f"{srv.url}/api/backend-status")[1]
        assert st["numQueued"] == 1 and st["channelUrl"].startswith("redis://")
    assert open_channel("default", redis_url).get(r["jobId"]).status == "queued"


def test_a_changed_linked_file_is_refused_not_served(server, tmp_path):
    path = tmp_path / "traces.bin"
    path.write_bytes(b"\x01" * 4096)
    sha1 = store.link_file(str(path))[len("sha1://"):].split("?")[0]
    path.write_bytes(b"\x02" * 100)  # truncated after linking
    status, r = http(f"{server.url}/api/file/{sha1}")
    assert status == 409 and "changed size" in r["error"]
