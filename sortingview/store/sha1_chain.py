"""SHA-1 chaining values: where a file's sha1 stands after each of its chunks.

SHA-1 reads a message in 64-byte blocks and carries a 20-byte chaining value from one block to the next;
the digest is the value after the padding. A version 2 chunk manifest (``chunk_manifest.py``) lists the
value after every chunk (chunks of a multiple of 64 bytes), and for the last chunk the file's sha1. The
link computes them in the one sha1 of the file it computes anyway; version 1 hashed every chunk again, a
second sha1 of the whole file (41.5 GB: 19 s of a core). A chunk is checked by carrying the value before it
over the chunk's bytes (:func:`check`): to the value after it, or, for the last chunk, through the padding to
the file's sha1. A chunk that passes and is not the file's own is a second preimage of SHA-1's compression
from a given value: as hard to make as one that passes a version 1 manifest (the chunk's own sha1, the same
compression from SHA-1's initial value).

The values are read out of OpenSSL's ``SHA_CTX`` (a public struct: h0..h4, the bit count Nl/Nh, the pending
block, its length), with ``SHA1_Init``/``SHA1_Update``/``SHA1_Final`` from the library Python's hashlib is
linked to, called from a numba loop (one call per chunk, at hashlib's speed). A Python whose hashlib does not
expose them builds version 1 manifests (:func:`available`) and checks version 2 chunks with the numba SHA-1
below (0.46 GB/s on one core against OpenSSL's 2.2).
"""
from __future__ import annotations

import ctypes
import functools

import numba
import numpy as np

#: SHA-1's initial chaining value
IV = np.array([0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0], np.uint32)
_CTX_WORDS = 32  # SHA_CTX is 24 32-bit words; room to spare
_NL, _NH, _NUM = 5, 6, 23


@functools.lru_cache(maxsize=1)
def _openssl():
    """OpenSSL's (SHA1_Init, SHA1_Update, SHA1_Final) as ctypes functions, or None."""
    try:
        import _hashlib

        lib = ctypes.CDLL(_hashlib.__file__)  # its symbols and those of the libcrypto it is linked to
        proto = ctypes.CFUNCTYPE
        vp, size = ctypes.c_void_p, ctypes.c_size_t
        return (proto(ctypes.c_int, vp)(("SHA1_Init", lib)), proto(ctypes.c_int, vp, vp, size)(("SHA1_Update", lib)),
                proto(ctypes.c_int, vp, vp)(("SHA1_Final", lib)))
    except (ImportError, OSError, AttributeError):
        return None


def available() -> bool:
    """Whether chaining values can be computed at OpenSSL's speed here (else manifests stay version 1)."""
    return _openssl() is not None and _kernels() is not None


@functools.lru_cache(maxsize=1)
def _kernels():
    funcs = _openssl()
    if funcs is None:
        return None
    init, update, final = funcs

    @numba.njit(nogil=True)
    def states(ctx, data, chunk, out):  # pragma: no cover - compiled
        for k in range(data.shape[0] // chunk):
            update(ctx.ctypes.data, data[k * chunk:].ctypes.data, chunk)
            for j in range(5):
                out[k, j] = ctx[j]

    @numba.njit(nogil=True)
    def advance(ctx, data):  # pragma: no cover - compiled
        update(ctx.ctypes.data, data.ctypes.data, data.shape[0])

    @numba.njit(nogil=True)
    def finish(ctx, digest):  # pragma: no cover - compiled
        final(digest.ctypes.data, ctx.ctypes.data)

    @numba.njit(nogil=True)
    def start(ctx):  # pragma: no cover - compiled
        init(ctx.ctypes.data)

    return states, advance, finish, start


class Chain:
    """One sha1 computed in order, whose chaining value can be read after every chunk (needs :func:`available`)."""

    def __init__(self):
        self._k = _kernels()
        self._ctx = np.zeros(_CTX_WORDS, np.uint32)
        self._k[3](self._ctx)

    def states(self, data, chunk: int) -> bytes:
        """Hash ``data`` (a whole number of ``chunk``-byte chunks, ``chunk`` a multiple of 64, the message so
        far too); the chaining value after each chunk, 20 bytes each."""
        a = np.frombuffer(data, np.uint8)
        if len(a) % chunk or chunk % 64:
            raise ValueError(f"{len(a)} bytes are not whole {chunk}-byte chunks of 64-byte blocks")
        out = np.empty((len(a) // chunk, 5), np.uint32)
        self._k[0](self._ctx, a, chunk, out)
        return out.astype(">u4").tobytes()

    def update(self, data) -> None:
        self._k[1](self._ctx, np.frombuffer(data, np.uint8))

    def digest(self) -> bytes:
        """The sha1 of everything hashed (the chain itself ends: no more updates)."""
        out = np.zeros(20, np.uint8)
        self._k[2](self._ctx, out)
        return out.tobytes()


def check(before: bytes | None, offset: int, data, after: bytes, last: bool) -> bool:
    """Whether ``data``, the bytes of a file from ``offset`` (a multiple of 64), carries the chaining value
    ``before`` (None at offset 0: SHA-1's initial value) to ``after``; for the file's ``last`` chunk, to its
    sha1 (``after``) through the padding."""
    a = np.frombuffer(data, np.uint8)
    if offset % 64 or (before is not None and len(before) != 20) or len(after) != 20 or (not last and len(a) % 64):
        return False
    h = IV.copy() if before is None else np.frombuffer(before, ">u4").astype(np.uint32)
    k = _kernels()
    if k is not None:
        ctx = np.zeros(_CTX_WORDS, np.uint32)
        ctx[:5] = h
        bits = 8 * offset
        ctx[_NL], ctx[_NH], ctx[_NUM] = bits & 0xFFFFFFFF, (bits >> 32) & 0xFFFFFFFF, 0
        k[1](ctx, a)
        if last:
            out = np.zeros(20, np.uint8)
            k[2](ctx, out)
            return out.tobytes() == after
        return ctx[:5].astype(">u4").tobytes() == after
    return _check_numba(h, offset, a, last) == after


def _check_numba(h: np.ndarray, offset: int, a: np.ndarray, last: bool) -> bytes:
    """The chaining value (or, ``last``, the digest) after ``a`` from ``h`` at ``offset``, by the numba SHA-1."""
    if last:
        n = offset + len(a)
        a = np.concatenate([a, np.frombuffer(b"\x80" + b"\0" * ((55 - n) % 64) + (8 * n).to_bytes(8, "big"),
                                             np.uint8)])
    _compress(h, a)
    return h.astype(">u4").tobytes()


@numba.njit(nogil=True, cache=True)
def _rol(x, n):  # pragma: no cover - compiled
    return ((x << np.uint32(n)) | (x >> np.uint32(32 - n))) & np.uint32(0xFFFFFFFF)


@numba.njit(nogil=True, cache=True)
def _compress(h, data):  # pragma: no cover - compiled
    """SHA-1's compression of ``data`` (64-byte blocks) into the chaining value ``h``, in place (FIPS 180-4)."""
    w = np.empty(80, np.uint32)
    for off in range(0, data.shape[0], 64):
        for t in range(16):
            j = off + 4 * t
            w[t] = ((np.uint32(data[j]) << np.uint32(24)) | (np.uint32(data[j + 1]) << np.uint32(16))
                    | (np.uint32(data[j + 2]) << np.uint32(8)) | np.uint32(data[j + 3]))
        for t in range(16, 80):
            w[t] = _rol(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1)
        a, b, c, d, e = h[0], h[1], h[2], h[3], h[4]
        for t in range(80):
            if t < 20:
                f, k = (b & c) | (~b & d), np.uint32(0x5A827999)
            elif t < 40:
                f, k = b ^ c ^ d, np.uint32(0x6ED9EBA1)
            elif t < 60:
                f, k = (b & c) | (b & d) | (c & d), np.uint32(0x8F1BBCDC)
            else:
                f, k = b ^ c ^ d, np.uint32(0xCA62C1D6)
            a, b, c, d, e = (_rol(a, 5) + f + e + k + w[t]) & np.uint32(0xFFFFFFFF), a, _rol(b, 30), c, d
        h[0] += a
        h[1] += b
        h[2] += c
        h[3] += d
        h[4] += e
