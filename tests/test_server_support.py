"""Helpers for the server, auth, viewer and browser tests: a real server on a free port, and plain HTTP.

(No tests here; the name puts it among the files of the server issue.)
"""
from __future__ import annotations

import contextlib
import json
import threading
import urllib.error
import urllib.request
from typing import Any, Iterator

from sortingview.server import SortingviewServer, create_server


@contextlib.contextmanager
def running_server(host: str = "127.0.0.1", **kwargs) -> Iterator[SortingviewServer]:
    """A real waitress server on ``host`` (127.0.0.1) and a free port, in a thread; shut down and joined on exit."""
    srv = create_server(host, 0, **kwargs)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        thread.join(10)
        assert not thread.is_alive(), "server thread did not stop"


def http(url: str, *, method: str | None = None, body: Any = None, raw: bytes | None = None,
         headers: dict | None = None, timeout: float = 60) -> tuple[int, Any]:
    """(status, parsed JSON or bytes) of one request; HTTP errors are returned, not raised."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, payload, ctype = resp.status, resp.read(), resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        status, payload, ctype = exc.code, exc.read(), exc.headers.get("Content-Type", "")
    if "json" in ctype:
        return status, json.loads(payload)
    return status, payload


def request(url: str, *, method: str = "GET", body: Any = None, raw: bytes | None = None,
            headers: dict | None = None, source: str | None = None, timeout: float = 60) -> tuple[int, dict, Any]:
    """(status, headers, parsed JSON or bytes) of one request sent exactly as given (the Host header too).

    ``source``: the loopback address to send from (e.g. "127.0.0.2"), so one test can be several clients.
    """
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout,
                                      source_address=(source, 0) if source else None)
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    hdrs = {"Content-Type": "application/json"} if data is not None else {}
    hdrs.update(headers or {})
    try:
        conn.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body=data, headers=hdrs)
        resp = conn.getresponse()
        payload, got = resp.read(), {k.lower(): v for k, v in resp.getheaders()}
    finally:
        conn.close()
    if "json" in got.get("content-type", ""):
        return resp.status, got, json.loads(payload)
    return resp.status, got, payload
