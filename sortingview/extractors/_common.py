"""The object envelope shared by every format, and the checks a stored object must pass before it is used.

An object is ``{"format": <name>, "version": <int>, "data": {...}}``. ``data`` holds plain numbers, strings and
``sha1://`` URIs only: it never names a class or module, so loading an object can never import or run code
that the object chose.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from .. import store
from ..errors import InvalidObjectError, SortingviewError
from ..store.uri import parse_uri


def make_object(fmt: str, version: int, data: dict) -> dict:
    return {"format": fmt, "version": version, "data": data}


def field(data: dict, name: str, types: type | tuple[type, ...], fmt: str, *, optional: bool = False) -> Any:
    """``data[name]`` checked to be of ``types`` (None allowed when ``optional``)."""
    if name not in data:
        if optional:
            return None
        raise InvalidObjectError(f"{fmt} object is missing the field {name!r}; store the extractor again")
    value = data[name]
    if value is None and optional:
        return None
    allowed = types if isinstance(types, tuple) else (types,)
    # JSON has no int/float distinction worth failing over: an integral number is a valid float
    if float in allowed and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    # bool is an int subclass in Python, but True is not a channel count
    wrong_bool = isinstance(value, bool) and bool not in allowed
    if wrong_bool or not isinstance(value, allowed):
        want = " or ".join(t.__name__ for t in allowed)
        raise InvalidObjectError(
            f"{fmt} object field {name!r} must be {want}, got {type(value).__name__}; store the extractor again"
        )
    return value


def file_of(uri: Any, fmt: str, what: str) -> str:
    """Local path of the file at ``uri`` (an InvalidObjectError when it is not a content URI)."""
    if not isinstance(uri, str):
        raise InvalidObjectError(f"{fmt} object: {what} must be a sha1:// URI, got {type(uri).__name__}")
    try:
        parse_uri(uri)
    except SortingviewError as exc:
        raise InvalidObjectError(f"{fmt} object: {what} is not a content URI: {exc}") from exc
    return store.load_file(uri)


def json_ids(ids) -> list:
    """Channel/unit ids as JSON values (numpy ints and strings become Python ones)."""
    out = []
    for i in ids:
        v = i.item() if isinstance(i, np.generic) else i
        if not isinstance(v, (int, str)) or isinstance(v, bool):
            raise InvalidObjectError(f"id {v!r} of type {type(v).__name__} cannot be stored; ids must be ints "
                                     "or strings (rename them with sorting.rename_units / recording.rename_channels)")
        out.append(v)
    return out


def float_list(values, n: int, fmt: str, name: str) -> list[float] | None:
    if values is None:
        return None
    if not isinstance(values, list) or len(values) != n:
        raise InvalidObjectError(f"{fmt} object field {name!r} must be a list of {n} numbers")
    try:
        return [float(v) for v in values]
    except (TypeError, ValueError) as exc:
        raise InvalidObjectError(f"{fmt} object field {name!r} must hold numbers: {exc}") from exc


def to_float_list(values) -> list[float] | None:
    return None if values is None else [float(v) for v in np.asarray(values).ravel()]


def source_label(path: str) -> str:
    return os.path.basename(os.fspath(path))
