"""Peers: other sortingview servers that content missing from the local store is fetched from, verified.

The peer list is ``$SORTINGVIEW_PEERS`` (comma-separated URLs, asked first) followed by the peers added with
``sortingview peer add URL [--token T]`` (kept in ``<store>/sortingview/peers.json``, readable by the owner
only, because it holds tokens).

A fetched file is written to ``<store>/sortingview/partial/<sha1>.part`` while its sha1 is computed over every
byte; it enters the store (a rename) only when the digest matches. A peer that sends other bytes is named in
a warning and skipped. A transfer that breaks off keeps its ``.part`` and the next fetch continues it with an
HTTP range request; the digest then covers the kept bytes and the new ones, so a resumed file is verified
exactly as a whole one.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import http.client
import json
import logging
import os
import tempfile
import warnings
from dataclasses import dataclass

from ..errors import IntegrityError, NotFoundError
from ._fs import atomic_write, finish_file, move_file, open_file, shard
from .peer_http import Peer, PeerError, check_peer_url, content_range, error_text, request

PEERS_ENV = "SORTINGVIEW_PEERS"
MAX_BYTES_ENV = "SORTINGVIEW_PEER_MAX_BYTES"
DEFAULT_MAX_BYTES = 16 * 1024 ** 3  # a whole-file fetch larger than this is refused (recordings are read lazily)
PROGRESS_MIN_BYTES = 16 * 1024 * 1024
_BLOCK = 1024 * 1024
log = logging.getLogger(__name__)


class PeerWarning(UserWarning):
    """A peer misbehaved (sent bytes that do not match their sha1) and was skipped."""


@dataclass(frozen=True)
class FetchResult:
    """Where a fetched file now is, who sent it, and how many bytes came over the network."""

    path: str
    peer: str
    size: int
    bytes_received: int
    resumed_from: int


# --- the peer list ------------------------------------------------------------------------------------------
def peers_file() -> str:
    from . import store_dir

    return os.path.join(store_dir(), "sortingview", "peers.json")


def _saved_peers() -> list[Peer]:
    try:
        with open(peers_file(), encoding="utf-8") as f:
            rows = json.load(f)
    except FileNotFoundError:
        return []
    except ValueError as exc:
        raise PeerError(f"the peer list {peers_file()} is damaged ({exc}); remove it and add the peers again "
                        "with `sortingview peer add URL`") from None
    return [Peer(check_peer_url(r["url"]), r.get("token")) for r in rows]


def _save_peers(peers: list[Peer]) -> None:
    path = peers_file()
    rows = [{"url": p.url, **({"token": p.token} if p.token else {})} for p in peers]
    atomic_write(path, json.dumps(rows, indent=1).encode("utf-8"))
    os.chmod(path, 0o600)  # tokens: the owner's eyes only, even in a group-shared store


def list_peers() -> list[Peer]:
    """``$SORTINGVIEW_PEERS`` first, then the saved peers; each URL once (with its saved token, if any)."""
    saved = _saved_peers()
    tokens = {p.url: p.token for p in saved}
    env = [Peer(url, tokens.get(url)) for url in
           (check_peer_url(u) for u in os.environ.get(PEERS_ENV, "").split(",") if u.strip())]
    seen, out = set(), []
    for p in env + saved:
        if p.url not in seen:
            seen.add(p.url)
            out.append(p)
    return out


def add_peer(url: str, token: str | None = None) -> Peer:
    """Save a peer (replacing the token of one already saved)."""
    peer = Peer(check_peer_url(url), token or None)
    _save_peers([p for p in _saved_peers() if p.url != peer.url] + [peer])
    return peer


def remove_peer(url: str) -> bool:
    url = check_peer_url(url)
    saved = _saved_peers()
    kept = [p for p in saved if p.url != url]
    if len(kept) != len(saved):
        _save_peers(kept)
    return len(kept) != len(saved)


def max_bytes() -> int:
    raw = os.environ.get(MAX_BYTES_ENV)
    if raw and not raw.isdigit():
        raise PeerError(f"{MAX_BYTES_ENV}={raw!r} must be a whole number of bytes")
    return int(raw) if raw else DEFAULT_MAX_BYTES


# --- fetching ---------------------------------------------------------------------------------------------
def fetch_missing(sha1: str, not_found: NotFoundError) -> str:
    """The hook of ``load_file``/``load_bytes``: fetch from the peers, or raise ``not_found`` when none are set."""
    peers = list_peers()
    if not peers:
        raise not_found
    try:
        return fetch(sha1, peers).path
    except NotFoundError as exc:
        raise NotFoundError(f"{not_found}; {exc}") from None


def fetch(sha1: str, peers: list[Peer] | None = None, *, progress: bool = True) -> FetchResult:
    """Fetch ``sha1`` from the first peer that has it, verified, into the store (peers that fail are skipped)."""
    from . import get_store
    from .uri import check_sha1

    check_sha1(sha1)
    peers = list_peers() if peers is None else peers
    store = get_store()
    if store.has(sha1):
        path = store.local_path(sha1)
        return FetchResult(path, "(local store)", os.path.getsize(path), 0, 0)
    failures = []
    for peer in peers:
        try:
            return _fetch_from(peer, sha1, store, progress)
        except IntegrityError as exc:
            warnings.warn(f"peer {peer} sent bytes that do not match sha1://{sha1}; skipped it ({exc})",
                          PeerWarning, stacklevel=2)
            failures.append(f"{peer}: sent wrong bytes")
        except PeerError as exc:
            log.info("fetching sha1://%s from %s failed: %s", sha1, peer, exc)
            failures.append(str(exc) if str(exc).startswith("peer ") else f"{peer}: {exc}")
    asked = "; ".join(failures) if failures else "no peers are set (sortingview peer add URL)"
    raise NotFoundError(f"no peer could send sha1://{sha1} ({asked})")


def _partial_path(store, sha1: str) -> str:
    base = store.directory or os.path.join(tempfile.gettempdir(), f"sortingview-{os.getuid()}")
    return os.path.join(base, "sortingview", "partial", f"{sha1}.part")


@contextlib.contextmanager
def _locked_part(path: str):
    """The ``.part`` file opened for appending, locked against a second process fetching the same file."""
    fd = open_file(path, os.O_RDWR | os.O_CREAT | os.O_APPEND)  # never through a link (file or folder)
    with os.fdopen(fd, "a+b") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield f
        finally:
            _drop_if_empty(path, f.fileno())
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def _drop_if_empty(path: str, fd: int) -> None:
    """Remove an empty ``.part`` left by a failed or unneeded fetch (only if it is still this file)."""
    with contextlib.suppress(FileNotFoundError):
        st, mine = os.stat(path), os.fstat(fd)
        if mine.st_size == 0 and (st.st_ino, st.st_dev) == (mine.st_ino, mine.st_dev):
            os.unlink(path)


def _fetch_from(peer: Peer, sha1: str, store, progress: bool) -> FetchResult:
    part = _partial_path(store, sha1)
    with _locked_part(part) as f:
        if store.has(sha1):  # another process finished it while this one waited for the lock
            path = store.local_path(sha1)
            return FetchResult(path, "(local store)", os.path.getsize(path), 0, 0)
        while True:
            digest, offset = _hash_kept(f)
            resp, offset, total = _open_transfer(peer, sha1, f, offset)
            if offset == 0:
                digest = hashlib.sha1()
            received = _stream(peer, resp, f, digest, offset, total, progress)
            f.flush()
            os.fsync(f.fileno())
            if digest.hexdigest() == sha1:
                break
            f.truncate(0)
            if offset == 0:
                raise IntegrityError(f"the {total} bytes received hash to {digest.hexdigest()}")
            # the kept part came from an earlier transfer (maybe another peer): fetch it all from this one
        path = _install(store, sha1, part)
    return FetchResult(path, peer.url, os.path.getsize(path), received, offset)


def _hash_kept(f) -> tuple:
    """sha1 state over the bytes already in the ``.part`` file, and their count."""
    digest = hashlib.sha1()
    f.seek(0)
    while block := f.read(_BLOCK):
        digest.update(block)
    return digest, f.tell()


def _open_transfer(peer: Peer, sha1: str, f, offset: int):
    """Ask for the bytes from ``offset`` on; return ``(response, offset, total)``, where ``offset`` is 0
    (and the kept part emptied) when the peer answers with the whole file instead."""
    resp = request(peer, "GET", f"/api/file/{sha1}", {"Range": f"bytes={offset}-"} if offset else {})
    if resp.status == 416 and offset:  # the kept part is not a prefix this peer can continue: start over
        resp.read()
        f.truncate(0)
        return _open_transfer(peer, sha1, f, 0)
    if resp.status == 404:
        resp.read()
        raise PeerError("does not have it")
    if resp.status == 206:
        first, _last, total = content_range(peer, resp)
        if first != offset:
            raise PeerError(f"answered bytes from {first} when asked from {offset}")
    elif resp.status == 200:
        length = resp.getheader("Content-Length") or ""
        if not length.isdigit():
            raise PeerError("sent no Content-Length")
        total, offset = int(length), 0
        f.truncate(0)  # a whole answer (also to a range request): the kept part is replaced
    else:
        raise PeerError(error_text(resp))
    if total > max_bytes():
        resp.close()
        raise PeerError(f"the file has {total} bytes, over the limit of {max_bytes()} (set {MAX_BYTES_ENV})")
    return resp, offset, total


def _stream(peer: Peer, resp, f, digest, offset: int, total: int, progress: bool) -> int:
    from tqdm import tqdm

    f.seek(0, os.SEEK_END)
    received = 0
    bar = tqdm(total=total, initial=offset, unit="B", unit_scale=True, desc=f"from {peer}", leave=False,
               disable=not progress or total < PROGRESS_MIN_BYTES or None)
    with bar:
        while offset + received < total:
            try:
                block = resp.read(min(_BLOCK, total - offset - received))
            except (OSError, http.client.HTTPException) as exc:
                block, reason = b"", str(exc) or type(exc).__name__
            else:
                reason = "the connection closed"
            if not block:
                f.flush()
                raise PeerError(f"{reason} after {offset + received} of {total} bytes; the part is kept and "
                                "the next fetch continues it")
            f.write(block)
            digest.update(block)
            received += len(block)
            bar.update(len(block))
    return received


def _install(store, sha1: str, part: str) -> str:
    """Move a verified ``.part`` into the store (a rename for a directory store, a copy otherwise)."""
    if store.directory:
        dest = os.path.join(store.directory, "sha1", shard(sha1), sha1)  # the layout of doc/store.md
        finish_file(part)
        move_file(part, dest)
    else:
        with open(part, "rb") as g:
            store.put_bytes(g.read())
        os.unlink(part)
    return store.local_path(sha1)
