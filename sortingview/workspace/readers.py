"""Who may read a workspace on a private server, and what reading it gives access to.

A workspace's readers are a list of user ids kept in the mutable ``@sortingview/@workspace_readers/<feedId>``
(``W.set_readers([...])``, ``W.get_readers()``, ``sortingview workspace readers URI --add/--rm/--ls``). They
matter only on a server started with ``--private`` (sortingview/server/readers.py); without it every read is
open, as before.

What a reader may read is the workspace's *reachable set*: its feed, the curation feeds of its sortings, and
every store file its records name, transitively through the JSON objects they name (recording and sorting
objects, unit metrics: small JSON files, read at most ``MAX_OBJECTS`` per workspace and ``MAX_URIS`` URIs in
all). The set is computed from the feed, never written by a request, and remembered per workspace together with
the feed's message count, so it is recomputed only when the workspace changed (a count is one read of the
feed's end).
"""
from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass

from .. import store
from ..errors import SortingviewError, WorkspaceError

READERS = "@sortingview/@workspace_readers"
MAX_OBJECTS = 10_000  # JSON objects followed per workspace
MAX_URIS = 100_000  # store files one workspace may make readable
MAX_OBJECT_BYTES = 16 * 1024 * 1024  # a larger file is a data file, not an object: it is not parsed
_URI_PREFIXES = ("sha1://", "kachery:")
_USER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,127}$")  # the user ids of server/auth.py


def set_readers(feed_id: str, user_ids: list[str]) -> None:
    if isinstance(user_ids, str) or not isinstance(user_ids, (list, tuple)):
        raise WorkspaceError(f"readers must be a list of user ids, got {user_ids!r}")
    for u in user_ids:
        if not isinstance(u, str) or not _USER_ID.match(u):
            raise WorkspaceError(f"invalid user id {u!r}: readers are user ids of this store (`sortingview user "
                                 "add <id>`): letters, digits and _ . @ + -, at most 128 characters")
    store.set_mutable(f"{READERS}/{feed_id}", json.dumps(list(dict.fromkeys(user_ids))))


def get_readers(feed_id: str) -> list[str]:
    text = store.get_mutable(f"{READERS}/{feed_id}")
    try:
        value = json.loads(text) if text else []
    except ValueError:
        return []
    return [u for u in value if isinstance(u, str)] if isinstance(value, list) else []


@dataclass(frozen=True)
class Reachable:
    """What reading one workspace gives access to."""

    count: int  # the feed's message count it was computed at
    feeds: frozenset[str]
    sha1s: frozenset[str]


_cache: dict[str, Reachable] = {}
_lock = threading.Lock()


def reachable(feed_id: str) -> Reachable:
    """The reachable set of the workspace ``feed_id`` (recomputed when its feed has new messages)."""
    count = store.get_store().feed_count(feed_id)
    hit = _cache.get(feed_id)
    if hit is not None and hit.count == count:
        return hit
    with _lock:
        value = _compute(feed_id)
        _cache[feed_id] = value
        if len(_cache) > 1000:  # workspaces deleted meanwhile: forget the oldest entries
            for key in list(_cache)[:100]:
                _cache.pop(key, None)
        return value


def _compute(feed_id: str) -> Reachable:
    from .workspace import Workspace

    W = Workspace(feed_id)
    state = W._current()
    feeds = {feed_id} | {_feed_id(uri) for uri in state.curation_feeds.values()}
    roots = [r.get("recordingUri") for r in state.recordings.values()]
    roots += [r.get(k) for r in state.sortings.values() for k in ("sortingUri", "recordingUri")]
    roots += list(state.unit_metrics.values())
    return Reachable(state.num_messages, frozenset(f for f in feeds if f), frozenset(_closure(roots)))


def _feed_id(uri: str) -> str | None:
    from ..store.uri import parse_feed_uri

    try:
        return parse_feed_uri(uri)
    except SortingviewError:
        return None


def _closure(roots: list) -> set[str]:
    """sha1s of ``roots`` and of every URI inside the JSON objects they name (bounded, see the module doc)."""
    seen: set[str] = set()
    todo = [u for u in roots if isinstance(u, str)]
    parsed_objects = 0
    while todo and len(seen) < MAX_URIS:
        sha1 = _sha1_of(todo.pop())
        if sha1 is None or sha1 in seen:
            continue
        seen.add(sha1)
        if parsed_objects < MAX_OBJECTS:
            obj = _small_json(sha1)
            if obj is not None:
                parsed_objects += 1
                todo.extend(_uris_in(obj))
    return seen


def _sha1_of(uri: str) -> str | None:
    from ..store.uri import parse_uri

    try:
        return parse_uri(uri).sha1
    except SortingviewError:
        return None


def _small_json(sha1: str):
    s = store.get_store()
    if not s.has(sha1):
        return None
    try:
        path = s.local_path(sha1)
        with open(path, "rb") as f:
            head = f.read(1)
            if head not in (b"{", b"["):
                return None
            rest = f.read(MAX_OBJECT_BYTES)
        return json.loads(head + rest)
    except (OSError, ValueError, SortingviewError):
        return None


def _uris_in(obj) -> list[str]:
    out, stack = [], [(obj, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if item.startswith(_URI_PREFIXES):
                out.append(item)
        elif depth < 16 and isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif depth < 16 and isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return out


def readable_by(user_id: str) -> tuple[set[str], set[str]]:
    """``(feed ids, sha1s)`` that ``user_id`` may read: the union over the workspaces listing them as reader."""
    from .workspace import REGISTRY

    feeds: set[str] = set()
    sha1s: set[str] = set()
    s = store.get_store()
    for feed_id in s.list_mutables(REGISTRY):
        if user_id in get_readers(feed_id) and s.feed_exists(feed_id):
            r = reachable(feed_id)
            feeds |= r.feeds
            sha1s |= r.sha1s
    return feeds, sha1s


def may_read_workspace(user_id: str, feed_id: str) -> bool:
    return user_id in get_readers(feed_id)
