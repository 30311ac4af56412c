"""Checking that the files a task reads are still the files its input names.

A task input names recordings and sortings by the ``sha1://`` URI of their JSON object, and each object
names its data files by ``sha1://`` URI, large ones linked in place. A process that has already loaded a
recording keeps reading the linked file through an open extractor, so a file changed after it was linked
would give changed samples under the old URI. :func:`check_unchanged` re-checks every file an input reaches
(size and mtime against the link record, as :meth:`Store.local_path` does, and the digest when they moved),
raising :class:`~sortingview.errors.LinkedFileChangedError` when one changed. The backend and the inline
runner call it before a task runs and again before its result is stored.
"""
from __future__ import annotations

import json
import os
import re
from typing import Any, Iterator

from ..errors import NotFoundError
from .uri import parse_uri

_SHA1_URI = re.compile(r"^sha1://[0-9a-f]{40}")
_MAX_OBJECT_BYTES = 1 << 20  # objects (JSON) are small; anything larger is data, not an object to look into
_MAX_FILES = 1000
#: sha1 -> the sha1s its JSON object refers to (content-addressed, so never stale); per store directory
_refs: dict[tuple[str | None, str], tuple[str, ...]] = {}


def _uris(value: Any, depth: int = 0) -> Iterator[str]:
    if depth > 20:
        return
    if isinstance(value, str):
        if _SHA1_URI.match(value):
            yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _uris(v, depth + 1)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _uris(v, depth + 1)


def _referenced(store, sha1: str) -> tuple[str, ...]:
    """The sha1s named inside the JSON object stored as ``sha1`` (none for data files and linked files)."""
    key = (store.directory, sha1)
    hit = _refs.get(key)
    if hit is not None:
        return hit
    refs: tuple[str, ...] = ()
    if not store.has(sha1):
        return refs  # on a peer: fetched whole and verified, or read lazily in verified chunks (not remembered)
    try:
        path = store.local_path(sha1)
        if os.path.getsize(path) <= _MAX_OBJECT_BYTES:
            with open(path, "rb") as f:
                head = f.read(1)
                if head in (b"{", b"["):
                    refs = tuple(parse_uri(u).sha1 for u in _uris(json.loads(head + f.read())))
    except NotFoundError:
        return ()  # not here (yet): a peer will send it, verified by its hash; look again next time
    except (ValueError, UnicodeDecodeError):
        refs = ()
    _refs[key] = refs
    return refs


def files_of(value: Any, store=None) -> list[str]:
    """Every sha1 a task input reaches: its URIs and, through JSON objects, the files they name."""
    if store is None:
        from . import get_store

        store = get_store()
    seen: list[str] = []
    todo = [parse_uri(u).sha1 for u in _uris(value)]
    while todo and len(seen) < _MAX_FILES:
        sha1 = todo.pop()
        if sha1 in seen:
            continue
        seen.append(sha1)
        todo.extend(_referenced(store, sha1))
    return seen


def check_unchanged(value: Any) -> None:
    """LinkedFileChangedError (or NotFoundError) when a file the input reaches changed or went away.

    A file found unchanged is remembered with its size and mtime, so checking it again costs one ``stat``; a
    file whose size or mtime moved goes through the store's full check (which rehashes a touched file).
    """
    from . import get_store

    store = get_store()
    for sha1 in files_of(value, store):
        key = (store.directory, sha1)
        seen = _checked.get(key)
        if seen is not None and _stat_key(seen[0]) == seen[1]:
            continue
        try:
            path = store.local_path(sha1)
        except NotFoundError:
            if seen is None:
                continue  # never here: read from a peer, where every byte is checked against its hash
            raise
        _checked[key] = (path, _stat_key(path))


def _stat_key(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


#: (store directory, sha1) -> (local path, (size, mtime) when it was last found unchanged)
_checked: dict[tuple[str | None, str], tuple[str, tuple[int, int] | None]] = {}


__all__ = ["check_unchanged", "files_of"]
