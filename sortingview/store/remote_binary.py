"""A file that lives on peers, read by byte range through a local cache of verified chunks.

:class:`RemoteFile` gets the file's chunk manifest (sortingview.store.chunk_manifest) from a peer once, then
answers ``read(offset, n)`` by fetching only the chunks that cover those bytes and are not cached yet
(consecutive missing chunks in one range request). Every chunk is hashed and compared with its manifest
entry before it is used. Fetched chunks are written at their offsets into a sparse cache file,
``<store>/sortingview/remote/<sha1>-<chunk size>.cache``; whether a chunk is cached is decided by hashing it
against the manifest (once per process), never by a record of what was written, so holes, half-written chunks
and damage are simply fetched again. A peer that sends a chunk that does not match is named in a warning and
the next peer is asked. Runs of chunks are asked for compressed when the peer serves that
(store/chunk_codec.py); the check is on the decompressed bytes. The trust argument is in doc/sharing.md.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
import time
import warnings

from ..errors import IntegrityError, NotFoundError
from ._fs import move_file, open_file, sha1_of_file, shard
from .chunk_manifest import (
    MAX_CHUNKS,
    ChunkManifest,
    cached_manifest,
    manifest_key,
    parse_manifest,
    remember_manifest,
)
from .peer_http import Peer, PeerError, content_range, error_text, read_body, request
from .peers import PeerWarning
from .uri import parse_uri

MANIFEST_WAIT_ENV = "SORTINGVIEW_PEER_MANIFEST_WAIT"
MAX_RUN_BYTES = 32 * 1024 * 1024  # at most this much in one range request (and in memory at once)


class TransferStats:
    """Bytes and requests a process sent for lazily read files (benchmarks and tests read these)."""

    def __init__(self) -> None:
        self.bytes_received = 0  # on the wire (compressed, when the peer compressed them)
        self.raw_bytes = 0  # the file's bytes they carried
        self.requests = 0
        self.chunks_fetched = 0
        self._lock = threading.Lock()

    def add(self, nbytes: int, nchunks: int, raw: int | None = None) -> None:
        with self._lock:
            self.bytes_received += nbytes
            self.raw_bytes += nbytes if raw is None else raw
            self.requests += 1
            self.chunks_fetched += nchunks


STATS = TransferStats()


def manifest_wait() -> float:
    """Seconds to wait for a peer that is building a manifest (default one hour: a 40 GB file takes minutes)."""
    raw = os.environ.get(MANIFEST_WAIT_ENV, "")
    try:
        return min(max(float(raw), 0.0), 86400.0) if raw else 3600.0
    except ValueError:
        raise PeerError(f"{MANIFEST_WAIT_ENV}={raw!r} must be a number of seconds") from None


class RemoteFile:
    """The file ``sha1`` on ``peers``, read lazily in chunks of ``chunk_size`` bytes."""

    def __init__(self, sha1: str, peers: list[Peer], chunk_size: int, store=None, manifest_uri: str | None = None):
        """``manifest_uri`` (the ``chunkManifest`` of a recording object) names the manifest by its sha1, so the
        manifest, and with it every chunk, is proven by the URI the object came from; its chunk size then
        replaces ``chunk_size``. Without it the manifest is asked of a peer and proven only when the whole file
        has been read (doc/sharing.md)."""
        from . import get_store

        if not peers:
            raise NotFoundError(f"sha1://{sha1} is not in the local store and no peers are set "
                                "(sortingview peer add URL, or SORTINGVIEW_PEERS)")
        self.sha1, self.chunk_size, self.manifest_uri = sha1, chunk_size, manifest_uri
        self.store = store or get_store()
        self.peers = list(peers)
        self._manifest: ChunkManifest | None = None
        self._verified: set[int] = set()  # chunks of the cache file checked against the manifest here
        self._fd: int | None = None
        self.manifest_peer: str | None = None  # who sent the manifest (None: it was cached here)
        self._plain_peers: set[str] = set()  # peers without compressed chunks (store/chunk_codec.py)
        self._lock = threading.Lock()

    def close(self, _close=os.close) -> None:
        # (os.close bound as a default: at interpreter shutdown __del__ may run after the os module is gone)
        with self._lock:
            fd, self._fd = self._fd, None
        if fd is not None:
            _close(fd)

    def __del__(self) -> None:
        if getattr(self, "_lock", None) is not None:  # (an __init__ that raised leaves no lock, nor a descriptor)
            self.close()

    def __getstate__(self) -> dict:
        """A copy (``copy.copy``, pickling) opens its own cache descriptor and has its own lock: two objects
        closing one descriptor number would close whatever the process had opened under it in between."""
        state = dict(self.__dict__)
        state.update(_fd=None, _lock=None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    @property
    def manifest(self) -> ChunkManifest:
        if self._manifest is None:
            if self.manifest_uri:
                self._manifest = self._proven_manifest()
            else:
                self._manifest = cached_manifest(self.store, self.sha1, self.chunk_size) or self._fetch_manifest()
        return self._manifest

    def _proven_manifest(self) -> ChunkManifest:
        """The manifest named by ``manifest_uri``: from the local store or fetched whole from the peers, its
        sha1 checked, so it is as proven as the recording object that names it."""
        from . import load_bytes

        msha1 = parse_uri(self.manifest_uri).sha1
        data = load_bytes(self.manifest_uri)  # from peers: verified by its sha1 before it enters the store
        if hashlib.sha1(data).hexdigest() != msha1:
            raise IntegrityError(f"the local copy of {self.manifest_uri} does not match its sha1; delete it from "
                                 "the store so that it is fetched again")
        try:
            manifest = parse_manifest(data, self.sha1, None)
        except ValueError as exc:
            raise IntegrityError(f"{self.manifest_uri}, the chunk manifest the recording object names for "
                                 f"sha1://{self.sha1}, is not one: {exc}") from None
        self.chunk_size = manifest.chunk_size
        return manifest

    @property
    def size(self) -> int:
        return self.manifest.size

    def _fetch_manifest(self) -> ChunkManifest:
        failures = []
        for peer in self.peers:
            try:
                manifest = self._manifest_from(peer)
            except PeerError as exc:
                failures.append(f"{peer}: {exc}")
                continue
            remember_manifest(self.store, manifest)
            self.manifest_peer = peer.url
            self.peers.remove(peer)
            self.peers.insert(0, peer)  # the peer that has the file is asked first for its chunks
            return manifest
        raise NotFoundError(f"no peer has a chunk manifest of sha1://{self.sha1} ({'; '.join(failures)})")

    def _manifest_from(self, peer: Peer) -> ChunkManifest:
        deadline = time.monotonic() + manifest_wait()
        while True:
            resp = request(peer, "GET", f"/api/manifest/{self.sha1}?chunk={self.chunk_size}")
            if resp.status != 202:
                break
            resp.read()  # the owner is hashing the file (minutes for a large one): ask again as it says
            retry = resp.getheader("Retry-After") or ""
            pause = min(max(float(retry) if retry.isdigit() else 2.0, 0.5), 30.0)
            if time.monotonic() + pause > deadline:
                raise PeerError(f"was still building the chunk manifest after {manifest_wait():g} s "
                                f"(set {MANIFEST_WAIT_ENV} to wait longer)")
            time.sleep(pause)
        if resp.status != 200:
            raise PeerError(error_text(resp))
        data = read_body(peer, resp, 20 * MAX_CHUNKS + 200)
        claimed = resp.getheader("X-Sortingview-Manifest-Sha1")
        if claimed and claimed != hashlib.sha1(data).hexdigest():
            raise PeerError("sent a manifest that does not match its own sha1 header")
        try:
            return parse_manifest(data, self.sha1, self.chunk_size)
        except ValueError as exc:
            raise PeerError(f"sent a bad manifest: {exc}") from None

    def read(self, offset: int, n: int) -> bytes:
        """``n`` bytes from ``offset``, every one of them verified against the manifest."""
        m = self.manifest
        if offset < 0 or n < 0 or offset + n > m.size:
            raise ValueError(f"bytes {offset}..{offset + n} are outside sha1://{self.sha1} ({m.size} bytes)")
        if n == 0:
            return b""
        i0, i1 = offset // m.chunk_size, (offset + n - 1) // m.chunk_size + 1
        start, end = m.chunk_span(i0)[0], m.chunk_span(i1 - 1)[1]
        buf = bytearray(os.pread(self._cache_fd(), end - start, start).ljust(end - start, b"\0"))
        missing = [i for i in range(i0, i1) if not self._cached(buf, start, i)]
        per_run = max(1, MAX_RUN_BYTES // m.chunk_size)
        run: list[int] = []
        for i in missing + [-1]:
            if run and (i != run[-1] + 1 or len(run) >= per_run):
                a, b = m.chunk_span(run[0])[0], m.chunk_span(run[-1])[1]
                buf[a - start:b - start] = self._fetch_run(run[0], run[-1] + 1)
                run = []
            if i >= 0:
                run.append(i)
        if missing and len(self._verified) == m.num_chunks:
            self._verify_whole()
        return bytes(buf[offset - start:offset - start + n])

    def _cache_path(self) -> str:
        base = self.store.directory or os.path.join(tempfile.gettempdir(), f"sortingview-{os.getuid()}")
        return os.path.join(base, "sortingview", "remote", f"{self.sha1}-{self.chunk_size}.cache")

    def _verify_whole(self) -> None:
        """Every chunk is here: check the whole file against its URI, which also proves the manifest; a
        verified file joins the store (a hard link), so later loads are local."""
        actual = sha1_of_file(self._cache_path())
        if actual != self.sha1:
            self._verified.clear()
            os.ftruncate(self._cache_fd(), 0)
            source = self.manifest_uri or self.manifest_peer or "the local cache"
            if not self.manifest_uri:
                self.store.delete_mutable(manifest_key(self.sha1, self.chunk_size))
            raise IntegrityError(f"all chunks of sha1://{self.sha1} matched the chunk manifest from {source}, "
                                 f"but the whole file hashes to {actual}: that manifest describes other bytes; "
                                 "remove that peer (or the object that names that manifest)")
        if self.store.directory and not self.store.has(self.sha1):
            dest = os.path.join(self.store.directory, "sha1", shard(self.sha1), self.sha1)
            with contextlib.suppress(FileExistsError):
                move_file(self._cache_path(), dest, keep_src=True)

    def _cache_fd(self) -> int:
        """The sparse cache file: chunks at their offsets, holes elsewhere (read as zeros)."""
        if self._fd is None:
            with self._lock:
                if self._fd is None:
                    path = self._cache_path()
                    fd = open_file(path, os.O_RDWR | os.O_CREAT)  # never through a link (file or folder)
                    if os.fstat(fd).st_size < self.manifest.size:
                        os.ftruncate(fd, self.manifest.size)
                    self._fd = fd
        return self._fd

    def _cached(self, buf: bytearray, start: int, i: int) -> bool:
        """Whether chunk ``i`` in the cache file (read into ``buf``) matches its manifest digest.

        The digest decides, never a record of what was written: a hole, a chunk half-written by another
        process or a damaged file simply do not match, and the chunk is fetched again.
        """
        if i in self._verified:
            return True
        s, e = self.manifest.chunk_span(i)
        if not self.manifest.check(i, buf[s - start:e - start]):
            return False
        self._verified.add(i)
        return True

    def _fetch_run(self, a: int, b: int) -> bytes:
        failures = []
        for peer in self.peers:
            try:
                return self._fetch_run_from(peer, a, b)
            except IntegrityError as exc:
                warnings.warn(f"peer {peer} sent bytes of sha1://{self.sha1} that do not match its chunk "
                              f"manifest; skipped it ({exc})", PeerWarning, stacklevel=2)
                failures.append(f"{peer}: wrong bytes")
            except PeerError as exc:
                failures.append(f"{peer}: {exc}")
        raise NotFoundError(f"no peer sent verified chunks {a}..{b - 1} of sha1://{self.sha1} "
                            f"({'; '.join(failures)})")

    def _fetch_run_from(self, peer: Peer, a: int, b: int) -> bytes:
        """Chunks ``a..b-1`` from ``peer``, each verified, written to the cache file; their bytes."""
        m = self.manifest
        start, end = m.chunk_span(a)[0], m.chunk_span(b - 1)[1]
        data = self._compressed_run(peer, start, end, b - a)
        if data is None:
            data = self._plain_run(peer, start, end, b - a)
        for i in range(a, b):
            s, e = m.chunk_span(i)
            chunk = data[s - start:e - start]
            if not m.check(i, chunk):
                raise IntegrityError(f"chunk {i} (bytes {s}-{e - 1}) does not match the manifest")
        os.pwrite(self._cache_fd(), data, start)
        self._verified.update(range(a, b))
        return data

    def _compressed_run(self, peer: Peer, start: int, end: int, nchunks: int) -> bytes | None:
        """Bytes ``start..end-1`` sent compressed and inflated here (not verified yet); None when the peer
        does not serve compressed chunks (then it is asked for plain ranges from now on)."""
        from .chunk_codec import CODEC, CodecError, compression_wanted, decode, max_encoded

        if peer.url in self._plain_peers or not compression_wanted():
            return None
        resp = request(peer, "GET", f"/api/chunks/{self.sha1}?start={start}&end={end}&codec={CODEC}")
        if resp.status != 200 or resp.getheader("X-Sortingview-Codec") != CODEC:
            resp.close()
            if resp.status in (200, 404, 405):  # an older server, or one without the file: plain ranges tell
                self._plain_peers.add(peer.url)
                return None
            raise PeerError(error_text(resp))
        body = read_body(peer, resp, max_encoded(end - start))
        STATS.add(len(body), nchunks, raw=end - start)
        try:
            return decode(body, end - start)
        except CodecError as exc:
            raise IntegrityError(f"compressed bytes {start}-{end - 1}: {exc}") from None

    def _plain_run(self, peer: Peer, start: int, end: int, nchunks: int) -> bytes:
        m = self.manifest
        resp = request(peer, "GET", f"/api/file/{self.sha1}", {"Range": f"bytes={start}-{end - 1}"})
        if resp.status == 206:
            first, last, total = content_range(peer, resp)
            if (first, last + 1, total) != (start, end, m.size):
                resp.close()
                raise PeerError(f"answered bytes {first}-{last}/{total} when asked {start}-{end - 1}/{m.size}")
        elif not (resp.status == 200 and (start, end) == (0, m.size)):
            raise PeerError(error_text(resp))
        data = read_body(peer, resp, end - start)
        if len(data) != end - start:
            raise PeerError(f"sent {len(data)} of {end - start} bytes")
        STATS.add(len(data), nchunks)
        return data
