"""Which channels a request may name: the server's own, those it was configured with, and those a live
backend serves. A request never creates a channel, and the names a server accepts at once are bounded.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Callable

from .http import ApiError


def _served_by_a_backend(name: str) -> bool:
    from ..backend.client import channel_is_served

    # the channel URL of named channels comes from the environment, as for the runner that will use them
    return channel_is_served(name)


class ChannelGate:
    """``select(name)``: the name if a request may use it, else 404 naming the channels that exist.

    Channels found served by a live backend are remembered for ``recheck_s`` seconds (at most ``max_open``
    names, least recently used forgotten first), so a busy viewer does not look up heartbeats on every request.
    """

    def __init__(self, default: str, configured: tuple[str, ...] | list[str] = (), *, max_open: int = 8,
                 recheck_s: float = 10.0, is_served: Callable[[str], bool] = _served_by_a_backend):
        self.default = default
        self.configured = frozenset(configured)
        self.max_open = max_open
        self.recheck_s = recheck_s
        self._is_served = is_served
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def select(self, name: str | None) -> str | None:
        if name is None or name == self.default or name in self.configured:
            return name
        now = time.monotonic()
        with self._lock:
            seen = self._seen.get(name)
            if seen is not None and now - seen < self.recheck_s:
                self._seen.move_to_end(name)
                return name
        if not self._is_served(name):
            with self._lock:
                self._seen.pop(name, None)
            raise ApiError(404, f"there is no channel {name!r} here: this server uses {self._known()}, and no live "
                                "backend serves that name; start one with `sortingview-start-backend --channel "
                                f"{name}`, or fix the link's channel=")
        with self._lock:
            self._seen[name] = now
            self._seen.move_to_end(name)
            while len(self._seen) > self.max_open:
                self._seen.popitem(last=False)
        return name

    def _known(self) -> str:
        with self._lock:
            names = sorted({self.default, *self.configured, *self._seen})
        return ", ".join(repr(n) for n in names)
