"""Links follow the running server: `sortingview-start-backend --port P` records its URL in the store, and links
made by scripts on that store name port P; SORTINGVIEW_URL still overrides; a dead server's record is ignored."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import free_port
from datasets import make_dataset

import sortingview as sv
from sortingview.live_server import live_server_url, record_path
from sortingview.workspace.figurl import default_base_url

LINK_SCRIPT = (
    "import sys, sortingview as sv\n"
    "W = sv.load_workspace(sys.argv[1])\n"
    "s = W.sorting_records()[0]\n"
    "print(W.spikesortingview(recording_id=s['recordingId'], sorting_id=s['sortingId'], label='from a script'))\n"
)


def _wait_until_serving(proc: subprocess.Popen, port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the backend exited with {proc.returncode}: {proc.stderr.read()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/backend-status", timeout=5):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"no server on port {port} after {timeout} s")


def _link_from_script(uri: str, **env) -> str:
    full = {k: v for k, v in os.environ.items() if k != "SORTINGVIEW_URL"} | env
    r = subprocess.run([sys.executable, "-c", LINK_SCRIPT, uri], capture_output=True, text=True, timeout=120,
                       env=full)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


@pytest.fixture
def workspace_uri(store_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("SORTINGVIEW_URL", raising=False)
    d = make_dataset(tmp_path, seed=5, num_channels=4, durations=1.0, num_units=2)
    W = sv.create_workspace(label="links")
    rid = W.add_recording(label="rec", recording=d.recording)
    W.add_sorting(recording_id=rid, label="sorted", sorting=d.sorting)
    return W.uri


@pytest.mark.slow
def test_links_made_by_a_script_name_the_port_of_the_running_server(workspace_uri, store_dir):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "SORTINGVIEW_URL"}
    proc = subprocess.Popen(["sortingview-start-backend", "--no-workers", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_until_serving(proc, port)
        record = json.loads(open(record_path()).read())
        assert record["url"] == f"http://127.0.0.1:{port}" and record["pid"] == proc.pid
        assert default_base_url() == f"http://127.0.0.1:{port}"
        assert _link_from_script(workspace_uri).startswith(f"http://127.0.0.1:{port}/f?v=spikesortingview-1&d=")
        # SORTINGVIEW_URL still says how others reach the server
        shared = _link_from_script(workspace_uri, SORTINGVIEW_URL="http://lab-server:8080")
        assert shared.startswith("http://lab-server:8080/f?")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    assert proc.returncode == 0
    assert not os.path.exists(record_path())  # removed on a clean exit
    assert _link_from_script(workspace_uri).startswith("http://127.0.0.1:15310/f?")


def _write_record(**fields) -> None:
    os.makedirs(os.path.dirname(record_path()), exist_ok=True)
    with open(record_path(), "w") as f:
        json.dump({"url": "http://127.0.0.1:41234", "pid": os.getpid(), "hostname": socket.gethostname(),
                   "started": time.time(), **fields}, f)


def test_a_record_is_used_only_while_its_server_lives_on_this_host(store_dir, monkeypatch):
    monkeypatch.delenv("SORTINGVIEW_URL", raising=False)
    assert live_server_url() is None and default_base_url() == "http://127.0.0.1:15310"
    _write_record()  # this (live) process
    assert default_base_url() == "http://127.0.0.1:41234"
    monkeypatch.setenv("SORTINGVIEW_URL", "http://lab:1/")
    assert default_base_url() == "http://lab:1"
    monkeypatch.delenv("SORTINGVIEW_URL")

    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    _write_record(pid=int(done.stdout))  # a server that was killed: its pid is gone
    assert live_server_url() is None and default_base_url() == "http://127.0.0.1:15310"
    _write_record(hostname="another-host-sharing-the-store")
    assert live_server_url() is None
    _write_record(url="javascript:alert(1)")
    assert live_server_url() is None
    with open(record_path(), "w") as f:
        f.write("{not json")
    assert live_server_url() is None


def test_help_says_how_links_are_made():
    out = subprocess.run(["sortingview-start-backend", "--help"], capture_output=True, text=True, timeout=60).stdout
    flat = " ".join(out.split())
    assert "server.json" in flat and "SORTINGVIEW_URL" in flat and "http://127.0.0.1:15310" in flat
