"""Sign-in and curation: reads for everyone, writes only for signed-in users the sorting authorizes."""
from __future__ import annotations

import contextlib

from flask import Blueprint, current_app, jsonify, request

from ..errors import AuthError
from .auth import SignInBusyError
from .http import ApiError, field, json_body

bp = Blueprint("curation", __name__, url_prefix="/api")


def _users():
    return current_app.config["SV"].users


def signed_in_user() -> str | None:
    """The user id of the request's ``Authorization: Bearer <token>``; None without one; 401 if it is bad."""
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "the Authorization header must be 'Bearer <token>' (the token from `sortingview user add`)")
    return _users().verify(token.strip())


def _workspace(uri: object):
    from ..workspace import load_workspace

    if not isinstance(uri, str) or not uri:
        raise ApiError(400, "missing workspace URI (the figure data's workspaceUri)")
    # callers ask _followed first, so the feed is local here: a request never makes this server follow anything
    return load_workspace(uri)


def _followed(uri: object):
    """The followed workspace (workspace/remote.py) ``uri`` names, or None for one in this store."""
    from ..workspace.remote import followed_for_server

    return followed_for_server(uri)


def _bearer() -> str | None:
    """The raw token of the request, for the home server of a followed workspace to check."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


@contextlib.contextmanager
def _at_home():
    """The home's refusal of the user answered with its own status (401 or 403)."""
    from ..workspace.remote_feed import HomeRefusedError

    try:
        yield
    except HomeRefusedError as exc:
        raise ApiError(exc.status, str(exc)) from None


def _sorting_id(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ApiError(400, f"sortingId must be a non-empty string, got {value!r}")
    return value


@bp.post("/signin")
def signin():
    body = json_body("token")
    token = field(body, "token", str).strip()
    try:
        return jsonify({"userId": _users().verify(token)})
    except SignInBusyError:
        raise
    except AuthError:
        remote = _page_workspace()
        if remote is None:
            raise
    # a user of the home server of the followed workspace this page shows: the home checks the token
    with _at_home():
        from ..workspace.remote_feed import home_json

        user = home_json(remote._as(token), "GET", "/api/whoami").get("userId")
    if not isinstance(user, str):
        raise ApiError(401, f"the home server {remote.home} does not know this token")
    return jsonify({"userId": user, "home": remote.home})


def _page_workspace():
    """The followed workspace of the figURL page a request comes from (its Referer), if any."""
    from urllib.parse import parse_qs, urlsplit

    from ..errors import SortingviewError
    from ..store import load_json

    page = urlsplit(request.referrer or "")
    d = parse_qs(page.query).get("d", [None])[0]
    if page.path != "/f" or not d or page.netloc != request.host:
        return None
    try:
        data = load_json(d)
        return _followed(data.get("workspaceUri")) if isinstance(data, dict) else None
    except SortingviewError:
        return None


@bp.get("/whoami")
def whoami():
    return jsonify({"userId": signed_in_user()})


@bp.get("/curation")
def read_curation():
    """Curation state, history (with authors), label choices, and whether the caller may curate."""
    remote = _followed(request.args.get("workspace"))
    sorting_id = _sorting_id(request.args.get("sortingId"))
    if remote is not None:  # the home knows the state, the authorized users and who the token is
        return jsonify(_home_curation(remote, sorting_id))
    W = _workspace(request.args.get("workspace"))
    try:
        user = signed_in_user()
    except (ApiError, AuthError):
        user = None  # a stale token must not hide a read-only view
    authorized = list(W.get_sorting_curation_authorized_users(sorting_id))
    return jsonify({
        "curation": W.get_sorting_curation(sorting_id),
        "history": _history(W, sorting_id),
        "labelChoices": list(W.get_label_choices(sorting_id)),
        "authorizedUsers": authorized,
        "userId": user,
        "canCurate": user is not None and user in authorized,
    })


def _home_curation(remote, sorting_id: str) -> dict:
    """The home's answer for the request's user; for a reader without a token of the home, the answer to this
    server's own token (it follows the workspace), shown signed out."""
    from ..workspace.remote_feed import HomeRefusedError

    token = _bearer()
    if token:
        try:
            return remote.home_curation(sorting_id, token=token)
        except HomeRefusedError:
            pass  # not a user of the home (or a stale token): a read-only view, as for a local workspace
    with _at_home():
        return {**remote.home_curation(sorting_id), "userId": None, "canCurate": False}


def _history(W, sorting_id: str) -> list[dict]:
    return [{"messageNumber": r["messageNumber"], "timestamp": r["timestamp"], "userId": r.get("userId"),
             "action": r.get("action")} for r in W.get_sorting_curation_history(sorting_id)]


def _authorized_curator(body: dict):
    """(workspace, sorting id, user) of a write request; 401 without sign-in, 403 for a user not authorized."""
    user = signed_in_user()
    if user is None:
        raise ApiError(401, "sign in to curate: curation changes need a user token (`sortingview user add <id>`)")
    W = _workspace(body["workspace"])
    sorting_id = _sorting_id(body["sortingId"])
    if user not in W.get_sorting_curation_authorized_users(sorting_id):
        raise ApiError(403, f"user {user!r} may not curate sorting {sorting_id}; the workspace owner can add them "
                            "with W.set_sorting_curation_authorized_users")
    return W, sorting_id, user


@bp.post("/curation")
def write_curation():
    """Apply ``{workspace, sortingId, action}`` as the signed-in user."""
    body = json_body("workspace", "sortingId", "action")
    remote = _followed(body["workspace"])
    if remote is not None:  # the home server checks the user and writes: it is the only writer of its feeds
        sorting_id, action, token = _sorting_id(body["sortingId"]), field(body, "action", dict), _bearer()
        if token is None:
            raise ApiError(401, "sign in to curate: curation changes need a user token of the workspace's home "
                                f"server {remote.home}")
        with _at_home():
            remote.apply_curation_action(sorting_id, action, token=token)
        return jsonify({"ok": True, "curation": remote.get_sorting_curation(sorting_id)})
    W, sorting_id, user = _authorized_curator(body)
    W.apply_curation_action(sorting_id, field(body, "action", dict), user_id=user)
    return jsonify({"ok": True, "curation": W.get_sorting_curation(sorting_id)})


@bp.post("/label-choices")
def add_label_choice():
    """``{workspace, sortingId, label}``: a curator adds a custom label to the sorting's label choices."""
    body = json_body("workspace", "sortingId", "label")
    remote = _followed(body["workspace"])
    if remote is not None:
        with _at_home():
            return jsonify({"labelChoices": remote.add_sorting_curation_label_choice(
                _sorting_id(body["sortingId"]), field(body, "label", str).strip(), token=_bearer())})
    W, sorting_id, _ = _authorized_curator(body)
    label = field(body, "label", str).strip()
    # one locked read-modify-write: concurrent adds all land (validates the label)
    return jsonify({"labelChoices": W.add_sorting_curation_label_choice(sorting_id, label)})
