"""Ground-truth and benchmark tables of a workspace (SpikeForest's accuracy tables), as rows for pandas."""
from __future__ import annotations

from statistics import mean

from ..errors import WorkspaceError
from .sorting_runs import run_label


def ground_truth_snr(workspace, recording_id: str, gt_sorting_id: str) -> dict[str, float | None]:
    """SNR of each ground-truth unit (``sortingview.unit_metrics.1``, cached), keyed by unit id as text."""
    from ..tasks import run_task_inline

    result = run_task_inline("sortingview.unit_metrics.1", {
        "recording": workspace.get_recording_record(recording_id)["recordingUri"],
        "sorting": workspace.get_sorting_record(gt_sorting_id)["sortingUri"]})
    return next((m["data"] for m in result["metrics"] if m["name"] == "snr"), {})


def ground_truth_rows(workspace, recording_id: str, sorting_ids: list[str] | None = None) -> list[dict]:
    """One row per (sorting, ground-truth unit); a unit no sorted unit matched has bestMatch None and zeros."""
    gt = workspace.get_ground_truth(recording_id)
    if gt is None:
        raise WorkspaceError(f"recording {recording_id} has no ground truth; mark one with "
                             "W.set_ground_truth(recording_id, sorting_id) or add_sorting(..., ground_truth=True)")
    if sorting_ids is None:
        sorting_ids = [s for s in workspace.get_sorting_ids_for_recording(recording_id) if s != gt]
    snr = ground_truth_snr(workspace, recording_id, gt)
    rows = []
    for sid in sorting_ids:
        label = workspace.get_sorting_record(sid).get("sortingLabel")
        for u in workspace.compare_with_ground_truth(sid)["groundTruthUnits"]:
            rows.append({"sortingId": sid, "sortingLabel": label, "gtUnitId": u["unitId"],
                         "gtNumSpikes": u["numSpikes"], "snr": snr.get(str(u["unitId"])), "bestMatch": u["bestMatch"],
                         "accuracy": u["accuracy"], "precision": u["precision"], "recall": u["recall"]})
    return rows


def sorter_of(workspace, sorting_id: str) -> str:
    """The sorter and parameters of a sorting run, else the sorting's label."""
    run = workspace.sorting_run_info(sorting_id)
    if run is None:
        return workspace.get_sorting_record(sorting_id)["sortingLabel"]
    return run_label(run["sorterName"], run["params"])


def _summary(rows: list[dict], well_detected: float) -> dict:
    def avg(key: str) -> float | None:
        values = [r[key] for r in rows if r[key] is not None]
        return mean(values) if values else None

    return {"numGtUnits": len(rows), "accuracy": avg("accuracy"), "precision": avg("precision"),
            "recall": avg("recall"), "numWellDetected": sum(1 for r in rows if (r["accuracy"] or 0) >= well_detected)}


def benchmark_rows(workspace, recording_ids: list[str] | None = None, *, well_detected: float = 0.8,
                   min_snr: float | None = None) -> list[dict]:
    """Per (sorting, recording with a ground truth): the averages over its ground-truth units."""
    if recording_ids is None:
        recording_ids = [r for r in workspace.recording_ids if workspace.get_ground_truth(r) is not None]
    out = []
    for rid in recording_ids:
        rec_label = workspace.get_recording_record(rid).get("recordingLabel")
        rows = [r for r in ground_truth_rows(workspace, rid)
                if min_snr is None or (r["snr"] is not None and r["snr"] >= min_snr)]
        for sid in dict.fromkeys(r["sortingId"] for r in rows):
            mine = [r for r in rows if r["sortingId"] == sid]
            out.append({"sorter": sorter_of(workspace, sid), "recordingId": rid, "recordingLabel": rec_label,
                        "sortingId": sid, "numSortedUnits": len(workspace.get_unit_ids(sid)),
                        **_summary(mine, well_detected)})
    return out


def benchmark_table(workspace, recording_ids: list[str] | None = None, *, well_detected: float = 0.8,
                    min_snr: float | None = None):
    """:func:`benchmark_rows` as a pandas DataFrame (columns in a fixed order even when empty)."""
    import pandas as pd

    columns = ["sorter", "recordingId", "recordingLabel", "sortingId", "numSortedUnits", "numGtUnits", "accuracy",
               "precision", "recall", "numWellDetected"]
    rows = benchmark_rows(workspace, recording_ids, well_detected=well_detected, min_snr=min_snr)
    return pd.DataFrame(rows, columns=columns)
