"""HTTP plumbing shared by the routes: JSON bodies, JSON errors, and which status each error gets."""
from __future__ import annotations

import html
import json
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from .. import errors as E


class ApiError(Exception):
    """An error with an HTTP status, raised by route code; answered as ``{"error": message}``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


# most specific first: the first class an error is an instance of decides its status
_STATUS: list[tuple[type[BaseException], int]] = [
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


def error_response(status: int, message: str) -> Response:
    """JSON for the API; a small page for what a person opens in a browser (a figURL, the home page)."""
    if not request.path.startswith("/api/"):
        return Response(_PAGE.format(status=status, message=html.escape(message)), status=status,
                        mimetype="text/html")
    resp = jsonify({"error": message, "status": status})
    resp.status_code = status
    return resp


def json_body(*required: str) -> dict:
    """The request's JSON object; 400 with the parser's words when it is not one or lacks a field."""
    if request.mimetype not in ("application/json", "text/plain", ""):
        raise ApiError(415, f"send the request body as JSON (Content-Type: application/json), not {request.mimetype}")
    raw = request.get_data(cache=False)
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"request body is not valid JSON: {exc}") from exc
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


def query_float(name: str, default: float, lo: float, hi: float) -> float:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ApiError(400, f"query parameter {name}={raw!r} must be a number") from None
    return min(max(value, lo), hi)


def query_int(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise ApiError(400, f"query parameter {name}={raw!r} must be a non-negative integer")
    return int(raw)


def install_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api(exc: ApiError):
        return error_response(exc.status, exc.message)

    @app.errorhandler(E.SortingviewError)
    def _sv(exc: E.SortingviewError):
        status = status_of(exc)
        if status >= 500:
            app.logger.error("%s: %s", type(exc).__name__, exc)
        return error_response(status, str(exc))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if exc.code == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH")
            return error_response(413, f"request body is too large (limit {limit} bytes)")
        return error_response(exc.code or 500, f"{exc.name}: {exc.description}")
