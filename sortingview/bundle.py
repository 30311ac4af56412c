"""Task results as bundles: a JSON header, then the large arrays' bytes as they are (no base64).

A result that holds :class:`~sortingview.serialize.Blob` s (large arrays encoded with ``blobs_from``) is written
as a bundle; any other result as the JSON it always was. Reading one back costs a small JSON parse and no copy
of the arrays, where base64 text inside JSON cost a scan of every character, a decode and a copy (the snippets
of 100 units, 25 MB, took 0.15 s to write and read as JSON).

Layout (integers little-endian)::

    MAGIC                       b"sortingview-bundle-1\\n" (JSON never starts with "s")
    header length               8 bytes, unsigned
    header                      store_json_bytes of the encoded result, each Blob replaced by [offset, length]
    zero padding                up to a multiple of 64 bytes from the file's start
    data                        the Blobs' bytes, each from a multiple of 64 (offsets count from data's start)

The header keeps the encoded form: ``{"_type": "ndarray", "shape", "dtype", "data_b64": [offset, length]}`` (or
``data_gzip_b64`` for zlib bytes). Reading checks every offset and length against the file, so a damaged bundle
is a :class:`~sortingview.errors.SerializationError`, never a read outside it.
"""
from __future__ import annotations

import json
from typing import Any, Callable

from .errors import SerializationError
from .serialize import _PLAIN, Blob, store_json_bytes

MAGIC = b"sortingview-bundle-1\n"
#: the HTTP type of a bundle: a client that sends it in ``Accept`` gets task answers with large arrays as one
BUNDLE_MIMETYPE = "application/x-sortingview-bundle"
_ALIGN = 64
_FIELDS = ("data_b64", "data_gzip_b64")
#: a header is the result without its arrays: JSON of unit ids, scalars and index lists
MAX_HEADER_BYTES = 256 * 2**20
#: encode arrays of at least this many bytes as Blobs when the result is headed for a bundle
BLOBS_FROM = 64 * 1024


def _pad(n: int) -> int:
    return -n % _ALIGN


def _swap(obj: Any, swap: Callable[[Any], Any]) -> Any:
    """``obj`` with the data field of every encoded ndarray replaced by ``swap(value)`` (lists of plain values,
    such as 160,000 unit ids, are not walked)."""
    if isinstance(obj, dict):
        if obj.get("_type") == "ndarray":
            return {k: swap(v) if k in _FIELDS else v for k, v in obj.items()}
        return {k: _swap(v, swap) for k, v in obj.items()}
    if isinstance(obj, list):
        if all(type(v) in _PLAIN for v in obj):  # as encode_value and decode_value skip them
            return obj
        return [_swap(v, swap) for v in obj]
    return obj


def pack_result(encoded: Any) -> bytes:
    """The bytes to store for an encoded result: a bundle when it holds Blobs, else its JSON."""
    blobs: list[Blob] = []
    offset = 0

    def place(value: Any) -> Any:
        nonlocal offset
        if not isinstance(value, Blob):
            return value
        here = offset
        blobs.append(value)
        offset += len(value) + _pad(len(value))
        return [here, len(value)]

    header = store_json_bytes(_swap(encoded, place))
    if not blobs:
        return header
    start = len(MAGIC) + 8 + len(header)
    parts = [MAGIC, len(header).to_bytes(8, "little"), header, bytes(_pad(start))]
    for blob in blobs:
        parts += [blob.data, bytes(_pad(len(blob)))]
    return b"".join(parts)


def unpack_result(data: bytes | bytearray) -> Any:
    """The encoded result stored as ``data`` (a bundle or JSON); arrays' bytes stay in ``data`` as Blobs.

    Malformed input is a :class:`SerializationError` (a ``ValueError``), as JSON that does not parse is.
    """
    if not data.startswith(MAGIC):
        return json.loads(data)
    view = memoryview(data)
    head_at = len(MAGIC) + 8
    length = int.from_bytes(view[len(MAGIC):head_at], "little")
    if length > min(MAX_HEADER_BYTES, len(data) - head_at):
        raise SerializationError(f"bundle header of {length} bytes does not fit the {len(data)}-byte bundle")
    header = json.loads(view[head_at:head_at + length].tobytes())
    base = head_at + length + _pad(head_at + length)

    def blob(value: Any) -> Any:
        if isinstance(value, str):  # a small array, kept as base64 text in the header
            return value
        if not (isinstance(value, list) and len(value) == 2 and all(type(v) is int and v >= 0 for v in value)):
            raise SerializationError(f"bundle header names its array data as {str(value)[:80]}, not "
                                     "[offset, length]")
        begin, size = base + value[0], value[1]
        if begin + size > len(data):
            raise SerializationError(f"bundle array at {value[0]} of {size} bytes ends past the bundle's "
                                     f"{len(data)} bytes (truncated?)")
        return Blob(view[begin:begin + size])

    return _swap(header, blob)


__all__ = ["MAGIC", "BUNDLE_MIMETYPE", "BLOBS_FROM", "pack_result", "unpack_result"]
