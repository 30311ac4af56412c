"""HTTP plumbing shared by the routes: JSON bodies, JSON errors, and which status each error gets."""
from __future__ import annotations

import html
import json
import math
import os
import re
from typing import Any

from flask import Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from .. import errors as E
from .. import store
from .auth import SignInBusyError


class ApiError(Exception):
    """An error with an HTTP status, raised by route code; answered as ``{"error": message}``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


# most specific first: the first class an error is an instance of decides its status
_STATUS: list[tuple[type[BaseException], int]] = [
    (SignInBusyError, 503),
    (E.UnknownTaskError, 400), (E.TaskInputError, 400), (E.TaskTimeoutError, 504), (E.TaskError, 500),
    (E.InvalidUriError, 400), (E.InvalidMutableKeyError, 400), (E.SerializationError, 400),
    (E.InvalidObjectError, 400), (E.CurationError, 400), (E.AuthError, 401),
    (E.IntegrityError, 409), (E.NotFoundError, 404), (E.FeedError, 404), (E.WorkspaceError, 404),
    (E.ChannelError, 503), (E.ConfigError, 500), (E.SortingviewError, 500),
]


def status_of(exc: BaseException) -> int:
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 500


_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>sortingview: error {status}</title>
<link rel="stylesheet" href="/viewer/style.css"></head><body style="display:block">
<header><div class="title"><a href="/" class="brand">spikesortingview</a></div></header>
<div class="task-error" style="max-width:760px;margin:40px auto"><div class="task-error-title">Error {status}</div>
<p>{message}</p><p><a href="/">All workspaces of this store</a></p></div></body></html>"""


def redact_store(text: str | None) -> str | None:
    """``text`` with the store's directory replaced by "the store": clients never learn server paths."""
    if not text:
        return text
    dirs = {store.store_dir(), getattr(store.get_store(), "directory", None)}
    for d in sorted({p for x in dirs if x for p in (x, os.path.realpath(x))}, key=len, reverse=True):
        text = re.sub(rf"\b(in|at|under) the store (at|in) {re.escape(d)}", r"\1 the store", text)
        text = text.replace(d, "the store")
    return text


def error_response(status: int, message: str) -> Response:
    """JSON for the API; a small page for what a person opens in a browser (a figURL, the home page). A message
    naming the store's directory is logged in full and answered with the directory redacted."""
    redacted = redact_store(message)
    if redacted != message:
        current_app.logger.warning("error %s (answered with the store directory redacted): %s", status, message)
        message = redacted
    if not request.path.startswith("/api/"):
        return Response(_PAGE.format(status=status, message=html.escape(message)), status=status,
                        mimetype="text/html")
    resp = jsonify({"error": message, "status": status})
    resp.status_code = status
    return resp


#: JSON bodies nest no deeper than this (task inputs and curation actions are two or three levels deep)
MAX_JSON_DEPTH = 32
_ASCII_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]{1,4})?")
_ASCII_INT = re.compile(r"[0-9]{1,18}")


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows; send a finite number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:40]} is too large to be a finite number")
    return value


def parse_json(raw: bytes) -> Any:
    """Strict JSON: NaN, Infinity and numbers that overflow to infinity are refused, and so is deep nesting."""
    try:
        value = json.loads(raw, parse_constant=_no_constant, parse_float=_finite_float)
    except RecursionError:
        raise ApiError(400, f"request body nests too deeply (at most {MAX_JSON_DEPTH} levels)") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"request body is not valid JSON: {exc}") from exc
    _check_depth(value)
    return value


def _check_depth(value: Any) -> None:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise ApiError(400, f"request body nests too deeply (at most {MAX_JSON_DEPTH} levels)")
            children = item.values() if isinstance(item, dict) else item
            stack.extend((c, depth + 1) for c in children)


def json_body(*required: str) -> dict:
    """The request's JSON object; 400 with the parser's words when it is not one or lacks a field.

    Only ``application/json`` is accepted: a cross-site form or ``text/plain`` POST (which a web page may send
    without asking) is refused with 415 before the body is read.
    """
    if request.mimetype != "application/json":
        got = request.mimetype or "no Content-Type"
        raise ApiError(415, f"send the request body as JSON (Content-Type: application/json), not {got}")
    body = parse_json(request.get_data(cache=False))
    if not isinstance(body, dict):
        raise ApiError(400, f"request body must be a JSON object, got {type(body).__name__}")
    missing = [k for k in required if k not in body]
    if missing:
        raise ApiError(400, f"request body lacks field(s) {', '.join(missing)}")
    return body


def field(body: dict, name: str, kind: type | tuple, *, optional: bool = False) -> Any:
    value = body.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        want = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ApiError(400, f"field {name!r} must be {E.with_article(want)}, got {type(value).__name__}")
    return value


def number_field(body: dict, name: str, default: float, lo: float, hi: float) -> float:
    """A finite number in ``[lo, hi]`` from a JSON body (the default when absent), else 400."""
    value = body.get(name, default)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not lo <= value <= hi:
        raise ApiError(400, f"field {name!r} must be a number from {lo:g} to {hi:g}, got {value!r}")
    return float(value)


def query_float(name: str, default: float, lo: float, hi: float) -> float:
    """A finite number in ``[lo, hi]`` from the query string, written in ASCII digits; else 400."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if not _ASCII_NUMBER.fullmatch(raw) or not lo <= float(raw) <= hi:
        raise ApiError(400, f"query parameter {name}={raw[:40]!r} must be a number from {lo:g} to {hi:g}")
    return float(raw)


def query_int(name: str, default: int, lo: int = 0, hi: int = 10**15) -> int:
    """A whole number in ``[lo, hi]`` from the query string, written in ASCII digits; else 400."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if not _ASCII_INT.fullmatch(raw) or not lo <= int(raw) <= hi:
        raise ApiError(400, f"query parameter {name}={raw[:40]!r} must be a whole number from {lo} to {hi}")
    return int(raw)


def install_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api(exc: ApiError):
        resp = error_response(exc.status, exc.message)
        if getattr(exc, "retry_after", None):
            resp.headers["Retry-After"] = str(exc.retry_after)
        return resp

    @app.errorhandler(E.SortingviewError)
    def _sv(exc: E.SortingviewError):
        status = status_of(exc)
        if status >= 500 and not isinstance(exc, SignInBusyError):  # a flood must not flood the log too
            app.logger.error("%s: %s", type(exc).__name__, exc)
        resp = error_response(status, str(exc))
        if getattr(exc, "retry_after", None):
            resp.headers["Retry-After"] = str(exc.retry_after)
        return resp

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if exc.code == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH")
            return error_response(413, f"request body is too large (limit {limit} bytes)")
        return error_response(exc.code or 500, f"{exc.name}: {exc.description}")

    @app.errorhandler(RecursionError)
    def _deep(exc: RecursionError):
        return error_response(400, "the request nests too deeply to process; send flatter input")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        # a bug, not bad input: logged with its traceback; the client gets JSON (or the error page), not flask's
        app.logger.exception("unexpected error in %s %s", request.method, request.path)
        return error_response(500, f"internal error ({type(exc).__name__}); the server log has the details")
