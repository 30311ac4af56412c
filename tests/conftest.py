"""Shared fixtures: an isolated store per test, real redis-server and chromium when present.

Tests that need Chromium or Redis skip with a reason when those are missing, and fail instead when
SORTINGVIEW_REQUIRE_ALL=1 (as .ci/run sets it).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time

import pytest

REQUIRE_ALL = os.environ.get("SORTINGVIEW_REQUIRE_ALL") == "1"
CHROMIUM = os.environ.get("SORTINGVIEW_CHROMIUM", "/usr/bin/chromium")


def skip_or_fail(reason: str) -> None:
    """Skip the test, or fail it when SORTINGVIEW_REQUIRE_ALL=1."""
    if REQUIRE_ALL:
        pytest.fail(f"{reason} (SORTINGVIEW_REQUIRE_ALL=1, so this is a failure, not a skip)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def store_dir(tmp_path, monkeypatch):
    """A fresh store directory as $KACHERY_CLOUD_DIR (inherited by subprocesses the test starts)."""
    d = tmp_path / "kachery-cloud"
    d.mkdir()
    monkeypatch.setenv("KACHERY_CLOUD_DIR", str(d))
    monkeypatch.delenv("KACHERY_CLOUD_MULTI_USER", raising=False)
    return d


@pytest.fixture
def chromium_path():
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        skip_or_fail(f"Chromium not found at {CHROMIUM}; install it with `apt-get install -y chromium`")
    try:
        import playwright  # noqa: F401
    except ImportError:
        skip_or_fail("the playwright package is missing; install it with `pip install -e '.[test]'`")
    return CHROMIUM


@pytest.fixture
def browser(chromium_path):
    """Headless Chromium for one test (modules that share one across tests define their own)."""
    from test_browser_support import chromium_browser

    with chromium_browser(chromium_path) as b:
        yield b


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A real redis-server on a free loopback port for the whole session; yields its base URL."""
    exe = shutil.which("redis-server")
    if exe is None:
        skip_or_fail("redis-server not found; install it with `apt-get install -y redis-server`")
    try:
        import redis
    except ImportError:
        skip_or_fail("the redis package is missing; install it with `pip install -e '.[redis]'`")
    port = free_port()
    d = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(d)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("redis-server did not start within 10 s")
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def redis_url(redis_server, request):
    """A redis URL with a database of its own, flushed before the test."""
    import redis

    url = f"{redis_server}/1"
    redis.Redis.from_url(url).flushdb()
    return url
