"""Task channels: ``open_channel(name, url)`` gives the SQLite (default) or Redis implementation."""
from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict

from ...errors import ChannelError
from .base import STATUSES, Channel, JobRecord, TaskRequest

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
#: channels kept open per process, least recently used dropped first (their connections close when unused)
MAX_OPEN_CHANNELS = 16
_cache: OrderedDict[tuple[str, str, str | None], Channel] = OrderedDict()
_cache_lock = threading.Lock()


def check_channel_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ChannelError(f"channel name {name!r} is not allowed; use letters, digits, '_', '.' or '-' "
                           "(at most 64 characters), e.g. 'default' or 'lab-a'")
    return name


def channel_path(name: str) -> str:
    """Where the SQLite channel ``name`` lives: ``<store dir>/sortingview/channels/<name>.sqlite``."""
    from ...store import store_dir

    return os.path.join(store_dir(), "sortingview", "channels", f"{check_channel_name(name)}.sqlite")


def open_channel(name: str = "default", url: str | None = None) -> Channel:
    """Open the channel ``name``.

    ``url`` None (and no ``SORTINGVIEW_CHANNEL_URL``): a SQLite file in the store directory, for every process
    on this host. ``redis://host:port/db``: Redis, for backends on several hosts. Channels are cached per
    process, so opening one repeatedly is cheap.
    """
    check_channel_name(name)
    url = url or os.environ.get("SORTINGVIEW_CHANNEL_URL") or None
    if url is None:
        key = ("sqlite", name, channel_path(name))
    elif url.startswith(("redis://", "rediss://", "unix://")):
        key = ("redis", name, url)
    else:
        raise ChannelError(f"channel URL {url!r} is not supported; use redis://host:port/db, or no URL for the "
                           "SQLite channel in the store directory")
    with _cache_lock:
        chan = _cache.get(key)
        if chan is not None:
            _cache.move_to_end(key)
            return chan
    if key[0] == "sqlite":
        from .sqlite_channel import SqliteChannel

        chan = SqliteChannel(key[2], name)
    else:
        from .redis_channel import RedisChannel

        chan = RedisChannel(url, name)
    with _cache_lock:
        chan = _cache.setdefault(key, chan)
        evicted = [_cache.popitem(last=False)[1] for _ in range(len(_cache) - MAX_OPEN_CHANNELS)]
    for old in evicted:
        if key[0] == "sqlite" and hasattr(old, "path"):
            # close this thread's connection now rather than when the garbage collector breaks sqlite3's
            # reference cycle; a thread still holding the object reconnects on its next use
            old.close()
    return chan


def resolve_channel(channel: str | Channel | None = None, channel_url: str | None = None) -> Channel:
    """A Channel instance, a channel name (with ``channel_url``), or None for ``$SORTINGVIEW_CHANNEL``/default."""
    if isinstance(channel, Channel):
        return channel
    return open_channel(channel or os.environ.get("SORTINGVIEW_CHANNEL") or "default", channel_url)


def redact_url(url: str) -> str:
    """The URL without a password, for logs and status reports."""
    return re.sub(r"//[^/@]*@", "//***@", url)


__all__ = ["STATUSES", "Channel", "JobRecord", "TaskRequest", "open_channel", "channel_path", "check_channel_name",
           "resolve_channel", "redact_url"]
