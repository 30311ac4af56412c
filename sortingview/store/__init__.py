"""The content-addressed store: files, linked files, JSON, arrays, mutables, feeds and task results.

Module-level functions act on the default store: the directory ``$KACHERY_CLOUD_DIR`` (default
``~/.kachery-cloud``), read at each call so subprocesses and tests that set the variable see it; or the
store installed with :func:`use_store` (tests use a MemoryStore this way).
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from typing import Any, Iterator

import numpy as np

from ..errors import IntegrityError, NotFoundError, SerializationError
from ..serialize import store_json_bytes
from ._fs import sha1_of_file
from .base import Store, check_mutable_key
from .feeds import Feed
from .feeds import create_feed as _create_feed
from .feeds import load_feed as _load_feed
from .local import LocalStore
from .memory import MemoryStore
from .uri import ParsedUri, make_feed_uri, make_uri, parse_feed_uri, parse_uri

_override: list[Store] = []
_local_cache: dict[str, LocalStore] = {}


def store_dir() -> str:
    """The store directory: ``$KACHERY_CLOUD_DIR`` or ``~/.kachery-cloud``."""
    return os.path.abspath(os.path.expanduser(os.environ.get("KACHERY_CLOUD_DIR") or "~/.kachery-cloud"))


def get_store() -> Store:
    if _override:
        return _override[-1]
    d = store_dir()
    st = _local_cache.get(d)
    if st is None:
        st = _local_cache[d] = LocalStore(d)
    return st


@contextlib.contextmanager
def use_store(store: Store) -> Iterator[Store]:
    """Make ``store`` the default store inside a ``with`` block (this process only)."""
    _override.append(store)
    try:
        yield store
    finally:
        _override.remove(store)


def _label(path: str | None, label: str | None) -> str | None:
    if label is not None:
        return label
    return os.path.basename(path) if path else None


def store_file(path: str, *, label: str | None = None) -> str:
    """Copy a file into the store and return ``sha1://<hash>?label=<basename>``."""
    return make_uri(get_store().put_file(os.fspath(path)), _label(os.fspath(path), label))


def link_file(path: str, *, label: str | None = None) -> str:
    """Reference a (large) file in place, without copying; its sha1 is computed once per size+mtime."""
    return make_uri(get_store().link(os.fspath(path)), _label(os.fspath(path), label))


def link_file_with_manifest(path: str, chunk_size: int, *, label: str | None = None) -> tuple[str, str]:
    """:func:`link_file`, and the ``sha1://`` URI of the file's chunk manifest in chunks of ``chunk_size``
    (stored, store/chunk_manifest.py), computed in the same read of the file as its sha1."""
    sha1, msha1 = get_store().link_with_manifest(os.fspath(path), chunk_size)
    return make_uri(sha1, _label(os.fspath(path), label)), make_uri(msha1, "chunk-manifest")


def store_bytes(data: bytes, *, label: str | None = None) -> str:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise SerializationError(f"store_bytes takes bytes, got {type(data).__name__}; use store_text or "
                                 "store_json")
    return make_uri(get_store().put_bytes(data), label)


def store_text(text: str, *, label: str | None = None) -> str:
    """Store text as UTF-8 (what kachery-cloud's store_text writes)."""
    if not isinstance(text, str):
        raise SerializationError(f"store_text takes a str, got {type(text).__name__}; use store_bytes for bytes "
                                 "and store_json for other objects")
    return store_bytes(text.encode("utf-8"), label=label)


def store_json(obj: Any, *, label: str | None = None) -> str:
    """Store JSON with exactly the bytes kachery-cloud's store_json writes (same object -> same sha1)."""
    return store_bytes(store_json_bytes(obj), label=label)


_NPY_IN_MEMORY_MAX = 64 * 1024 * 1024


def store_npy(array: np.ndarray, *, label: str | None = None) -> str:
    """Store an array as a .npy file (what kachery-cloud's store_npy writes); large arrays (a memmap, for
    example) go through a temp file, so memory use does not grow with the array."""
    a = np.asarray(array)
    if a.dtype.hasobject:
        raise SerializationError(f"store_npy cannot store arrays of dtype {a.dtype} (Python objects); convert "
                                 "them to a numeric dtype, or store the values with store_json")
    if a.nbytes <= _NPY_IN_MEMORY_MAX:
        buf = io.BytesIO()
        np.save(buf, a, allow_pickle=False)
        return store_bytes(buf.getvalue(), label=label)
    with tempfile.TemporaryDirectory(prefix="sortingview-npy-") as tmp:
        path = os.path.join(tmp, "array.npy")
        np.save(path, a, allow_pickle=False)
        return make_uri(get_store().put_file(path), label)


def load_file(uri: str, *, verify: bool = False) -> str:
    """Local path of the content of ``uri`` (NotFoundError when absent; with ``verify`` the digest is checked).

    A URI with ``&location=<path>`` (kachery-cloud's reference URIs) also resolves to that file when the
    store does not hold the content and the file's sha1 matches.
    """
    parsed = parse_uri(uri)
    try:
        return get_store().local_path(parsed.sha1, verify=verify)
    except NotFoundError as exc:
        if _location_matches(parsed):
            return parsed.location
        return _peers().fetch_missing(parsed.sha1, exc)


def load_bytes(uri: str, *, verify: bool = False) -> bytes:
    parsed = parse_uri(uri)
    try:
        return get_store().read_bytes(parsed.sha1, verify=verify)
    except NotFoundError as exc:
        if _location_matches(parsed):
            with open(parsed.location, "rb") as f:
                return f.read()
        with open(_peers().fetch_missing(parsed.sha1, exc), "rb") as f:
            return f.read()


def _peers():
    """Content missing here is asked of the peers (other sortingview servers; doc/sharing.md)."""
    from . import peers

    return peers


def _location_matches(parsed: ParsedUri) -> bool:
    loc = parsed.location
    if not loc or not os.path.isabs(loc) or not os.path.isfile(loc):
        return False
    st = get_store()
    actual = st.file_sha1(loc) if isinstance(st, LocalStore) else sha1_of_file(loc)
    return actual == parsed.sha1


def load_text(uri: str) -> str:
    try:
        return load_bytes(uri).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SerializationError(f"{uri} does not hold UTF-8 text ({exc}); load it with load_file instead") from None


def load_json(uri: str) -> Any:
    data = load_bytes(uri)
    try:
        return json.loads(data)
    except ValueError as exc:
        raise SerializationError(f"{uri} does not hold JSON ({exc}); load it with load_file instead") from None


def load_npy(uri: str, *, mmap: bool = False) -> np.ndarray:
    path = load_file(uri)
    try:
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except ValueError as exc:
        raise SerializationError(f"{uri} is not a .npy array without pickled objects: {exc}") from exc


def set_mutable(key: str, value: str) -> None:
    get_store().set_mutable(key, value)


def get_mutable(key: str) -> str | None:
    return get_store().get_mutable(key)


def delete_mutable(key: str) -> bool:
    return get_store().delete_mutable(key)


def update_mutable(key: str, update) -> str | None:
    """Read-modify-write a mutable under a lock every process takes: ``update(old) -> new`` (None deletes)."""
    return get_store().update_mutable(key, update)


#: what :func:`load_task_result` returns when no usable result is stored
MISSING = object()


def load_task_result(task_name: str, job_id: str) -> Any:
    """The encoded result stored for a job (parsed JSON or a bundle's, see :mod:`sortingview.bundle`), or
    :data:`MISSING`.

    A result that does not parse (empty, truncated by a crash or a full disk, damaged) is deleted and reported
    MISSING, so it is computed again instead of failing every request for ever. A stored ``null`` is None.
    """
    st = get_store()
    try:
        data = st.get_task_result(task_name, job_id)
    except IntegrityError:  # a symbolic link planted where the result belongs: never read through it
        st.delete_task_result(task_name, job_id)
        return MISSING
    if data is None:
        return MISSING
    from ..bundle import unpack_result

    try:
        return unpack_result(data)
    except ValueError:
        import logging

        logging.getLogger("sortingview.store").warning(
            "the stored result of %s (job %s) is damaged (%d bytes that are neither JSON nor a whole bundle); "
            "deleted, it will be computed again", task_name, job_id, len(data))
        st.delete_task_result(task_name, job_id)
        return MISSING


def create_feed() -> Feed:
    return _create_feed(get_store())


def load_feed(uri: str) -> Feed:
    return _load_feed(get_store(), uri)


__all__ = [
    "Store", "LocalStore", "MemoryStore", "Feed", "ParsedUri",
    "store_dir", "get_store", "use_store",
    "store_file", "link_file", "link_file_with_manifest", "store_bytes", "store_text", "store_json", "store_npy",
    "load_file", "load_bytes", "load_text", "load_json", "load_npy",
    "set_mutable", "get_mutable", "delete_mutable", "update_mutable", "create_feed", "load_feed",
    "load_task_result", "MISSING",
    "parse_uri", "make_uri", "parse_feed_uri", "make_feed_uri", "check_mutable_key", "sha1_of_file",
]
