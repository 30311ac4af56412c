"""Compressed chunk transfer between peers: ``GET /api/chunks/<sha1>?start=<byte>&end=<byte>&codec=zlib``.

A lazily read recording asks its peers for runs of chunks compressed (zlib, level 1, from the standard library)
instead of plain byte ranges: raw int16 traces are mostly noise of a few counts and shrink to 35-55% of their
size (doc/benchmarks.md, "Sharing between servers"). Nothing is trusted for it: the client decompresses, then
hashes every *decompressed* chunk against the chunk manifest exactly as for a plain range, and decompression
is bounded by the number of bytes asked for (a body that inflates to more, or to less, is refused). A peer
without the route (404/405) is asked by plain ranges from then on. ``SORTINGVIEW_PEER_COMPRESS=0`` turns it off.
"""
from __future__ import annotations

import os
import zlib

CODEC = "zlib"
LEVEL = 1  # noise does not compress better at higher levels; level 1 is several times faster
COMPRESS_ENV = "SORTINGVIEW_PEER_COMPRESS"
MAX_RAW_BYTES = 32 * 1024 * 1024  # one compressed answer covers at most this many bytes of the file


class CodecError(ValueError):
    """A compressed body that does not inflate to exactly the bytes asked for."""


def compression_wanted() -> bool:
    return os.environ.get(COMPRESS_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def encode(data: bytes) -> bytes:
    return zlib.compress(data, LEVEL)


def max_encoded(n: int) -> int:
    """The largest body a peer may send for ``n`` bytes (zlib's worst case for incompressible data, with room)."""
    return n + n // 100 + 1024


def decode(body: bytes, n: int) -> bytes:
    """The ``n`` bytes ``body`` inflates to; CodecError when it is not a whole zlib stream of exactly ``n``
    bytes (never inflates more than ``n`` bytes, whatever the body)."""
    d = zlib.decompressobj()
    try:
        out = d.decompress(body, n)
    except zlib.error as exc:
        raise CodecError(f"not a zlib stream ({exc})") from None
    if len(out) != n or not d.eof or d.unconsumed_tail or d.unused_data:
        raise CodecError(f"the body does not inflate to exactly the {n} bytes asked for")
    return out


def read_range(path: str, start: int, end: int) -> bytes:
    """Bytes ``start..end-1`` of the file at ``path`` (the server side)."""
    with open(path, "rb") as f:
        data = os.pread(f.fileno(), end - start, start)
    if len(data) != end - start:
        raise OSError(f"{path} ends before byte {end}")
    return data
