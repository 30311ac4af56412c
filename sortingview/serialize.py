"""Canonical JSON, task job ids and the figurl-compatible ndarray encoding.

Three byte-exact rules live here and nowhere else:

* :func:`store_json_bytes` gives exactly the bytes kachery-cloud's ``store_json`` writes for the same object
  (keys sorted, separators ``(',', ':')``, ASCII-escaped, NaN and infinities refused), so both tools agree on
  the sha1 of a JSON object.
* :func:`canonical_json` is the same with integral floats written as integers (``2.0`` -> ``2``), so that a
  task input means one job whether a client wrote ``binMs: 1`` or ``binMs: 1.0``.
* :func:`encode_value` / :func:`decode_value` turn numpy arrays into
  ``{"_type": "ndarray", "shape", "dtype", "data_gzip_b64" | "data_b64"}`` and back.

A large array's bytes may stay a :class:`Blob` (the raw or zlib bytes, not yet base64 text) in the encoded value:
``encode_value(obj, blobs_from=n)`` leaves arrays of ``n`` bytes or more so. A task result is encoded that way
and written as a bundle (:mod:`sortingview.bundle`: a JSON header and the bytes after it) that is read back
without base64 or a JSON scan of megabytes; written as JSON (``store_json_bytes``, the HTTP answer) a Blob
becomes its base64 text, so the JSON form never changes.

Job ids (:func:`task_job_id`) hash the task input with every ``sha1://`` URI reduced to ``sha1://<hash>``
(labels and other query parameters dropped), so one object under two labels is one cache entry.

Compression: arrays under 256 bytes are sent as plain base64; arrays under 64 KiB are zlib-compressed
(level 1: about twice as fast as level 3 for 5-10 % more bytes). Larger arrays (the packed results of the
``.2`` tasks, a traces window) are compressed only when a 16 KiB sample shrinks to at most a quarter (mostly
zeros, say); otherwise they go uncompressed: zlib runs at 30-200 MB/s here, so on counts, times, traces and
snippets it cost more time than its 40-60 % fewer bytes saved (measured in doc/benchmarks.md, "Encoding"; a
10 s traces window of 110 kB spent 2 of its 7 ms compressing).

NaN and infinity: JSON has no spelling for them, so ``store_json_bytes`` and ``canonical_json`` refuse them
with a :class:`SerializationError` that names where they were. Inside numpy arrays they are fine (the bytes
are binary), so results carry NaN as float arrays; :func:`encode_value` turns a non-finite *Python/numpy
scalar* into ``None`` (JSON null), which is how metrics report "undefined" (e.g. the SNR of an empty unit).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import uuid
import zlib
from typing import Any

import numpy as np

from .errors import SerializationError

#: dtypes the ndarray encoding accepts (what results and figure data use; the viewer decodes each of them)
SUPPORTED_DTYPES = (
    "bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
    "float32", "float64",
)

_COMPRESS_MIN_BYTES = 256
#: base64 texts from this length on are spliced into the JSON bytes instead of passing through json.dumps
_SPLICE_MIN_CHARS = 1 << 20
#: from this size on, compress (at level 1) only when a sample says it pays
_LARGE_BYTES = 1 << 16
_SAMPLE_BYTES = 1 << 14
_LARGE_MAX_RATIO = 0.25


def _check_finite(obj: Any, where: str = "$") -> None:
    if isinstance(obj, float):
        if not math.isfinite(obj):
            raise SerializationError(
                f"JSON cannot hold {obj!r} (at {where}); replace it with None, or put the values in a numpy "
                "array and encode it with sortingview.serialize.encode_value"
            )
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _check_finite(v, f"{where}.{k}")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            _check_finite(v, f"{where}[{i}]")


class Blob:
    """The bytes of an encoded array not yet written as base64 text (the field it sits in says whether they are
    zlib-compressed): any buffer, e.g. a memoryview of the array itself or of a bundle read from disk."""

    __slots__ = ("data",)

    def __init__(self, data):
        self.data = memoryview(data).cast("B")

    def __len__(self) -> int:
        return len(self.data)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Blob) and self.data == other.data

    __hash__ = None

    def __repr__(self) -> str:
        return f"Blob({len(self.data)} bytes)"

    def text(self) -> str:
        return base64.b64encode(self.data).decode("ascii")


def _blob_text(obj: Any) -> str:
    if isinstance(obj, Blob):
        return obj.text()
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def _dumps(obj: Any) -> str:
    try:
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False,
                          default=_blob_text)
    except ValueError as exc:
        if "ircular" not in str(exc):  # walking a structure that contains itself would never end
            _check_finite(obj)
        raise SerializationError(f"value cannot be written as JSON: {exc}") from None
    except TypeError as exc:
        raise SerializationError(
            f"value cannot be written as JSON: {exc}; encode numpy arrays and scalars with "
            "sortingview.serialize.encode_value first"
        ) from None


def store_json_bytes(obj: Any) -> bytes:
    """The exact bytes kachery-cloud's ``store_json`` writes for ``obj``."""
    blobs: list[str] = []
    token = uuid.uuid4().hex
    text = _dumps(_set_blobs_aside(obj, blobs, token))
    if not blobs:
        return text.encode("ascii")
    parts = text.split(f'"{token}')
    if len(parts) != len(blobs) + 1:  # the token also occurs in the data (never in practice): the slow way
        return _dumps(obj).encode("ascii")
    out = [parts[0].encode("ascii")]
    for part in parts[1:]:
        index, _, rest = part.partition('"')
        out += [b'"', blobs[int(index)].encode("ascii"), b'"', rest.encode("ascii")]
    return b"".join(out)


def _set_blobs_aside(obj: Any, blobs: list[str], token: str) -> Any:
    """``obj`` with the base64 text of each large encoded array among its top-level values replaced by
    ``token<n>``: json need not scan megabytes of base64 for characters to escape (it has none)."""
    if not isinstance(obj, dict):
        return obj
    out = dict(obj)
    for key, value in obj.items():
        if isinstance(value, dict) and value.get("_type") == "ndarray":
            for field in ("data_b64", "data_gzip_b64"):
                data = value.get(field)
                if isinstance(data, Blob):
                    data = data.text()
                if isinstance(data, str) and len(data) >= _SPLICE_MIN_CHARS and data.isascii():
                    out[key] = {**value, field: f"{token}{len(blobs)}"}
                    blobs.append(data)
    return out


def _integralize(obj: Any) -> Any:
    if isinstance(obj, bool) or obj is None:
        return obj
    if isinstance(obj, float):
        if math.isfinite(obj) and obj == int(obj):
            return int(obj)
        return obj
    if isinstance(obj, dict):
        return {str(k): _integralize(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_integralize(v) for v in obj]
    if isinstance(obj, np.generic):
        return _integralize(obj.item())
    return obj


def canonical_json(obj: Any) -> str:
    """Canonical JSON text used for hashing: as store_json, with integral floats written as integers."""
    try:
        value = _integralize(obj)
    except RecursionError:
        raise SerializationError("value cannot be written as JSON: it contains itself (Circular reference) "
                                 "or is nested too deeply") from None
    return _dumps(value)


def sha1_of_bytes(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def _bare_uris(obj: Any) -> Any:
    """``obj`` with every ``sha1://<hash>[/label][?query]`` string reduced to ``sha1://<hash>``."""
    if isinstance(obj, str):
        if obj.startswith("sha1://"):
            head = obj[7:].split("?", 1)[0].split("/", 1)[0]
            return "sha1://" + head.lower()
        return obj
    if isinstance(obj, dict):
        return {k: _bare_uris(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_bare_uris(v) for v in obj]
    return obj


def task_job_id(task_name: str, task_input: dict) -> str:
    """Job id of a calculation: sha1 of canonical ``{"taskInput": ..., "taskName": ...}``.

    Every ``sha1://`` URI in the input counts as ``sha1://<hash>`` (labels dropped): the same object under
    another label is the same job.
    """
    body = {"taskInput": _bare_uris(task_input), "taskName": task_name}
    return sha1_of_bytes(canonical_json(body).encode("ascii"))


# --- ndarray encoding -----------------------------------------------------------------------------------
def encode_array(array: np.ndarray, *, compress: bool | None = None, blob: bool = False) -> dict:
    """Encode one numpy array; compress when it is large enough to be worth it (or when told).

    ``blob``: leave the (raw or compressed) bytes as a :class:`Blob` instead of base64 text.
    """
    a = np.asarray(array)
    name = a.dtype.name
    if name not in SUPPORTED_DTYPES:
        raise SerializationError(
            f"arrays of dtype {name} cannot be encoded; convert to one of {', '.join(SUPPORTED_DTYPES)}"
        )
    # a view of the little-endian bytes, not a copy: base64 and zlib read the buffer itself
    raw = np.ascontiguousarray(a.astype(a.dtype.newbyteorder("<"), copy=False)).reshape(-1).view(np.uint8).data
    out: dict = {"_type": "ndarray", "shape": [int(s) for s in a.shape], "dtype": name}
    if compress is None:
        compress = len(raw) >= _COMPRESS_MIN_BYTES
        if len(raw) >= _LARGE_BYTES:
            compress = len(zlib.compress(raw[:_SAMPLE_BYTES], 1)) <= _LARGE_MAX_RATIO * _SAMPLE_BYTES
    data = zlib.compress(raw, 1) if compress else raw
    if blob:
        # the array's own buffer when no copy was needed: the caller must not change it while encoded
        out["data_gzip_b64" if compress else "data_b64"] = Blob(data)
    else:
        out["data_gzip_b64" if compress else "data_b64"] = base64.b64encode(data).decode("ascii")
    return out


def decode_array(obj: dict) -> np.ndarray:
    """Decode what :func:`encode_array` produced; malformed input is a SerializationError."""
    try:
        dtype = obj["dtype"]
        shape = tuple(int(s) for s in obj["shape"])
        if dtype not in SUPPORTED_DTYPES:
            raise SerializationError(f"unsupported ndarray dtype {dtype!r}")
        if "data_gzip_b64" in obj:
            data = obj["data_gzip_b64"]
            raw = zlib.decompress(data.data if isinstance(data, Blob) else base64.b64decode(data))
        elif "data_b64" in obj:
            data = obj["data_b64"]
            if isinstance(data, Blob):
                return _blob_array(data.data, dtype, shape)
            raw = binascii.a2b_base64(data)  # reads an ASCII str in place (b64decode copies it first)
        else:
            raise SerializationError("encoded ndarray has neither data_gzip_b64 nor data_b64")
        a = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<"))
        return a.astype(np.dtype(dtype), copy=True).reshape(shape)
    except SerializationError:
        raise
    except (KeyError, TypeError, ValueError, binascii.Error, zlib.error) as exc:
        raise SerializationError(f"malformed encoded ndarray: {exc}") from exc


def _blob_array(data: memoryview, dtype: str, shape: tuple) -> np.ndarray:
    """The array over a Blob's raw bytes without a copy when they are writable (a read-only buffer is copied:
    decoded arrays are always the caller's to change)."""
    little = np.dtype(dtype).newbyteorder("<")
    if len(data) != little.itemsize * math.prod(shape):
        raise SerializationError(f"encoded ndarray of shape {list(shape)} and dtype {dtype} has {len(data)} bytes; "
                                 f"it needs {little.itemsize * math.prod(shape)}")
    a = np.frombuffer(data, dtype=little).reshape(shape)
    if a.dtype != np.dtype(dtype) or not a.flags.writeable:
        a = a.astype(np.dtype(dtype), copy=True)
    return a


#: element types a list may hold to be passed through as it is (floats are not: NaN must become None)
_PLAIN = frozenset((int, str, bool, type(None)))


def encode_value(obj: Any, blobs_from: int | None = None) -> Any:
    """Make ``obj`` JSON-able: arrays encoded, numpy scalars to Python numbers, non-finite scalars to None.

    ``blobs_from``: arrays of at least this many bytes keep their bytes as a :class:`Blob` (see the module text).
    """
    if isinstance(obj, np.ndarray):
        return encode_array(obj, blob=blobs_from is not None and obj.nbytes >= blobs_from)
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {str(k): encode_value(v, blobs_from) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        if all(type(v) in _PLAIN for v in obj):  # e.g. the 160,000 unit ids of a packed result: no walk needed
            return list(obj)
        return [encode_value(v, blobs_from) for v in obj]
    return obj


def decode_value(obj: Any) -> Any:
    """Inverse of :func:`encode_value`: every encoded ndarray inside ``obj`` becomes a numpy array."""
    if isinstance(obj, dict):
        if obj.get("_type") == "ndarray":
            return decode_array(obj)
        return {k: decode_value(v) for k, v in obj.items()}
    if isinstance(obj, list):
        if all(type(v) in _PLAIN for v in obj):
            return obj
        return [decode_value(v) for v in obj]
    return obj
