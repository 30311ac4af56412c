"""The benchmark page of a study set (``sortingview benchmark create/run``): ``/benchmark?w=NAME_OR_URI``.

``/api/benchmark`` gives the page its numbers: the rows of ``W.get_benchmark_table`` (the sorter x recording
matrix, computed by the same function), per sorter and study the averages over the ground-truth units of the
study's recordings and the number of well-detected units at each SNR threshold, and each ground-truth unit's
SNR and accuracy for the scatter. Every sorting comes with the figURL of its view, so the page links each
number to the units behind it, and to its confusion matrix with the ground truth
(``/benchmark/confusion?w=...&sorting=ID``, computed when followed, then redirected to the figure).
"""
from __future__ import annotations

from statistics import mean
from urllib.parse import urlencode

from flask import Blueprint, jsonify, redirect, request, send_from_directory

from ..errors import WorkspaceError
from .http import ApiError, query_float
from .pages import VIEWER_DIR

bp = Blueprint("benchmark_pages", __name__)
DEFAULT_SNR_THRESHOLDS = (5.0, 10.0)
MAX_THRESHOLDS = 8


@bp.get("/benchmark")
def benchmark_page():
    resp = send_from_directory(VIEWER_DIR, "benchmark.html")
    resp.headers["Cache-Control"] = "no-cache"
    return resp


def study_of(label: str | None) -> str:
    """The study of a recording: a study set's ``snr8-drift`` is in study ``drift``; other labels in ``all``."""
    tail = (label or "").rsplit("-", 1)
    return tail[1] if len(tail) == 2 and tail[1] in ("drift", "static") else "all"


def _thresholds() -> list[float]:
    raw = request.args.get("snr")
    if raw is None:
        return list(DEFAULT_SNR_THRESHOLDS)
    try:
        values = sorted({float(v) for v in raw.split(",") if v.strip()})
    except ValueError:
        raise ApiError(400, f"snr must be comma-separated numbers (SNR thresholds), e.g. snr=5,10; got {raw!r}"
                       ) from None
    if len(values) > MAX_THRESHOLDS:
        raise ApiError(400, f"at most {MAX_THRESHOLDS} SNR thresholds, got {len(values)}")
    return values


def _avg(rows: list[dict], key: str) -> float | None:
    values = [r[key] for r in rows if r[key] is not None]
    return mean(values) if values else None


def _summaries(units: list[dict], thresholds: list[float], wd: float) -> list[dict]:
    groups: dict[tuple[str, str], list[dict]] = {}
    for u in units:
        groups.setdefault((u["sorter"], u["study"]), []).append(u)
        groups.setdefault((u["sorter"], "(all studies)"), []).append(u)
    out = []
    for (sorter, study), rows in sorted(groups.items()):
        out.append({"sorter": sorter, "study": study, "numGtUnits": len(rows), "accuracy": _avg(rows, "accuracy"),
                    "precision": _avg(rows, "precision"), "recall": _avg(rows, "recall"),
                    "sortingIds": sorted({r["sortingId"] for r in rows}),
                    "wellDetected": [sum(1 for r in rows if (r["accuracy"] or 0) >= wd and r["snr"] is not None
                                         and r["snr"] >= t) for t in thresholds]})
    return out


def benchmark_data(W, *, well_detected: float, thresholds: list[float], base_url: str) -> dict:
    from ..workspace.benchmark_tables import benchmark_rows, ground_truth_rows, sorter_of
    from ..workspace.figurl import spikesortingview_url

    rows = benchmark_rows(W, well_detected=well_detected)
    units = []
    for rid in dict.fromkeys(r["recordingId"] for r in rows):
        study = study_of(W.get_recording_record(rid).get("recordingLabel"))
        units += [{**u, "recordingId": rid, "study": study, "sorter": sorter_of(W, u["sortingId"])}
                  for u in ground_truth_rows(W, rid)]
    links = {r["sortingId"]: spikesortingview_url(
        W, recording_id=r["recordingId"], sorting_id=r["sortingId"], base_url=base_url,
        label=f"{W.label} / {r['recordingLabel']} / {r['sorter']}") for r in rows}
    return {"workspaceUri": W.uri, "label": W.label, "wellDetected": well_detected, "snrThresholds": thresholds,
            "rows": [{**r, "study": study_of(r["recordingLabel"])} for r in rows], "links": links,
            "confusionLinks": {sid: "/benchmark/confusion?" + urlencode({"w": W.uri, "sorting": sid}) for sid in links},
            "summaries": _summaries(units, thresholds, well_detected),
            "units": [{k: u[k] for k in ("sorter", "sortingId", "recordingId", "gtUnitId", "snr", "accuracy",
                                         "bestMatch")} for u in units]}


@bp.get("/api/benchmark")
def benchmark_api():
    """``?w=<study set name or workspace URI>&wellDetected=0.8&snr=5,10``."""
    from ..workspace.benchmark_sets import find_benchmark

    name = request.args.get("w")
    if not name:
        raise ApiError(400, "missing w=<study set name or workspace URI> (from `sortingview benchmark create NAME`)")
    try:
        W = find_benchmark(name)
    except WorkspaceError as exc:
        raise ApiError(404, str(exc)) from None
    data = benchmark_data(W, well_detected=query_float("wellDetected", 0.8, 0.0, 1.0), thresholds=_thresholds(),
                          base_url=request.host_url.rstrip("/"))
    return jsonify(data)


@bp.get("/benchmark/confusion")
def benchmark_confusion():
    """``?w=<study set name or workspace URI>&sorting=ID``: redirect to the confusion-matrix figure of the
    sorting against its recording's ground truth (``W.get_ground_truth_confusion_view``)."""
    from ..workspace.benchmark_sets import find_benchmark

    name, sid = request.args.get("w"), request.args.get("sorting")
    if not name or not sid or len(sid) > 200:
        raise ApiError(400, "give w=<study set name or workspace URI> and sorting=<sorting id> (from /api/benchmark)")
    try:
        link = find_benchmark(name).get_ground_truth_confusion_view(sid, base_url=request.host_url.rstrip("/"))
    except WorkspaceError as exc:  # no such study set or sorting, or no ground truth
        raise ApiError(404, str(exc)) from None
    return redirect(link, code=302)
