"""Who may read a workspace on a private server, and what reading it gives access to.

A workspace's readers are a list of user ids kept in the mutable ``@sortingview/@workspace_readers/<feedId>``
(``W.set_readers([...])``, ``W.get_readers()``, ``sortingview workspace readers URI --add/--rm/--ls``). They
matter only on a server started with ``--private`` (sortingview/server/readers.py); without it every read is
open, as before. A workspace this store *follows* (workspace/remote.py) has readers here too: this store's own
list, naming this server's users, who may read it through this server (the home's list is the home's).

What a reader may read is the workspace's *reachable set*: its feed, the curation feeds of its sortings, and
every store file its records name, transitively through the JSON objects they name (recording and sorting
objects, unit metrics: small JSON files, read at most ``MAX_OBJECTS`` per workspace and ``MAX_URIS`` URIs in
all). The set is computed from the feed, never written by a request, and remembered per workspace together with
the feed's message count, so it is recomputed only when the workspace changed (a count is one read of the
feed's end; for a followed workspace, the count of records its home had at most 0.5 s ago), or when a file it
names that was not in the store then (an object fetched since) is there now.
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
MAX_MISSING_CHECKS = 256  # files named but not in the store that are looked for again at each check
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
    missing: tuple[str, ...] = ()  # named files not in the store then: once one is there, recompute


_NOTHING = Reachable(-1, frozenset(), frozenset())
_cache: dict[tuple, Reachable] = {}
_lock = threading.Lock()


def reachable(feed_id: str) -> Reachable:
    """The reachable set of the workspace ``feed_id``, in this store or followed by it (recomputed when its feed
    has new messages or a file it names has arrived)."""
    s = store.get_store()
    key = (s.directory, feed_id)  # a process may switch stores (tests, benchmarks)
    hit = _cache.get(key)
    try:
        W, count = _workspace_and_count(feed_id)
        if W is None:
            return _NOTHING
        if hit is not None and hit.count == count and not any(s.has(x) for x in hit.missing):
            return hit
        with _lock:
            value = _compute(W)
    except SortingviewError:  # the home of a followed workspace does not answer: what it reached before
        return hit or _NOTHING
    _cache[key] = value
    if len(_cache) > 1000:  # workspaces deleted meanwhile: forget the oldest entries
        for old in list(_cache)[:100]:
            _cache.pop(old, None)
    return value


def _workspace_and_count(feed_id: str):
    """``(workspace, message count)``: this store's workspace, else the followed one, else ``(None, -1)``."""
    from .remote import followed_workspace
    from .workspace import Workspace

    s = store.get_store()
    if s.feed_exists(feed_id):
        return Workspace(feed_id), s.feed_count(feed_id)
    W = followed_workspace(feed_id)
    return (W, len(W._feed.get_records())) if W is not None else (None, -1)


def _compute(W) -> Reachable:
    state = W._current()
    feeds = {W.feed_id} | {_feed_id(uri) for uri in state.curation_feeds.values()}
    roots = [r.get("recordingUri") for r in state.recordings.values()]
    roots += [r.get(k) for r in state.sortings.values() for k in ("sortingUri", "recordingUri")]
    roots += list(state.unit_metrics.values())
    sha1s, missing = _closure(roots)
    return Reachable(state.num_messages, frozenset(f for f in feeds if f), frozenset(sha1s),
                     tuple(missing[:MAX_MISSING_CHECKS]))


def _feed_id(uri: str) -> str | None:
    from ..store.uri import parse_feed_uri

    try:
        return parse_feed_uri(uri)
    except SortingviewError:
        return None


def _closure(roots: list) -> tuple[set[str], list[str]]:
    """sha1s of ``roots`` and of every URI inside the JSON objects they name (bounded, see the module doc), and
    those of them that are not in the store (their contents could not be followed)."""
    seen: set[str] = set()
    missing: list[str] = []
    todo = [u for u in roots if isinstance(u, str)]
    parsed_objects = 0
    while todo and len(seen) < MAX_URIS:
        sha1 = _sha1_of(todo.pop())
        if sha1 is None or sha1 in seen:
            continue
        seen.add(sha1)
        if not store.get_store().has(sha1):
            missing.append(sha1)
        elif parsed_objects < MAX_OBJECTS:
            obj = _small_json(sha1)
            if obj is not None:
                parsed_objects += 1
                todo.extend(_uris_in(obj))
    return seen, missing


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
    """``(feed ids, sha1s)`` that ``user_id`` may read: the union over the workspaces listing them as reader (this
    store's workspaces and those it follows)."""
    from .remote import FOLLOWED
    from .workspace import REGISTRY

    feeds: set[str] = set()
    sha1s: set[str] = set()
    s = store.get_store()
    for feed_id in dict.fromkeys(s.list_mutables(REGISTRY) + s.list_mutables(FOLLOWED)):
        if user_id in get_readers(feed_id):
            r = reachable(feed_id)
            feeds |= r.feeds
            sha1s |= r.sha1s
    return feeds, sha1s


def may_read_workspace(user_id: str, feed_id: str) -> bool:
    return user_id in get_readers(feed_id)
