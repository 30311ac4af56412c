"""Feeds: append-only logs of JSON messages, ``feed://<feedId>``.

Each record is ``{"messageNumber": n, "timestamp": <ms since epoch>, "userId": str | None, "message": {...}}``.
An append that returned is on disk (fsync) and every reader sees the same order.
"""
from __future__ import annotations

import secrets
import time

from .base import Store
from .uri import make_feed_uri, parse_feed_uri


class Feed:
    def __init__(self, store: Store, feed_id: str):
        self.store = store
        self.feed_id = parse_feed_uri(feed_id)

    @property
    def uri(self) -> str:
        return make_feed_uri(self.feed_id)

    def append_message(self, message: dict, *, user_id: str | None = None) -> int:
        return self.store.feed_append(self.feed_id, [message], user_id=user_id)[0]

    def append_messages(self, messages: list[dict], *, user_id: str | None = None) -> list[int]:
        return self.store.feed_append(self.feed_id, list(messages), user_id=user_id)

    def get_records(self, start: int = 0) -> list[dict]:
        """Full records (number, timestamp, user id, message) from message ``start`` on."""
        return self.store.feed_read(self.feed_id, start)

    def get_messages(self, start: int = 0) -> list[dict]:
        """Just the messages, from ``start`` on."""
        return [r["message"] for r in self.get_records(start)]

    @property
    def num_messages(self) -> int:
        return self.store.feed_count(self.feed_id)

    def wait_for_records(self, start: int, timeout: float, poll_s: float = 0.05) -> list[dict]:
        """Records from ``start`` on, waiting up to ``timeout`` seconds for at least one to exist."""
        deadline = time.monotonic() + timeout
        while True:
            # counting reads only the end of the feed, so waiting costs little however long the feed is
            if self.store.feed_count(self.feed_id) > start or time.monotonic() >= deadline:
                return self.get_records(start)
            time.sleep(poll_s)

    def __repr__(self) -> str:
        return f"Feed({self.uri!r})"


def create_feed(store: Store) -> Feed:
    feed_id = secrets.token_hex(20)
    store.feed_create(feed_id)
    return Feed(store, feed_id)


def load_feed(store: Store, uri: str) -> Feed:
    from ..errors import FeedError

    feed_id = parse_feed_uri(uri)
    if not store.feed_exists(feed_id):
        where = store.directory or "the in-memory store"
        raise FeedError(
            f"feed://{feed_id} is not in the store at {where}; check the URI, or set KACHERY_CLOUD_DIR to "
            "the store directory it was created in"
        )
    return Feed(store, feed_id)
