"""The curation of views figures (``sortingview.views``): load the link's ``state.sortingCuration`` and save it.

A views figure names its curation by URI: a ``sha1://`` JSON ``{labelsByUnit, mergeGroups}`` (what Spyglass
writes and reads back with ``kcl.load_json``) or one of our curation feeds ``feed://<id>`` (a workspace
sorting's). A user the feed authorizes saves to it through ``POST /api/curation`` (same authorization as the
workspace viewer); any other signed-in user's save stores a new JSON whose URI the viewer puts into the link.
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from ..errors import AuthError, CurationError, SortingviewError
from ..store import load_json, store_json
from ..store.uri import parse_feed_uri, parse_uri
from ..workspace.curation import normalize_state
from .curation_api import signed_in_user
from .http import ApiError, json_body

bp = Blueprint("views", __name__, url_prefix="/api/views")

MAX_CURATION_BYTES = 256 * 1024   # a curation of thousands of units is a few tens of KB
MAX_UNITS = 20000
MAX_LABELS_PER_UNIT = 32
MAX_LABEL_CHARS = 64
MAX_WORKSPACES_SCANNED = 1000     # finding the workspace of a curation feed reads each workspace's feed once


@bp.get("/curation")
def read_curation():
    """``?uri=sha1://...|feed://...``: the curation, who may change it, and where a save goes."""
    uri = request.args.get("uri", "")
    user = _user_or_none()
    if uri.startswith("feed://"):
        return jsonify(_feed_curation(uri, user))
    if not uri.startswith("sha1://"):
        raise ApiError(400, f"sortingCuration must be a sha1:// JSON or a feed:// curation feed, got {uri[:80]!r}")
    parse_uri(uri)
    try:
        curation = check_curation(load_json(uri))
    except ApiError as exc:
        raise ApiError(400, f"{uri} is not a curation: {exc.message}") from None
    return jsonify({"kind": "sha1", "uri": uri, "curation": curation, "labelChoices": [], "userId": user,
                    "canCurate": True, "canSave": user is not None})


@bp.post("/curation")
def save_curation():
    """``{curation: {labelsByUnit, mergeGroups, isClosed?}}`` from a signed-in user: stored, its sha1:// URI back."""
    if request.content_length is not None and request.content_length > MAX_CURATION_BYTES:
        raise ApiError(413, f"a curation must be under {MAX_CURATION_BYTES // 1024} KB")
    user = signed_in_user()
    if user is None:
        raise ApiError(401, "sign in to save a curation (a token from `sortingview user add <id>`)")
    body = json_body("curation")
    curation = check_curation(body["curation"])
    uri = store_json(curation, label="sorting_curation.json")
    return jsonify({"uri": uri, "curation": curation, "userId": user})


def check_curation(obj: object) -> dict:
    """A small, well-formed curation in canonical form, else a 400 naming the field."""
    if not isinstance(obj, dict):
        raise ApiError(400, "a curation must be a JSON object {labelsByUnit, mergeGroups}")
    unknown = set(obj) - {"labelsByUnit", "mergeGroups", "isClosed", "labelChoices"}
    if unknown:
        raise ApiError(400, f"unknown curation field(s) {', '.join(sorted(unknown))}; "
                            "expected labelsByUnit, mergeGroups, isClosed")
    labels = obj.get("labelsByUnit") or {}
    groups = obj.get("mergeGroups") or []
    if not isinstance(labels, dict) or len(labels) > MAX_UNITS:
        raise ApiError(400, f"labelsByUnit must be an object of at most {MAX_UNITS} units")
    for unit, ls in labels.items():
        if not isinstance(ls, list) or len(ls) > MAX_LABELS_PER_UNIT or not all(_is_label(x) for x in ls):
            raise ApiError(400, f"labelsByUnit[{unit!r}] must be a list of at most {MAX_LABELS_PER_UNIT} labels "
                                f"(non-empty strings of at most {MAX_LABEL_CHARS} characters)")
    if not isinstance(groups, list) or sum(len(g) if isinstance(g, list) else 1 for g in groups) > MAX_UNITS:
        raise ApiError(400, f"mergeGroups must be a list of lists of unit ids (at most {MAX_UNITS} units in all)")
    for i, g in enumerate(groups):
        if not isinstance(g, list) or not all(_is_unit_id(u) for u in g):
            raise ApiError(400, f"mergeGroups[{i}] must be a list of unit ids (numbers or strings)")
    try:
        return normalize_state(obj)
    except CurationError as exc:
        raise ApiError(400, str(exc)) from None


def _is_label(x: object) -> bool:
    return isinstance(x, str) and 0 < len(x) <= MAX_LABEL_CHARS


def _is_unit_id(u: object) -> bool:
    return (isinstance(u, int) and not isinstance(u, bool)) or (isinstance(u, str) and 0 < len(u) <= 200)


def _user_or_none() -> str | None:
    try:
        return signed_in_user()
    except (ApiError, AuthError):  # a stale token must not hide a read-only view
        return None


def _feed_curation(uri: str, user: str | None) -> dict:
    feed_uri = f"feed://{parse_feed_uri(uri)}"
    found = _workspace_of_curation_feed(feed_uri)
    if found is None:
        raise ApiError(404, f"{feed_uri} is not the curation feed of a workspace sorting in this store; "
                            "use a sha1:// curation JSON, or W.get_curation_feed_uri(sorting_id)")
    W, sorting_id = found
    authorized = list(W.get_sorting_curation_authorized_users(sorting_id))
    return {"kind": "feed", "uri": feed_uri, "workspace": W.uri, "sortingId": sorting_id,
            "curation": W.get_sorting_curation(sorting_id), "labelChoices": list(W.get_label_choices(sorting_id)),
            "numMessages": len(W.get_sorting_curation_history(sorting_id)),
            "authorizedUsers": authorized, "userId": user, "canCurate": True, "canSave": user is not None,
            "canWriteFeed": user is not None and user in authorized}


_FEED_OWNERS: dict[str, tuple[str, str]] = {}  # curation feed -> (workspace URI, sorting id), checked on use
MAX_CACHED_FEEDS = 1000


def _workspace_of_curation_feed(feed_uri: str):
    from ..workspace import list_workspaces, load_workspace

    cached = _FEED_OWNERS.pop(feed_uri, None)
    if cached is not None:
        try:
            W = load_workspace(cached[0])
            if cached[1] in W.sorting_ids and W.get_curation_feed_uri(cached[1]) == feed_uri:
                _FEED_OWNERS[feed_uri] = cached
                return W, cached[1]
        except SortingviewError:  # the workspace was deleted: look again
            pass
    for uri in list_workspaces()[:MAX_WORKSPACES_SCANNED]:
        try:
            W = load_workspace(uri)
            for sorting_id in W.sorting_ids:
                if W.get_curation_feed_uri(sorting_id) == feed_uri:
                    if len(_FEED_OWNERS) >= MAX_CACHED_FEEDS:
                        _FEED_OWNERS.clear()
                    _FEED_OWNERS[feed_uri] = (uri, sorting_id)
                    return W, sorting_id
        except SortingviewError:  # an unreadable workspace must not hide the others
            continue
    return None
