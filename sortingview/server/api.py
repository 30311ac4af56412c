"""Read-side API: tasks (submit + long-poll), backend status, store files by sha1, feeds, figure data."""
from __future__ import annotations

import re
import time

from flask import Blueprint, Response, current_app, jsonify, request, send_file

from ..bundle import BUNDLE_MIMETYPE, MAGIC, pack_result
from ..errors import InvalidUriError, NotFoundError
from ..store import get_store, load_feed, load_json
from ..store.uri import check_sha1, parse_uri
from .http import ApiError, field, json_body, number_field, query_float, query_int
from .import_api import check_task_rights
from .runner import DONE, for_browser, wait_for

bp = Blueprint("api", __name__, url_prefix="/api")
_CHANNEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # as the channel module allows
_JOB_ID = re.compile(r"[0-9a-f]{16,64}")


def _ctx():
    return current_app.config["SV"]


def _client() -> str:
    return request.remote_addr or "unknown"


def _channel(value: object) -> str | None:
    """A channel name a request may select (the server's, a configured one, or one a live backend serves)."""
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not _CHANNEL.fullmatch(value):
        raise ApiError(400, f"channel {str(value)[:80]!r} is not a channel name (a letter or digit, then letters, "
                            "digits, _ . -)")
    return _ctx().channels.select(value)


@bp.post("/task")
def submit_task():
    """Submit ``{taskName, taskInput, backendId?, channel?, waitSec?}``; answer when done or after waitSec."""
    body = json_body("taskName", "taskInput")
    name = field(body, "taskName", str)
    check_task_rights(name)  # a spike sorter: signed-in importers only (server/import_api.py)
    task_input = field(body, "taskInput", dict)
    ctx = _ctx()
    backend_id = field(body, "backendId", str, optional=True) if "backendId" in body else ctx.default_backend_id
    wait = number_field(body, "waitSec", 20.0, 0.0, ctx.max_wait)
    channel = _channel(body.get("channel"))
    client = _client()
    ctx.queued.check(client, lambda job, chan: _unfinished(ctx, job, chan))
    status = ctx.runner.submit(name, task_input, backend_id=backend_id or None, channel=channel)
    if status["status"] not in DONE:
        ctx.queued.add(client, status["jobId"], channel)
    # the task is queued either way; without a free long-poll slot the answer is its status now
    with ctx.long_polls.slot(client, required=False) as may_wait:
        return _answer(wait_for(ctx.runner, status, wait if may_wait else 0.0, ctx.stopping, channel=channel))


def _unfinished(ctx, job_id: str, channel: str | None) -> bool:
    try:
        return ctx.runner.status(job_id, channel=channel)["status"] not in DONE
    except NotFoundError:
        return False


@bp.get("/task/<job_id>")
def task_status(job_id: str):
    """Long-poll one job: ``?wait=<seconds>&channel=<name>``."""
    if not _JOB_ID.fullmatch(job_id):
        raise ApiError(400, f"{job_id[:80]!r} is not a job id (hexadecimal)")
    ctx = _ctx()
    wait = query_float("wait", 20.0, 0.0, ctx.max_wait)
    channel = _channel(request.args.get("channel"))
    status = ctx.runner.status(job_id, channel=channel)
    if wait <= 0 or status["status"] in DONE:
        return _answer(status)
    with ctx.long_polls.slot(_client()):
        return _answer(wait_for(ctx.runner, status, wait, ctx.stopping, channel=channel))


def _answer(status: dict):
    """The status as JSON, or as a bundle (large arrays as bytes) to a client that accepts one and when the
    result holds large arrays (sortingview/bundle.py)."""
    if "result" not in status:
        return jsonify(status)
    # named explicitly: "*/*" (what fetch and curl send) keeps the JSON every client reads
    binary = any(kind == BUNDLE_MIMETYPE and q > 0 for kind, q in request.accept_mimetypes)
    status = {**status, "result": for_browser(status["result"], keep_blobs=binary)}
    if not binary:
        return jsonify(status)
    data = pack_result(status)  # the status's JSON when the result holds no large arrays
    return Response(data, mimetype=BUNDLE_MIMETYPE if data.startswith(MAGIC) else "application/json")


@bp.get("/backend-status")
def backend_status():
    ctx = _ctx()
    channel = _channel(request.args.get("channel"))
    return jsonify(ctx.backend_status(channel))


@bp.get("/file/<path:sha1>")
def store_file(sha1: str):
    """Bytes of a store file, read-only; anything but 40 hex digits is refused before touching disk."""
    try:
        sha1 = check_sha1(sha1.lower())
    except InvalidUriError as exc:
        raise ApiError(400, f"{exc}; files are addressed as /api/file/<sha1>") from None
    store = get_store()
    if not store.has(sha1):
        raise NotFoundError(f"sha1://{sha1} is not in this server's store")
    # streamed from disk (a linked recording can be far larger than memory), with HTTP range requests
    resp = send_file(store.local_path(sha1), mimetype="application/octet-stream", conditional=True,
                     download_name=sha1, max_age=31536000)
    resp.headers["Cache-Control"] = "public, max-age=31536000, immutable"  # content-addressed never changes
    return resp


def _feed(feed_id: str):
    """A feed of this store, else one of a workspace this store follows (read from its home), else 404."""
    from ..errors import FeedError
    from ..workspace.remote import followed_feed

    try:
        return load_feed(f"feed://{feed_id}")
    except FeedError:
        remote = followed_feed(feed_id.removeprefix("feed://"))
        if remote is None:
            raise
        return remote


@bp.get("/feed/<path:feed_id>")
def read_feed(feed_id: str):
    """Records of a feed from ``?start=N``; with ``?wait=S`` wait up to S seconds for a new one."""
    ctx = _ctx()
    start = query_int("start", 0)
    wait = query_float("wait", 0.0, 0.0, ctx.max_wait)
    feed = _feed(feed_id)
    records = feed.get_records(start)
    if records or wait <= 0:
        return jsonify({"feedUri": feed.uri, "start": start, "records": records})
    deadline = time.monotonic() + wait
    with ctx.long_polls.slot(_client()):
        # every open viewer keeps one of these waiting: wait in short slices so a stopping server answers at once
        while not records and not ctx.stopping.is_set() and time.monotonic() < deadline:
            records = feed.wait_for_records(start, min(1.0, max(0.0, deadline - time.monotonic())))
    return jsonify({"feedUri": feed.uri, "start": start, "records": records})


@bp.get("/figure")
def figure_data():
    """The figure data a figURL's ``d=`` names (a JSON object in the store)."""
    uri = request.args.get("d")
    if not uri:
        raise ApiError(400, "missing query parameter d=sha1://<hash> (the figure data URI of a figURL)")
    parse_uri(uri)
    data = load_json(uri)
    if not isinstance(data, dict) or data.get("type") != "spikesortingview":
        raise ApiError(400, f"{uri} is not spikesortingview figure data; make links with W.spikesortingview()")
    return jsonify(data)
