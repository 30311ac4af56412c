"""Import and sort from the browser (labbox-ephys's import page): ``/api/import/...`` and the page ``/import``.

Only when the server names an import folder (``--import-folder`` / SORTINGVIEW_IMPORT_FOLDER) and only for
signed-in users listed as importers (``--importers`` / SORTINGVIEW_IMPORTERS); everyone else gets 403. Paths
come relative to the import folder and are resolved (symlinks, ``..``) before use; anything outside is refused.
Sorters are submitted exactly as ``W.run_sorters`` submits them (``sorting_batch.submit_all``); a server thread
per job waits for it and adds the sorting to the workspace (``W._add_sorting_run``, the same labels). The job
list is kept in a file (``import_jobs.py``): a restarted server shows it again and resumes watching.
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

from flask import Blueprint, current_app, jsonify, request, send_from_directory

from ..errors import SortingviewError, WorkspaceError
from .curation_api import signed_in_user
from .http import ApiError, field, json_body
from .import_jobs import CANCELLED_ERROR, JobBook, cancel, jobs_path
from .pages import VIEWER_DIR

bp = Blueprint("import_api", __name__)
MAX_COMBINATIONS = 50  # recordings x sorters per request
MAX_WATCHED = 200  # unfinished jobs (one waiting thread each) per server


@dataclass
class ImportSettings:
    folder: str | None
    importers: frozenset[str]
    book: JobBook | None = None  # the sorter jobs started here (None without an import folder)


def import_settings(folder: str | None = None, importers=None) -> ImportSettings:
    """From the server options, else the environment (SORTINGVIEW_IMPORT_FOLDER, SORTINGVIEW_IMPORTERS)."""
    folder = folder or os.environ.get("SORTINGVIEW_IMPORT_FOLDER") or None
    if importers is None:
        importers = os.environ.get("SORTINGVIEW_IMPORTERS", "")
    if isinstance(importers, str):
        importers = [u.strip() for u in importers.split(",") if u.strip()]
    if folder is not None and not os.path.isdir(folder):
        raise WorkspaceError(f"the import folder {folder!r} is not a folder; give an existing one to --import-folder")
    if folder is None:
        return ImportSettings(None, frozenset(importers))
    folder = os.path.realpath(folder)
    return ImportSettings(folder, frozenset(importers), JobBook(jobs_path(folder)))


def _settings() -> ImportSettings:
    s = current_app.config.get("SV_IMPORT")
    if s is None:
        s = current_app.config["SV_IMPORT"] = import_settings()
    return s


def _importer() -> tuple[ImportSettings, str]:
    """The settings and the signed-in importer; 403/401 otherwise."""
    s = _settings()
    if s.folder is None:
        raise ApiError(403, "this server has no import folder; start it with --import-folder PATH")
    user = signed_in_user()
    if user is None:
        raise ApiError(401, "sign in first (a token from `sortingview user add`)")
    if user not in s.importers:
        raise ApiError(403, f"user {user} may not import on this server; the server's --importers names who may")
    return s, user


def check_task_rights(task_name: str) -> None:
    """Over the HTTP task API, a task of the ``sorting`` handler (a spike sorter, which takes a machine's cores
    for minutes or hours) only for a signed-in importer; 401/403 otherwise. Other tasks, and names the registry
    does not know (the runner answers those), pass."""
    from ..errors import UnknownTaskError
    from ..tasks.registry import get_task

    try:
        if get_task(task_name).handler_type != "sorting":
            return
    except UnknownTaskError:
        return
    try:
        _importer()
    except ApiError as exc:
        raise ApiError(exc.status, f"{task_name} runs a spike sorter: over HTTP only a signed-in user the server "
                                   f"names in --importers may start it ({exc.message}). From this machine, "
                                   "`sortingview sort` or W.run_sorters submit it directly") from None


def _path(s: ImportSettings, value: object) -> str:
    from ..workspace.importing import resolve_inside

    if not isinstance(value, str):
        raise ApiError(400, f"path must be a string relative to the import folder, got {value!r}")
    try:
        return resolve_inside(s.folder, value)
    except WorkspaceError as exc:
        raise ApiError(403 if "outside" in str(exc) or "absolute" in str(exc) else 400, str(exc)) from None


def _workspace(body: dict):
    from ..workspace import load_workspace

    return load_workspace(field(body, "workspaceUri", str))


@bp.get("/import")
def import_page():
    resp = send_from_directory(VIEWER_DIR, "import.html")
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.get("/api/import/config")
def config():
    """Whether importing is on, whether the caller may, the sorters, and the backend's job handlers."""
    from ..tasks.sorting import ALIASES, SORTERS

    s = _settings()
    try:
        user = signed_in_user()
    except (SortingviewError, ApiError):
        user = None
    status = current_app.config["SV"].backend_status(None)
    handlers = {b.get("workerId"): b.get("handlers") for b in status.get("backends", [])}
    return jsonify({"enabled": s.folder is not None, "userId": user, "canImport": user in s.importers,
                    "sorters": list(SORTERS), "aliases": ALIASES, "handlers": handlers,
                    "queued": status.get("queued")})


@bp.get("/api/import/list")
def list_path():
    from ..workspace.importing import list_folder

    s, _ = _importer()
    rel = request.args.get("path", "")
    _path(s, rel or ".")
    try:
        return jsonify(list_folder(s.folder, rel))
    except WorkspaceError as exc:
        raise ApiError(400, str(exc)) from None


@bp.post("/api/import/workspace")
def new_workspace():
    from ..workspace import create_workspace

    _importer()
    W = create_workspace(label=field(json_body("label"), "label", str))
    return jsonify({"workspaceUri": W.uri, "label": W.label})


@bp.post("/api/import/recording")
def add_recording():
    from ..workspace.importing import import_recording

    s, _ = _importer()
    body = json_body("workspaceUri", "path")
    W = _workspace(body)
    rid = import_recording(W, _path(s, body["path"]), field(body, "label", str, optional=True))
    return jsonify({"workspaceUri": W.uri, "recordingId": rid})


@bp.post("/api/import/sorting")
def add_sorting():
    from ..workspace.importing import import_sorting

    s, _ = _importer()
    body = json_body("workspaceUri", "recordingId", "path")
    W = _workspace(body)
    sid = import_sorting(W, field(body, "recordingId", str), _path(s, body["path"]),
                         field(body, "label", str, optional=True))
    return jsonify({"workspaceUri": W.uri, "sortingId": sid})


@bp.post("/api/import/sort")
def start_sorters():
    """``{workspaceUri, recordingIds, sorters: {name: params}}``: submit every combination, as W.run_sorters."""
    from ..workspace.sorting_batch import submit_all
    from ..workspace.sorting_runs import parse_sorters

    s, user = _importer()
    body = json_body("workspaceUri", "recordingIds", "sorters")
    W = _workspace(body)
    rids = field(body, "recordingIds", list)
    sorters = parse_sorters(field(body, "sorters", dict))
    if not rids or len(rids) * len(sorters) > MAX_COMBINATIONS:
        raise ApiError(400, f"give 1 to {MAX_COMBINATIONS} recording x sorter combinations, got "
                            f"{len(rids)} x {len(sorters)}")
    watched = len(s.book.unfinished())
    if watched + len(rids) * len(sorters) > MAX_WATCHED:
        raise ApiError(429, f"{watched} sorter jobs started here are unfinished; wait for some to end "
                            f"(at most {MAX_WATCHED} at once)")
    recordings = {rid: W.get_recording_record(rid)["recordingUri"] for rid in rids}
    ctx = current_app.config["SV"]
    jobs = submit_all(recordings, sorters, backend_id=ctx.default_backend_id)
    out = []
    for rid, name, params, handle in jobs:
        job = {"jobId": handle.job_id, "workspaceUri": W.uri, "recordingId": rid, "sorter": name, "params": params,
               "user": user, "submitted": time.time(), "status": "queued", "error": None, "sortingId": None,
               "url": None, "channel": handle.channel.name, "baseUrl": request.host_url.rstrip("/")}
        s.book.add(job)
        _start_watching(s.book, job, handle, W, ctx.stopping)
        out.append(job)
    return jsonify({"jobs": out})


def _start_watching(book: JobBook, job: dict, handle, W, stopping: threading.Event) -> None:
    threading.Thread(target=_watch, args=(book, job, W, handle, stopping), daemon=True,
                     name=f"sv-import-{job['jobId'][:8]}").start()


def resume_watching(app) -> int:
    """Watch again the jobs a previous server started that had not ended (called when the server starts)."""
    from ..backend.channel import resolve_channel
    from ..backend.client import TaskHandle
    from ..tasks.sorting import TASK_NAME
    from ..workspace import load_workspace

    s = app.config.get("SV_IMPORT")
    if s is None or s.book is None:
        return 0
    jobs = s.book.unfinished()[:MAX_WATCHED]
    for job in jobs:
        try:
            handle = TaskHandle(job["jobId"], TASK_NAME, resolve_channel(job.get("channel")))
            W = load_workspace(job["workspaceUri"])
        except (SortingviewError, OSError, KeyError, ValueError) as exc:
            s.book.update(job, status="failed", error=f"cannot watch this job after the server restarted: {exc}")
            continue
        _start_watching(s.book, job, handle, W, app.config["SV"].stopping)
    return len(jobs)


def _watch(book: JobBook, job: dict, W, handle, stopping: threading.Event) -> None:
    """Wait for one sorter job; add its sorting to the workspace with a link to its view (or record the error)."""
    from ..workspace.figurl import spikesortingview_url

    try:
        while not stopping.is_set():
            st = handle.wait_status(2.0)
            if st.status in ("finished", "error") or job["status"] == "cancelled":
                break
            book.update(job, status="running" if st.status == "running" else "queued")
        else:
            return
    except SortingviewError as exc:  # e.g. the channel no longer knows the job
        book.update(job, status="failed", error=str(exc))
        return
    if job["status"] == "cancelled":
        return
    if st.status == "error":
        cancelled = (st.error or "").startswith(CANCELLED_ERROR.split("{", 1)[0])
        book.update(job, status="cancelled" if cancelled else "failed", error=st.error)
        return
    def end() -> dict:  # under the job list's lock: another server watching the same job does not add it again
        if job.get("stopRequestedBy"):  # its handler could not interrupt it (inline, dask): it ran to its end
            who = job["stopRequestedBy"]
            return {"status": "cancelled", "cancelledBy": who,
                    "error": f"cancelled by {who}; the sorter's handler cannot stop a running task, so it ran to "
                             "its end, and the sorting was not added to the workspace, as asked"}
        sid = W._add_sorting_run(job["recordingId"], job["sorter"], job["params"], handle.wait(1.0))
        label = f"{W.label} / {W.get_sorting_record(sid)['sortingLabel']}"
        url = spikesortingview_url(W, recording_id=job["recordingId"], sorting_id=sid, label=label,
                                   base_url=job.get("baseUrl"))
        return {"sortingId": sid, "url": url, "status": "done"}

    try:
        book.finish(job, end)
    except Exception as exc:  # noqa: BLE001  shown on the page; the job itself finished
        book.update(job, status="failed", error=f"the sorting could not be added to the workspace: {exc}")


@bp.post("/api/import/cancel")
def cancel_job():
    """``{jobId}``: cancel a sorter job started here: a queued one at once, a running one as soon as its backend
    stops it (``stopRequestedBy`` is set meanwhile); 409 when it has ended."""
    s, user = _importer()
    job_id = field(json_body("jobId"), "jobId", str)
    job = s.book.find(job_id)
    if job is None:
        raise ApiError(404, f"no sorter job {job_id} was started from this server's import page")
    done, why = cancel(s.book, job, user)
    if not done:
        raise ApiError(409, why)
    return jsonify({"job": dict(job)})


@bp.get("/api/import/jobs")
def list_jobs():
    """The sorter jobs started here, newest first, with progress (running time, log tail) from the backend and,
    for a running one, whether its handler can stop it (``stoppable``; unknown when its backend is not seen)."""
    s, _ = _importer()
    status = current_app.config["SV"].backend_status(None)
    running = {r["jobId"]: r for r in status.get("running", [])}
    can_stop = {b.get("workerId"): b.get("canStop") for b in status.get("backends", [])}
    jobs = s.book.newest_first()
    for j in jobs:
        r = running.get(j["jobId"])
        if r is not None and j["status"] in ("queued", "running"):
            j.update(status="running", runningSec=r.get("runningSec"), logTail=r.get("logTail"))
            names = can_stop.get(r.get("worker"))
            if isinstance(names, list):  # the handlers its backend can stop a running task of
                j["stoppable"] = r.get("handler") in names
    return jsonify({"jobs": jobs})
