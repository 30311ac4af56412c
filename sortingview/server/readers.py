"""A private server (``sortingview-start-backend --private``): reads only for signed-in readers.

Installed by ``create_app(private=True)`` as a ``before_request`` check that runs after the Host/Origin guards.
Every read of data needs ``Authorization: Bearer <token>`` of a user listed as a reader of a workspace that
reaches what is read (sortingview/workspace/readers.py); no token is 401, a user who reads nothing that
reaches it is 403:

* ``/api/file/<sha1>``, ``/api/manifest/<sha1>``, ``/api/chunks/<sha1>``: the sha1 is in a reachable set of the
  user's workspaces;
* ``/api/feed/<id>``: the feed is one of those workspaces' feeds or curation feeds;
* ``/api/figure?d=``, ``GET /api/curation?workspace=``: the figure's (the request's) workspace lists the user;
* ``POST /api/task``: every URI in the task input is reachable (a task reads only what its input names);
* any other ``/api/`` route but sign-in, whoami and backend status needs a signed-in user (curation writes then
  check their curators as always); the home page, which lists the store's workspaces, is refused.
The viewer's page and its assets (``/f``, ``/viewer/...``) stay public: they hold no data. Workspaces this
store follows from another server count with this store's own reader list for them.
"""
from __future__ import annotations

import re

from flask import Flask, request

from ..errors import SortingviewError
from .http import ApiError, parse_json

_OPEN = {"/api/signin", "/api/whoami", "/api/backend-status"}
_BY_SHA1 = re.compile(r"^/api/(?:file|manifest|chunks)/([0-9a-fA-F]{40})$")
_FEED = re.compile(r"^/api/feed/(.+)$")


def _user() -> str:
    from .curation_api import signed_in_user

    user = signed_in_user()
    if user is None:
        raise ApiError(401, "this server is private: send the token of a reader (Authorization: Bearer <token>; "
                            "peers: `sortingview peer add URL --token T`)")
    return user


def _refuse(user: str, what: str) -> ApiError:
    return ApiError(403, f"user {user!r} may not read {what} on this private server; the workspace owner can add "
                         "them with `sortingview workspace readers URI --add USER`")


def _workspace_feed(uri: object) -> str | None:
    from ..workspace.workspace import _feed_id_and_label

    try:
        return _feed_id_and_label(uri)[0] if isinstance(uri, str) else None
    except SortingviewError:
        return None


def _check_workspace(user: str, uri: object) -> None:
    from ..workspace.readers import may_read_workspace

    feed_id = _workspace_feed(uri)
    if feed_id is None or not may_read_workspace(user, feed_id):
        raise _refuse(user, f"workspace {str(uri)[:200]}")


def _check_figure(user: str) -> None:
    from ..store import load_json

    d = request.args.get("d")
    if not d:
        return  # the route answers 400
    try:
        data = load_json(d)
    except SortingviewError:
        raise _refuse(user, d[:200]) from None
    _check_workspace(user, data.get("workspaceUri") if isinstance(data, dict) else None)


def _uris_in_task() -> list[str]:
    from ..workspace.readers import _uris_in

    if request.mimetype != "application/json":
        return []  # the route answers 415
    body = parse_json(request.get_data(cache=True))  # cached: the route reads the same bytes
    return _uris_in(body.get("taskInput")) if isinstance(body, dict) else []


def _check_task(user: str) -> None:
    from ..workspace.readers import _sha1_of, readable_by

    uris = _uris_in_task()
    if not uris:
        return
    _, sha1s = readable_by(user)
    for uri in uris:
        if _sha1_of(uri) not in sha1s:
            raise _refuse(user, uri[:200])


def check_read() -> None:
    """The before_request check of a private server (see the module docstring)."""
    from ..workspace.readers import readable_by

    path = request.path
    if path in _OPEN or path == "/f" or path.startswith("/viewer/"):
        return
    if not path.startswith("/api/"):
        if path == "/":
            raise ApiError(403, "this server is private: open a figURL (the page lists no workspaces)")
        return
    user = _user()
    if m := _BY_SHA1.match(path):
        if m.group(1).lower() not in readable_by(user)[1]:
            raise _refuse(user, f"sha1://{m.group(1).lower()}")
    elif m := _FEED.match(path):
        if m.group(1).removeprefix("feed://") not in readable_by(user)[0]:
            raise _refuse(user, f"feed://{m.group(1)[:80]}")
    elif path == "/api/figure":
        _check_figure(user)
    elif path == "/api/curation" and request.method == "GET":
        _check_workspace(user, request.args.get("workspace"))
    elif path == "/api/task" and request.method == "POST":
        _check_task(user)


def install_reader_check(app: Flask) -> None:
    app.before_request(check_read)
