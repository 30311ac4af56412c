"""Sign-in and curation: reads for everyone, writes only for signed-in users the sorting authorizes."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from ..errors import AuthError
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
    return load_workspace(uri)


def _sorting_id(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ApiError(400, f"sortingId must be a non-empty string, got {value!r}")
    return value


@bp.post("/signin")
def signin():
    body = json_body("token")
    token = field(body, "token", str).strip()
    return jsonify({"userId": _users().verify(token)})


@bp.get("/whoami")
def whoami():
    return jsonify({"userId": signed_in_user()})


@bp.get("/curation")
def read_curation():
    """Curation state, history (with authors), label choices, and whether the caller may curate."""
    W = _workspace(request.args.get("workspace"))
    sorting_id = _sorting_id(request.args.get("sortingId"))
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
    W, sorting_id, user = _authorized_curator(body)
    W.apply_curation_action(sorting_id, field(body, "action", dict), user_id=user)
    return jsonify({"ok": True, "curation": W.get_sorting_curation(sorting_id)})


@bp.post("/label-choices")
def add_label_choice():
    """``{workspace, sortingId, label}``: a curator adds a custom label to the sorting's label choices."""
    body = json_body("workspace", "sortingId", "label")
    W, sorting_id, _ = _authorized_curator(body)
    label = field(body, "label", str).strip()
    # one locked read-modify-write: concurrent adds all land (validates the label)
    return jsonify({"labelChoices": W.add_sorting_curation_label_choice(sorting_id, label)})
