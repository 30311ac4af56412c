"""HTML pages: the home page (workspaces in the store), the figURL page ``/f`` and the viewer's files."""
from __future__ import annotations

import logging
import os

from flask import Blueprint, abort, render_template, request, send_from_directory

from ..store.uri import parse_uri
from .http import ApiError

VIEWER_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "viewer")
VIEWS_FIGURE = "sortingview-views-1"  # figures of sortingview.views (a MainLayout root and one JSON per view)
FIGURE_PAGES = {"spikesortingview-1": "index.html", VIEWS_FIGURE: "views.html"}
FIGURE_TYPES = tuple(FIGURE_PAGES)
log = logging.getLogger(__name__)

bp = Blueprint("pages", __name__, template_folder=os.path.join(VIEWER_DIR, "templates"))


@bp.get("/")
def home():
    """Every workspace in the store with its recordings and sortings, linked to their views."""
    return render_template("home.html", workspaces=list(_workspace_rows()))


def _workspace_rows():
    from ..workspace import list_workspaces, load_workspace
    from ..workspace.figurl import spikesortingview_url

    base = request.host_url.rstrip("/")
    for uri in list_workspaces():
        try:
            W = load_workspace(uri)
            recordings = W.recording_records()
            rec_labels = {r["recordingId"]: r.get("recordingLabel") for r in recordings}
            sortings = []
            for s in W.sorting_records():
                link = spikesortingview_url(W, recording_id=s["recordingId"], sorting_id=s["sortingId"],
                                            label=f"{W.label} / {s['sortingLabel']}", base_url=base)
                sortings.append({**s, "url": link, "recordingLabel": rec_labels.get(s["recordingId"])})
            yield {"uri": uri, "label": W.label, "recordings": recordings, "sortings": sortings}
        except Exception as exc:  # noqa: BLE001  one broken workspace must not hide the others
            log.warning("workspace %s cannot be listed: %s", uri, exc)
            yield {"uri": uri, "label": "(unreadable)", "error": str(exc), "recordings": [], "sortings": []}


@bp.get("/f")
def figure():
    """A figURL: ``/f?v=spikesortingview-1&d=sha1://...&label=...[&s=...][&channel=...]``, or a views figure
    ``/f?v=sortingview-views-1&d=sha1://<MainLayout root>&label=...[&s=<JSON state>]``."""
    v = request.args.get("v")
    if v not in FIGURE_TYPES:
        raise ApiError(400, f"unknown figure type v={v!r}; this server shows {', '.join(FIGURE_TYPES)}")
    d = request.args.get("d")
    if not d:
        raise ApiError(400, "missing d=sha1://<hash> (the figure data URI); make links with W.spikesortingview() "
                            "or view.url() of sortingview.views")
    parse_uri(d)
    resp = send_from_directory(VIEWER_DIR, FIGURE_PAGES[v])
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.get("/favicon.ico")
def favicon():
    return viewer_file("favicon.svg")


@bp.get("/viewer/<path:filename>")
def viewer_file(filename: str):
    # send_from_directory refuses paths that leave the folder (werkzeug.security.safe_join)
    if filename.startswith("templates/"):
        abort(404)
    resp = send_from_directory(VIEWER_DIR, filename)
    resp.headers["Cache-Control"] = "no-cache"
    return resp
