"""Chunk manifests: what a reader checks each fixed-size chunk of a stored or linked file against.

A manifest is one content-addressed file::

    sortingview-chunk-manifest <version> <file sha1> <file size> <chunk size>\\n
    <20 bytes for chunk 0><20 bytes for chunk 1>...

In version 2 (chunks of a multiple of 64 bytes) the 20 bytes of a chunk are the file's SHA-1 chaining value
after it, and for the last chunk the file's sha1 (``sha1_chain.py``): all of them come from the one sha1 of
the file. In version 1 (other chunk sizes, or a Python whose hashlib does not expose OpenSSL's SHA-1) they
are the chunk's own sha1, a second hash of every byte. :meth:`ChunkManifest.check` checks a chunk either way.

The owner of a file builds it once per chunk size (one pass that also checks the whole-file sha1, so a
manifest is never published for a linked file that changed) and caches it in its store; the mutable
``@sortingview/@chunk_manifests/<sha1>-<chunk>`` names the manifest's own sha1.
"""
from __future__ import annotations

import collections
import contextlib
import hashlib
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Iterator

from ..errors import IntegrityError, SortingviewError
from . import sha1_chain

MAGIC = b"sortingview-chunk-manifest"
VERSIONS = (1, 2)
MIN_CHUNK = 256
MAX_CHUNK = 16 * 1024 * 1024
MAX_CHUNKS = 1 << 22  # 80 MiB of digests; a finer manifest of a larger file is refused
_HEADER_MAX = 200
_READ_BLOCK = 32 * 1024 * 1024
_HASH_AHEAD = 3  # blocks the chunks' hashes may run ahead of the whole file's (memory: that many blocks more)
_build_lock = threading.Lock()  # one full-file pass at a time, whatever the number of requests


class ManifestError(SortingviewError, ValueError):
    """A chunk size or manifest is not acceptable."""


@dataclass(frozen=True)
class ChunkManifest:
    sha1: str
    size: int
    chunk_size: int
    digests: bytes  # 20 bytes per chunk
    version: int = 1

    @property
    def num_chunks(self) -> int:
        return len(self.digests) // 20

    def chunk_sha1(self, i: int) -> str:
        """The sha1 of chunk ``i`` (version 1)."""
        if self.version != 1:
            raise ManifestError(f"a version {self.version} manifest lists chaining values, not the chunks' sha1s")
        return self.digests[20 * i:20 * i + 20].hex()

    def check(self, i: int, data) -> bool:
        """Whether ``data`` is chunk ``i`` of the file."""
        entry = self.digests[20 * i:20 * i + 20]
        if self.version == 1:
            return hashlib.sha1(data).digest() == entry
        before = self.digests[20 * i - 20:20 * i] if i else None
        return sha1_chain.check(before, i * self.chunk_size, data, entry, i == self.num_chunks - 1)

    def chunk_span(self, i: int) -> tuple[int, int]:
        start = i * self.chunk_size
        return start, min(start + self.chunk_size, self.size)

    def to_bytes(self) -> bytes:
        return b"%s %d %s %d %d\n" % (MAGIC, self.version, self.sha1.encode(), self.size, self.chunk_size) + \
            self.digests


def num_chunks(size: int, chunk_size: int) -> int:
    return max(1, -(-size // chunk_size)) if size else 0


def check_chunk_size(chunk_size: int, size: int | None = None) -> int:
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or not MIN_CHUNK <= chunk_size <= MAX_CHUNK:
        raise ManifestError(f"chunk size {chunk_size!r} must be a whole number of bytes from {MIN_CHUNK} to "
                            f"{MAX_CHUNK}")
    if size is not None and num_chunks(size, chunk_size) > MAX_CHUNKS:
        least = -(-size // MAX_CHUNKS)
        raise ManifestError(f"a {size}-byte file in chunks of {chunk_size} bytes needs more than {MAX_CHUNKS} "
                            f"chunks; use a chunk size of at least {least}")
    return chunk_size


def parse_manifest(data: bytes, sha1: str, chunk_size: int | None) -> ChunkManifest:
    """Check that ``data`` is the manifest of ``sha1`` in chunks of ``chunk_size`` and consistent.

    ``chunk_size=None`` takes the chunk size the manifest names (within the bounds of check_chunk_size): for a
    manifest proven by its own sha1 (a recording object's ``chunkManifest``), whose chunk size the owner chose.
    """
    head, sep, digests = data[:_HEADER_MAX].partition(b"\n")
    parts = head.split(b" ")
    if not sep or len(parts) != 5 or parts[0] != MAGIC:
        raise ManifestError("not a sortingview chunk manifest")
    if parts[1] not in [b"%d" % v for v in VERSIONS]:
        raise ManifestError(f"a chunk manifest of version {parts[1][:10]!r}, which this sortingview does not read "
                            f"(it reads versions {', '.join(map(str, VERSIONS))}): update sortingview")
    digests = data[len(head) + 1:]
    try:
        m = ChunkManifest(parts[2].decode("ascii"), int(parts[3]), int(parts[4]), digests, int(parts[1]))
    except (UnicodeDecodeError, ValueError):
        raise ManifestError("the manifest header is malformed") from None
    if chunk_size is None:
        chunk_size = check_chunk_size(m.chunk_size)
    if m.sha1 != sha1 or m.chunk_size != chunk_size:
        raise ManifestError(f"the manifest is of sha1://{m.sha1} in chunks of {m.chunk_size}, not of "
                            f"sha1://{sha1} in chunks of {chunk_size}")
    if m.size < 0 or len(digests) != 20 * num_chunks(m.size, chunk_size):
        raise ManifestError(f"the manifest lists {len(digests) // 20} chunks for a {m.size}-byte file")
    if m.version == 2 and (chunk_size % 64 or (m.size and digests[-20:] != bytes.fromhex(m.sha1))):
        raise ManifestError("a version 2 manifest needs chunks of a multiple of 64 bytes and ends in the file's sha1")
    return m


def build_manifest(path: str, sha1: str, chunk_size: int) -> ChunkManifest:
    """Hash ``path`` chunk by chunk, checking on the way that the whole file still hashes to ``sha1``."""
    manifest = hash_in_chunks(path, chunk_size)
    if manifest.sha1 != sha1:
        raise IntegrityError(f"the file {path} no longer hashes to sha1://{sha1}; no manifest is published for it")
    return manifest


def hash_in_chunks(path: str, chunk_size: int) -> ChunkManifest:
    """The manifest of ``path`` and its whole-file sha1, from one read of the file.

    Blocks of whole chunks are read ahead on reader threads (``direct_io.prefetched``; a file larger than
    half the memory is read with ``O_DIRECT``, which leaves the cores to the hashes). In version 2 the one
    sha1 of the file gives every chunk's entry (41.5 GB: about 19-20 s, one core's sha1). In version 1 each
    block is hashed whole in a second thread while this one hashes its chunks (hashlib releases the GIL), the
    two up to _HASH_AHEAD blocks apart rather than in step: about the longer of one read and one sha1 with
    two cores (23.4-23.9 s for the same file, 40-41 s of CPU).
    """
    from ..direct_io import File, file_blocks

    chained = chunk_size % 64 == 0 and sha1_chain.available()
    take = _ALONG.get(os.path.realpath(path)) if chained else None
    block = max(1, _READ_BLOCK // chunk_size) * chunk_size  # whole chunks, read into one buffer
    with File(path) as f, _quick_switches():
        blocks = file_blocks(f, block, holders=1 if chained and take is None else _HASH_AHEAD)
        try:
            if chained:
                return _chained(blocks, block, chunk_size, take)
            return _two_hashes(blocks, block, chunk_size)
        finally:
            blocks.close()


#: the interpreter's switch interval while a file is hashed. The reader threads that keep the reads ahead of
#: the hash need the GIL between their reads; with Python's default (5 ms) they waited for it long enough
#: that the hash waited for blocks: 2.1-5.3 s of a 41.5 GB link, 0.1-0.4 s with this
SWITCH_S = 0.0005
_switch_lock = threading.Lock()
_switching = {"users": 0, "saved": 0.005}


@contextlib.contextmanager
def _quick_switches() -> Iterator[None]:
    """:data:`SWITCH_S` as the switch interval while any hashing pass runs (the process's own afterwards)."""
    with _switch_lock:
        if _switching["users"] == 0:
            _switching["saved"] = sys.getswitchinterval()
            sys.setswitchinterval(min(SWITCH_S, _switching["saved"]))
        _switching["users"] += 1
    try:
        yield
    finally:
        with _switch_lock:
            _switching["users"] -= 1
            if _switching["users"] == 0:
                sys.setswitchinterval(_switching["saved"])


#: who else reads a file's blocks as it is hashed (:func:`reading_along`), by the file's real path
_ALONG: dict[str, Callable] = {}
_along_lock = threading.Lock()


@contextlib.contextmanager
def reading_along(path: str, take: Callable[[memoryview, int, Callable[[], None]], None]) -> Iterator[None]:
    """While this lasts, a version 2 manifest's pass over ``path`` also hands every block it reads to
    ``take(view, byte offset, release)`` (in the file's order, from the hashing thread), which must call
    ``release()`` once done with the view, in any thread; the block's buffer is read into again only then.
    Nothing is handed on when the file is not read (its sha1 and manifest known) or is hashed in version 1."""
    key = os.path.realpath(path)
    with _along_lock:
        if key in _ALONG:
            raise RuntimeError(f"{path} is already read along with its hashing")
        _ALONG[key] = take
    try:
        yield
    finally:
        with _along_lock:
            _ALONG.pop(key, None)


def _after_both(release: Callable[[], None]) -> Callable[[], None]:
    """``release``, called on the second call of the function returned (the hash and the reader along)."""
    lock, calls = threading.Lock(), [0]

    def done() -> None:
        with lock:
            calls[0] += 1
            last = calls[0] == 2
        if last:
            release()

    return done


def _chained(blocks, block: int, chunk_size: int, take=None) -> ChunkManifest:
    """Version 2: the chaining value after every whole chunk, and the file's sha1 for the last one."""
    chain, states, size = sha1_chain.Chain(), bytearray(), 0
    for held in blocks:
        release = held.release if take is None else _after_both(held.release)
        try:
            view = memoryview(held.data)
            n = len(view)
            if take is not None:
                take(view, size, release)
            whole = n - n % chunk_size
            states += chain.states(view[:whole], chunk_size)
            chain.update(view[whole:])
            size += n
        finally:
            release()
        if n < block:  # the file ended (early, if it changed: the caller compares the size)
            break
    digest = chain.digest()
    if size % chunk_size == 0 and states:
        del states[-20:]  # the last chunk is whole: its entry is the file's sha1, not the value before padding
    return ChunkManifest(digest.hex(), size, chunk_size, bytes(states) + digest if size else b"", 2)


def _two_hashes(blocks, block: int, chunk_size: int) -> ChunkManifest:
    """Version 1: every chunk's own sha1, and the whole file's in a second thread."""
    whole, digests, size = hashlib.sha1(), bytearray(), 0
    sha1 = hashlib.sha1
    hashing: collections.deque = collections.deque()  # (block, the whole-file hash's update of it)
    with ThreadPoolExecutor(1, thread_name_prefix="sha1-pass") as pool:
        # the two hashes are not kept in step block by block: a block is released once both are past it
        for held in blocks:
            view = memoryview(held.data)
            n = len(view)
            hashing.append((held, pool.submit(whole.update, view)))
            digests += b"".join([sha1(view[i:min(i + chunk_size, n)]).digest() for i in range(0, n, chunk_size)])
            while hashing and (hashing[0][1].done() or len(hashing) >= _HASH_AHEAD):
                done, update = hashing.popleft()
                update.result()
                done.release()
            size += n
            if n < block:  # the file ended early (it changed): the caller compares the size
                break
        for done, update in hashing:
            update.result()
            done.release()
    return ChunkManifest(whole.hexdigest(), size, chunk_size, bytes(digests))


def manifest_key(sha1: str, chunk_size: int) -> str:
    return f"@sortingview/@chunk_manifests/{sha1}-{chunk_size}"


def manifest_of_local(store, sha1: str, chunk_size: int, *, wait: bool = True) -> tuple[str, ChunkManifest] | None:
    """``(manifest sha1, manifest)`` of a file in ``store``: from the cache, or built once and cached.

    With ``wait=False`` a manifest not built yet is started in a background thread (one build at a time)
    and None is returned: ask again later. A failed build raises its error to the next caller.
    """
    path = store.local_path(sha1)
    check_chunk_size(chunk_size, os.path.getsize(path))
    key = manifest_key(sha1, chunk_size)
    cached = store.get_mutable(key)
    if cached and store.has(cached):
        return cached, parse_manifest(store.read_bytes(cached), sha1, chunk_size)
    if wait:
        with _build_lock:
            return _build_and_cache(store, path, sha1, chunk_size)
    with _jobs_lock:
        failed = _failed.pop(key, None)
        if failed is not None:
            raise failed
        if key not in _running and _build_lock.acquire(blocking=False):
            _running.add(key)
            threading.Thread(target=_background_build, args=(store, path, sha1, chunk_size, key), daemon=True,
                             name=f"manifest-{sha1[:8]}").start()
    return None


_jobs_lock = threading.Lock()
_running: set[str] = set()
_failed: dict[str, Exception] = {}


def _build_and_cache(store, path: str, sha1: str, chunk_size: int) -> tuple[str, ChunkManifest]:
    manifest = build_manifest(path, sha1, chunk_size)
    msha1 = store.put_bytes(manifest.to_bytes())
    store.set_mutable(manifest_key(sha1, chunk_size), msha1)
    return msha1, manifest


def _background_build(store, path: str, sha1: str, chunk_size: int, key: str) -> None:
    try:
        _build_and_cache(store, path, sha1, chunk_size)
    except (OSError, SortingviewError) as exc:
        with _jobs_lock:
            _failed[key] = exc
    finally:
        with _jobs_lock:
            _running.discard(key)
        _build_lock.release()


def remember_manifest(store, manifest: ChunkManifest) -> str:
    """Keep a manifest received from a peer in the local store; return its sha1."""
    msha1 = store.put_bytes(manifest.to_bytes())
    store.set_mutable(manifest_key(manifest.sha1, manifest.chunk_size), msha1)
    return msha1


def cached_manifest(store, sha1: str, chunk_size: int) -> ChunkManifest | None:
    msha1 = store.get_mutable(manifest_key(sha1, chunk_size))
    if not msha1 or not store.has(msha1):
        return None
    data = store.read_bytes(msha1)
    if hashlib.sha1(data).hexdigest() != msha1:
        return None
    return parse_manifest(data, sha1, chunk_size)
