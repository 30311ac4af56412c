"""A small HTTP client for talking to peers: keep-alive connections, timeouts, bearer tokens, range requests.

Only the standard library (``http.client``), so sharing adds no dependency. One connection per peer and
thread is kept open, because a lazily read recording makes many small range requests.
"""
from __future__ import annotations

import http.client
import os
import re
import threading
import urllib.parse
from dataclasses import dataclass

from ..errors import SortingviewError

TIMEOUT_ENV = "SORTINGVIEW_PEER_TIMEOUT"
DEFAULT_TIMEOUT = 30.0  # seconds without a byte from the peer before a request is given up
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


class PeerError(SortingviewError):
    """A peer could not be reached or answered something other than the bytes asked for."""


@dataclass(frozen=True)
class Peer:
    """Another sortingview server (``url`` like ``http://lab-server:15310``) and the token to send it."""

    url: str
    token: str | None = None

    def __str__(self) -> str:
        return self.url


def check_peer_url(url: str) -> str:
    """``url`` without a trailing slash, or a PeerError saying what a peer URL looks like."""
    if not isinstance(url, str):
        raise PeerError(f"a peer URL must be a string, got {type(url).__name__}")
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise PeerError(f"{url!r} is not a peer URL; give the base URL of a sortingview server, like "
                        "http://lab-server:15310 (http or https, no query)")
    try:
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError as exc:
        raise PeerError(f"{url!r} is not a peer URL: {exc}") from None
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def timeout() -> float:
    raw = os.environ.get(TIMEOUT_ENV)
    try:
        return min(max(float(raw), 0.1), 3600.0) if raw else DEFAULT_TIMEOUT
    except ValueError:
        raise PeerError(f"{TIMEOUT_ENV}={raw!r} must be a number of seconds") from None


_local = threading.local()


def _connection(peer: Peer, fresh: bool) -> http.client.HTTPConnection:
    conns = _local.__dict__.setdefault("conns", {})
    conn = conns.get(peer.url)
    last = _local.__dict__.setdefault("last", {}).pop(peer.url, None)
    if last is not None and not last.will_close and last.length:
        fresh = True  # the last answer was not read to its end: its rest would be taken for the next one
    if conn is None or fresh:
        if conn is not None:
            conn.close()
        parts = urllib.parse.urlsplit(peer.url)
        cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        conn = conns[peer.url] = cls(parts.hostname, parts.port, timeout=timeout())
    return conn


def request(peer: Peer, method: str, path: str, headers: dict | None = None,
            body: bytes | None = None) -> http.client.HTTPResponse:
    """Send a request to ``peer`` (path relative to its URL); the caller reads the response to its end.

    A kept-alive connection that the peer closed meanwhile is reopened once.
    """
    full = urllib.parse.urlsplit(peer.url).path + path
    hdrs = {"Accept": "*/*", **(headers or {})}
    if peer.token:
        hdrs["Authorization"] = f"Bearer {peer.token}"
    for attempt in (0, 1):
        conn = _connection(peer, fresh=attempt == 1)
        try:
            conn.request(method, full, body=body, headers=hdrs)
            resp = _local.last[peer.url] = conn.getresponse()
            return resp
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            if attempt == 1:
                raise PeerError(f"peer {peer} closed the connection") from None
        except (OSError, http.client.HTTPException) as exc:
            _connection(peer, fresh=True)
            raise PeerError(f"peer {peer} cannot be reached: {exc}") from None
    raise AssertionError("unreachable")


def read_body(peer: Peer, resp: http.client.HTTPResponse, limit: int) -> bytes:
    """The whole body of a response, refused when it is longer than ``limit`` bytes."""
    length = resp.getheader("Content-Length")
    if length is not None and (not length.isdigit() or int(length) > limit):
        resp.close()
        raise PeerError(f"peer {peer} announced {length} bytes where at most {limit} were expected")
    try:
        data = resp.read(limit + 1)
    except (OSError, http.client.HTTPException) as exc:
        raise PeerError(f"peer {peer} broke off the answer: {exc}") from None
    if len(data) > limit:
        resp.close()
        raise PeerError(f"peer {peer} sent more than {limit} bytes")
    if length is not None and len(data) != int(length):
        raise PeerError(f"peer {peer} sent {len(data)} of the {length} bytes it announced")
    return data


def content_range(peer: Peer, resp: http.client.HTTPResponse) -> tuple[int, int, int]:
    """``(first, last, total)`` of a 206 answer."""
    m = _CONTENT_RANGE.match(resp.getheader("Content-Range") or "")
    if not m:
        raise PeerError(f"peer {peer} answered a range request without a valid Content-Range header")
    first, last, total = (int(g) for g in m.groups())
    if not first <= last < total:
        raise PeerError(f"peer {peer} answered an impossible range {first}-{last}/{total}")
    return first, last, total


def error_text(resp: http.client.HTTPResponse) -> str:
    """A short description of an error answer (its JSON ``error`` field when there is one)."""
    try:
        body = resp.read(4096)
    except (OSError, http.client.HTTPException):
        body = b""
    text = body.decode("utf-8", "replace")
    m = re.search(r'"error"\s*:\s*"([^"]{0,300})', text)
    return f"HTTP {resp.status}" + (f": {m.group(1)}" if m else "")
