"""A file that lives on peers, read by byte range through a local cache of verified chunks.

:class:`RemoteFile` gets the file's chunk manifest (sortingview.store.chunk_manifest) from a peer once, then
answers ``read(offset, n)`` by fetching only the chunks that cover those bytes and are not cached yet
(consecutive missing chunks in one range request). Every chunk is hashed and compared with its manifest
entry before it is used; a verified chunk is kept in the local store under its own sha1, so it is read from
the network at most once (and identical chunks are kept once). A peer that sends a chunk that does not
match is named in a warning and the next peer is asked. The trust argument is in doc/sharing.md.
"""
from __future__ import annotations

import hashlib
import threading
import warnings

from ..errors import IntegrityError, NotFoundError
from .chunk_manifest import MAX_CHUNKS, ChunkManifest, cached_manifest, parse_manifest, remember_manifest
from .peer_http import Peer, PeerError, content_range, error_text, read_body, request
from .peers import PeerWarning

MAX_RUN_BYTES = 32 * 1024 * 1024  # at most this much in one range request (and in memory at once)
_MEMO_CHUNKS = 256  # the last chunks read, kept in memory: neighbouring snippets share chunks


class TransferStats:
    """Bytes and requests a process sent for lazily read files (benchmarks and tests read these)."""

    def __init__(self) -> None:
        self.bytes_received = 0
        self.requests = 0
        self.chunks_fetched = 0
        self._lock = threading.Lock()

    def add(self, nbytes: int, nchunks: int) -> None:
        with self._lock:
            self.bytes_received += nbytes
            self.requests += 1
            self.chunks_fetched += nchunks


STATS = TransferStats()


class RemoteFile:
    """The file ``sha1`` on ``peers``, read lazily in chunks of ``chunk_size`` bytes."""

    def __init__(self, sha1: str, peers: list[Peer], chunk_size: int, store=None):
        from . import get_store

        if not peers:
            raise NotFoundError(f"sha1://{sha1} is not in the local store and no peers are set "
                                "(sortingview peer add URL, or SORTINGVIEW_PEERS)")
        self.sha1, self.chunk_size = sha1, chunk_size
        self.store = store or get_store()
        self.peers = list(peers)
        self._manifest: ChunkManifest | None = None
        self._memo: dict[int, bytes] = {}
        self._lock = threading.Lock()

    @property
    def manifest(self) -> ChunkManifest:
        if self._manifest is None:
            self._manifest = cached_manifest(self.store, self.sha1, self.chunk_size) or self._fetch_manifest()
        return self._manifest

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
            self.peers.remove(peer)
            self.peers.insert(0, peer)  # the peer that has the file is asked first for its chunks
            return manifest
        raise NotFoundError(f"no peer has a chunk manifest of sha1://{self.sha1} ({'; '.join(failures)})")

    def _manifest_from(self, peer: Peer) -> ChunkManifest:
        resp = request(peer, "GET", f"/api/manifest/{self.sha1}?chunk={self.chunk_size}")
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
        self._ensure(i0, i1)
        data = b"".join(self._chunk(i) for i in range(i0, i1))
        start = offset - i0 * m.chunk_size
        return data[start:start + n]

    def _chunk(self, i: int) -> bytes:
        data = self._memo.get(i)
        if data is None:
            data = self.store.read_bytes(self.manifest.chunk_sha1(i))
            with self._lock:
                if len(self._memo) >= _MEMO_CHUNKS:
                    self._memo.pop(next(iter(self._memo)))
                self._memo[i] = data
        return data

    def _ensure(self, i0: int, i1: int) -> None:
        m = self.manifest
        missing = [i for i in range(i0, i1) if i not in self._memo and not self.store.has(m.chunk_sha1(i))]
        per_run = max(1, MAX_RUN_BYTES // m.chunk_size)
        run: list[int] = []
        for i in missing:
            if run and (i != run[-1] + 1 or len(run) >= per_run):
                self._fetch_run(run[0], run[-1] + 1)
                run = []
            run.append(i)
        if run:
            self._fetch_run(run[0], run[-1] + 1)

    def _fetch_run(self, a: int, b: int) -> None:
        failures = []
        for peer in self.peers:
            try:
                self._fetch_run_from(peer, a, b)
                return
            except IntegrityError as exc:
                warnings.warn(f"peer {peer} sent bytes of sha1://{self.sha1} that do not match its chunk "
                              f"manifest; skipped it ({exc})", PeerWarning, stacklevel=2)
                failures.append(f"{peer}: wrong bytes")
            except PeerError as exc:
                failures.append(f"{peer}: {exc}")
        raise NotFoundError(f"no peer sent verified chunks {a}..{b - 1} of sha1://{self.sha1} "
                            f"({'; '.join(failures)})")

    def _fetch_run_from(self, peer: Peer, a: int, b: int) -> None:
        m = self.manifest
        start, end = m.chunk_span(a)[0], m.chunk_span(b - 1)[1]
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
        STATS.add(len(data), b - a)
        for i in range(a, b):
            s, e = m.chunk_span(i)
            chunk = data[s - start:e - start]
            if hashlib.sha1(chunk).hexdigest() != m.chunk_sha1(i):
                raise IntegrityError(f"chunk {i} (bytes {s}-{e - 1}) hashes to {hashlib.sha1(chunk).hexdigest()}")
            self.store.put_bytes(chunk)
