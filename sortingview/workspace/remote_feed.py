"""A feed that lives on another server (its *home*), read over HTTP and followed live.

:class:`RemoteFeed` keeps the records read so far in memory and asks the home for the rest
(``GET /api/feed/<id>?start=<n>[&wait=<s>]``, the route every server has). One object per home and feed is
shared by the threads of a process (:func:`remote_feed`), so a server that follows a feed for many open
viewers keeps one long-poll open to the home, not one per viewer. The home is the only writer of its feeds:
a ``RemoteFeed`` cannot be appended to.
"""
from __future__ import annotations

import json
import threading
import time

from ..errors import AuthError, CurationError, FeedError, WorkspaceError
from ..store.peer_http import Peer, PeerError, error_text, read_body, request
from ..store.uri import make_feed_uri, parse_feed_uri

MAX_ANSWER_BYTES = 64 * 1024 * 1024  # one answer of the home (records of a feed) is at most this big
MAX_WAIT = 20.0  # seconds one long-poll to the home may wait (the home caps it at 25)
MIN_INTERVAL = 0.5  # a read asks the home again only this long after the last answer (``fresh=True``: always)


class HomeRefusedError(AuthError):
    """The home server refused the request's user (``status`` 401: not signed in / bad token, 403: not allowed)."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def home_json(peer: Peer, method: str, path: str, body: dict | None = None) -> dict:
    """The JSON answer of the home server; its error answers become errors naming the home and its message."""
    data = None if body is None else json.dumps(body).encode("utf-8")
    headers = {"Content-Type": "application/json"} if data is not None else {}
    resp = request(peer, method, path, headers, data)
    if resp.status != 200:
        text = f"the home server {peer} answered {error_text(resp)}"
        if resp.status in (401, 403):
            raise HomeRefusedError(text, resp.status)
        raise {400: CurationError, 404: FeedError}.get(resp.status, PeerError)(text)
    try:
        value = json.loads(read_body(peer, resp, MAX_ANSWER_BYTES))
    except ValueError as exc:
        raise PeerError(f"the home server {peer} answered something that is not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise PeerError(f"the home server {peer} answered a {type(value).__name__}, not a JSON object")
    return value


def _checked(records: object, start: int, peer: Peer) -> list[dict]:
    if not isinstance(records, list) or not all(isinstance(r, dict) and isinstance(r.get("message"), dict)
                                                and r.get("messageNumber") == start + i
                                                for i, r in enumerate(records)):
        raise PeerError(f"the home server {peer} answered feed records that are not numbered from {start}")
    return records


class RemoteFeed:
    """A read-only feed ``feed_id`` on ``peer`` (``.uri``, ``get_records``, ``wait_for_records``...)."""

    def __init__(self, peer: Peer, feed_id: str):
        self.peer = peer
        self.feed_id = parse_feed_uri(feed_id)
        self._records: list[dict] = []
        self._lock = threading.Lock()
        self._new = threading.Condition(self._lock)
        self._polling = False  # one thread at a time long-polls the home; the others wait for its records
        self._pulled_at = -1e9

    @property
    def uri(self) -> str:
        return make_feed_uri(self.feed_id)

    def _pull(self, wait: float) -> None:
        start = len(self._records)
        query = f"?start={start}" + (f"&wait={wait:.3f}" if wait > 0 else "")
        answer = home_json(self.peer, "GET", f"/api/feed/{self.feed_id}{query}")
        records = _checked(answer.get("records"), start, self.peer)
        with self._lock:
            self._pulled_at = time.monotonic()
            # another thread may have added some meanwhile: keep only the records that continue the list
            self._records.extend(r for r in records if r["messageNumber"] >= len(self._records))
            self._new.notify_all()

    def get_records(self, start: int = 0, *, fresh: bool = False) -> list[dict]:
        """Every record from ``start`` on, as the home had them at most ``MIN_INTERVAL`` seconds ago (``fresh``:
        now); one request for what is new."""
        if fresh or time.monotonic() - self._pulled_at >= MIN_INTERVAL:
            self._pull(0.0)
        return list(self._records[start:])

    def get_messages(self, start: int = 0) -> list[dict]:
        return [r["message"] for r in self.get_records(start)]

    @property
    def num_messages(self) -> int:
        self._pull(0.0)
        return len(self._records)

    def wait_for_records(self, start: int, timeout: float) -> list[dict]:
        """Records from ``start`` on, waiting up to ``timeout`` seconds for one to exist on the home."""
        deadline = time.monotonic() + timeout
        while len(self._records) <= start and (left := deadline - time.monotonic()) > 0:
            with self._lock:
                polling = self._polling
                self._polling = True
                if polling:  # someone else asks the home: wait for what they bring
                    self._new.wait(left)
                    continue
            try:
                self._pull(min(left, MAX_WAIT))
            finally:
                with self._lock:
                    self._polling = False
                    self._new.notify_all()
        if len(self._records) <= start:
            self._pull(0.0)
        return list(self._records[start:])

    def append_message(self, *args, **kwargs):
        raise WorkspaceError(f"feed {self.uri} belongs to the server {self.peer}; only it writes the feed")

    append_messages = append_message

    def __repr__(self) -> str:
        return f"RemoteFeed({self.uri!r} at {self.peer})"


_feeds: dict[tuple[str, str], RemoteFeed] = {}
_feeds_lock = threading.Lock()
MAX_FEEDS = 256  # remote feeds a process keeps in memory (the oldest is forgotten beyond)


def remote_feed(peer: Peer, feed_id: str) -> RemoteFeed:
    """The process's shared :class:`RemoteFeed` of ``feed_id`` on ``peer``."""
    key = (peer.url, parse_feed_uri(feed_id))
    with _feeds_lock:
        feed = _feeds.get(key)
        if feed is None or feed.peer.token != peer.token:
            feed = _feeds[key] = RemoteFeed(peer, key[1])
            if len(_feeds) > MAX_FEEDS:
                _feeds.pop(next(iter(_feeds)))
        return feed
