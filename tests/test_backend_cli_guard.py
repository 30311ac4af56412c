"""`sortingview-start-backend --allowed-host` and `--max-queued-per-client` reach the server it starts."""
from __future__ import annotations

import http.client
import json
import subprocess
import sys
import time

import pytest
from conftest import free_port


def _start(args: list[str], env_extra: dict | None = None) -> tuple[subprocess.Popen, int]:
    import os

    port = free_port()
    cmd = [sys.executable, "-c", "from sortingview.cli.backend_cmds import start_backend; start_backend()",
           "--no-workers", "--port", str(port), *args]
    proc = subprocess.Popen(cmd, env={**os.environ, **(env_extra or {})}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the backend exited with {proc.returncode}: {proc.stderr.read()}")
        try:
            if _get(port, "127.0.0.1")[0] == 200:
                return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    pytest.fail("no server after 60 s")


def _get(port: int, host: str, path: str = "/api/backend-status") -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers={"Host": f"{host}:{port}"})
    r = conn.getresponse()
    return r.status, r.read()


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_allowed_host_flag_admits_that_host_only(store_dir):
    proc, port = _start(["--allowed-host", "lab-box.example"])
    try:
        assert _get(port, "lab-box.example")[0] == 200
        assert _get(port, "evil.example")[0] == 421
    finally:
        _stop(proc)


def test_allowed_hosts_from_the_environment_are_comma_separated(store_dir):
    proc, port = _start([], {"SORTINGVIEW_ALLOWED_HOSTS": "a.example,b.example"})
    try:
        assert _get(port, "a.example")[0] == 200
        assert _get(port, "b.example")[0] == 200
        assert _get(port, "c.example")[0] == 421
    finally:
        _stop(proc)


def test_max_queued_per_client_flag_answers_429_beyond_the_limit(store_dir):
    proc, port = _start(["--max-queued-per-client", "2"])
    try:
        codes = []
        for i in range(4):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            body = json.dumps({"taskName": "sortingview.sorting_info.1",
                               "taskInput": {"sorting": f"sha1://{i:040x}"}, "waitSec": 0})
            conn.request("POST", "/api/task", body=body, headers={"Content-Type": "application/json"})
            codes.append(conn.getresponse().status)
        assert codes[:2] == [200, 200] and codes[-1] == 429, codes
    finally:
        _stop(proc)


def test_max_queued_per_client_refuses_zero():
    from click.testing import CliRunner

    from sortingview.cli.backend_cmds import start_backend

    r = CliRunner().invoke(start_backend, ["--max-queued-per-client", "0"])
    assert r.exit_code == 2 and "max-queued-per-client" in r.output
