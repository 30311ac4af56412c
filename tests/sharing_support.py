"""Helpers for the sharing tests: a store A with a dataset, real server processes, and misbehaving peers.

(No tests here.) Misbehaving peers are tiny HTTP servers of the test's own, in threads, that relay what the
real server A answers but change it: one flips bytes, one breaks the connection after N bytes.
"""
from __future__ import annotations

import contextlib
import http.server
import os
import shutil
import signal
import subprocess
import threading
import time
import urllib.request
from typing import Callable, Iterator

from conftest import free_port
from test_browser_support import write_inline_config


@contextlib.contextmanager
def server_process(store: str, workdir: str, *, peers: str = "", workers: bool = False,
                   args: tuple[str, ...] = ()) -> Iterator[str]:
    """``sortingview-start-backend`` serving ``store`` on a free port (inline task handlers when ``workers``;
    ``args``: more options, e.g. ``("--private",)``)."""
    exe = shutil.which("sortingview-start-backend")
    assert exe, "sortingview-start-backend is not installed (pip install -e .)"
    port = free_port()
    env = {**os.environ, "KACHERY_CLOUD_DIR": store, "SORTINGVIEW_PEERS": peers}
    cfg = write_inline_config(os.path.join(workdir, f"handlers-{port}.yaml"))
    cmd = [exe, "--port", str(port), "--config", cfg, "--channel", f"sharing{port}"]
    log_path = os.path.join(workdir, f"server-{port}.log")
    with open(log_path, "w") as log:
        cmd += list(args) + ([] if workers else ["--no-workers"])
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_up(proc, url, log_path)
            yield url
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def _wait_up(proc: subprocess.Popen, url: str, log_path: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the server exited with {proc.returncode}: {open(log_path).read()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/api/backend-status", timeout=5) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)  # polling a process that is starting up: there is no event to await
    raise AssertionError(f"no server at {url} after {timeout} s: {open(log_path).read()[-3000:]}")


class QuietHandler(http.server.BaseHTTPRequestHandler):
    """A request handler of the tests' own servers: HTTP/1.1 keep-alive, no request log."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve_in_thread(handler: type) -> Iterator[str]:
    """A threading HTTP server of ``handler`` on a free loopback port; yields its URL, then stops and joins."""
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(10)


@contextlib.contextmanager
def relay_peer(upstream: str, body_filter: Callable[[str, bytes], bytes] | None = None,
               drop_after: int | None = None) -> Iterator[str]:
    """A peer that relays GETs to ``upstream`` (Range included); ``body_filter(path, body)`` changes the bytes,
    ``drop_after`` closes the connection after that many body bytes of a file."""

    class Handler(QuietHandler):
        def do_GET(self):  # noqa: N802 (the http.server naming)
            hdrs = {k: v for k, v in self.headers.items() if k.lower() in ("range", "authorization")}
            req = urllib.request.Request(upstream + self.path, headers=hdrs)
            try:
                resp = urllib.request.urlopen(req, timeout=30)
            except urllib.error.HTTPError as exc:
                resp = exc
            body = resp.read()
            if body_filter and self.path.startswith("/api/file/"):
                body = body_filter(self.path, body)
            self.send_response(resp.status)
            for k in ("Content-Type", "Content-Range", "X-Sortingview-Manifest-Sha1"):
                if resp.headers.get(k):
                    self.send_header(k, resp.headers[k])
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if drop_after is not None and self.path.startswith("/api/file/"):
                self.wfile.write(body[:drop_after])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self.wfile.write(body)


    import urllib.error  # noqa: F401 (used in the handler)

    with serve_in_thread(Handler) as url:
        yield url


@contextlib.contextmanager
def lying_peer(upstream: str) -> Iterator[str]:
    """A peer that serves every file with all bits inverted, and chunk manifests of those inverted bytes:
    each chunk matches its manifest, only the whole file does not match its sha1."""
    import hashlib
    import re
    import urllib.parse

    class Handler(QuietHandler):
        def do_GET(self):  # noqa: N802 (the http.server naming)
            url = urllib.parse.urlsplit(self.path)
            sha1 = url.path.rsplit("/", 1)[-1]
            with urllib.request.urlopen(f"{upstream}/api/file/{sha1}", timeout=30) as resp:
                inverted = bytes(b ^ 0xFF for b in resp.read())
            status, headers, body = 200, {}, inverted
            if url.path.startswith("/api/manifest/"):
                chunk = int(urllib.parse.parse_qs(url.query)["chunk"][0])
                digests = b"".join(hashlib.sha1(inverted[i:i + chunk]).digest()
                                   for i in range(0, len(inverted), chunk))
                body = b"sortingview-chunk-manifest 1 %s %d %d\n" % (sha1.encode(), len(inverted), chunk) + digests
            elif m := re.match(r"bytes=(\d+)-(\d*)", self.headers.get("Range", "")):
                first, last = int(m.group(1)), int(m.group(2) or len(inverted) - 1)
                status, body = 206, inverted[first:last + 1]
                headers["Content-Range"] = f"bytes {first}-{last}/{len(inverted)}"
            self.send_response(status)
            for k, v in {**headers, "Content-Length": str(len(body))}.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)


    with serve_in_thread(Handler) as url:
        yield url


def flip_bytes(path: str, body: bytes) -> bytes:
    """Every 1000th byte of the body inverted: same length, different content."""
    data = bytearray(body)
    data[::1000] = bytes(b ^ 0xFF for b in data[::1000])
    return bytes(data)


def received_bytes(store: str) -> int:
    """What a store holds: its files, plus the disk blocks of its sparse chunk caches (only what was written)."""
    total = 0
    for root, _dirs, files in os.walk(os.path.join(store, "sha1")):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    remote = os.path.join(store, "sortingview", "remote")
    for name in os.listdir(remote) if os.path.isdir(remote) else []:
        total += os.stat(os.path.join(remote, name)).st_blocks * 512
    return total


def assert_manifest_of(manifest, path: str) -> None:
    """``manifest`` describes the file at ``path``: every chunk checks, a chunk with one byte changed does not,
    and the entries are what they must be, computed here independently: each chunk's sha1 (version 1), or
    the file's SHA-1 chaining value after each chunk by the numba SHA-1 and the file's sha1 last (version 2)."""
    import hashlib

    import numpy as np

    from sortingview.store import sha1_chain

    with open(path, "rb") as f:
        chunks = list(iter(lambda: f.read(manifest.chunk_size), b""))
    assert manifest.num_chunks == len(chunks) and manifest.size == sum(map(len, chunks))
    state = sha1_chain.IV.copy()
    for i, chunk in enumerate(chunks):
        entry = manifest.digests[20 * i:20 * i + 20]
        if manifest.version == 1:
            assert entry == hashlib.sha1(chunk).digest()
        else:
            assert entry == sha1_chain._check_numba(state, i * manifest.chunk_size, np.frombuffer(chunk, np.uint8),
                                                    i == len(chunks) - 1)
        assert manifest.check(i, chunk)
        spoiled = bytearray(chunk)
        spoiled[len(spoiled) // 2] ^= 0x10
        assert not manifest.check(i, bytes(spoiled))
    if manifest.version == 2 and chunks:
        assert manifest.digests[-20:].hex() == manifest.sha1
