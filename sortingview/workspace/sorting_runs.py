"""Sorting in a workspace: ``W.run_sorters``, ground truth, agreement and benchmark tables.

Two workspace messages of their own record what the workspace reducer does not need to know (it skips
types it does not know, so older readers are unaffected); they are read here, incrementally:

- ``SET_GROUND_TRUTH {recordingId, sortingId}`` (``sortingId`` null: none): the ground truth of a recording.
- ``SORTING_RUN {sortingId, recordingId, sorterName, params, paramsHash, sorterVersion, resultSortingUri}``:
  which sorter run a sorting came from, so a second run of the same request adds nothing.

Once a recording has a ground truth, every other sorting of it gets the unit-metric columns ``gtUnit``,
``gtAccuracy``, ``gtPrecision`` and ``gtRecall`` (from ``sortingview.compare_sortings.1``), so the viewer's
units table shows them; they are refreshed when a sorting is added or the ground truth changes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import TaskError, WorkspaceError
from ..serialize import canonical_json, sha1_of_bytes

GT_METRICS = (  # name, label, tooltip, field of compare_sortings.1
    ("gtUnit", "GT unit", "The ground-truth unit matched to this unit (Hungarian matching)", "unitId"),
    ("gtAccuracy", "GT accuracy", "Matches / (matches + misses + false positives) against the ground truth",
     "accuracy"),
    ("gtPrecision", "GT precision", "Matches / spikes of this unit", "precision"),
    ("gtRecall", "GT recall", "Matches / spikes of the ground-truth unit", "recall"),
)
GT_NAMES = {m[0] for m in GT_METRICS}


def params_hash(params: dict) -> str:
    """A short hash of sorter parameters (7 hex digits of the sha1 of their canonical JSON)."""
    return sha1_of_bytes(canonical_json(params).encode("ascii"))[:7]


def run_label(sorter: str, params: dict) -> str:
    """The label of a sorting from a sorter run: the sorter and its parameters (``default`` or a hash)."""
    return f"{sorter} {'default' if not params else 'params-' + params_hash(params)}"


def _sha1(uri: str) -> str:
    return uri.split("?")[0]


@dataclass
class _Extra:
    """What the messages of this module say, read up to message ``num_messages``."""

    num_messages: int = 0
    ground_truth: dict[str, str | None] = field(default_factory=dict)  # recording id -> sorting id
    runs: dict[str, dict] = field(default_factory=dict)  # sorting id -> SORTING_RUN message


def parse_sorters(sorters: Any) -> list[tuple[str, dict]]:
    """``{"ms5": {...}, "simple": None}`` or ``[("ms5", {...}), ...]`` -> ``[(sorter name, params)]``."""
    from ..tasks.sorting import check_params, sorter_name

    items = sorters.items() if isinstance(sorters, dict) else sorters
    try:
        pairs = [(name, params) for name, params in items]
    except (TypeError, ValueError):
        raise WorkspaceError("sorters must be a dict {sorter name: parameters} or a list of (name, parameters) "
                             f"pairs, e.g. {{'mountainsort5': {{}}}}; got {sorters!r:.80}") from None
    out = []
    for name, params in pairs:
        full = sorter_name(name)
        out.append((full, check_params(full, dict(params or {}))))
    if not out:
        raise WorkspaceError("no sorters given; e.g. sorters={'mountainsort5': {}, 'simple': {}}")
    return out


class SortingRunMethods:
    """Mixed into :class:`~sortingview.workspace.Workspace`."""

    # --- this module's messages ---------------------------------------------------------------------------
    def _extra(self) -> _Extra:
        extra = self.__dict__.setdefault("_sorting_extra", _Extra())
        for rec in self._feed.get_records(extra.num_messages):
            action = rec["message"].get("action") if isinstance(rec.get("message"), dict) else None
            kind = action.get("type") if isinstance(action, dict) else None
            if kind == "SET_GROUND_TRUTH" and isinstance(action.get("recordingId"), str):
                extra.ground_truth[action["recordingId"]] = action.get("sortingId")
            elif kind == "SORTING_RUN" and isinstance(action.get("sortingId"), str):
                extra.runs[action["sortingId"]] = action
            extra.num_messages += 1
        return extra

    def sorting_run_info(self, sorting_id: str) -> dict | None:
        """Which sorter, parameters and version made a sorting (None for a sorting added otherwise)."""
        self.get_sorting_record(sorting_id)
        return self._extra().runs.get(sorting_id)

    # --- running sorters ------------------------------------------------------------------------------
    def run_sorters(self, *, recording_ids: list[str], sorters: Any, progress: bool = True,
                    timeout: float | None = None, channel: str | None = None,
                    backend_id: str | None = None) -> list[str]:
        """Sort every recording with every sorter through the backend; return the sorting ids.

        ``sorters``: ``{sorter name or alias: parameters}`` (aliases ms5, sc2, tdc2). Each result is added with
        the label ``"<sorter> default"`` or ``"<sorter> params-<hash>"``; a combination that was run before is
        answered from the cache and adds nothing. Sortings that succeed are added even when others fail; the
        failures are then raised together as one TaskError.
        """
        from .sorting_batch import run_batch

        if isinstance(recording_ids, str) or not recording_ids:
            raise WorkspaceError(f"recording_ids must be a non-empty list of recording ids, got {recording_ids!r}")
        recordings = {rid: self.get_recording_record(rid)["recordingUri"] for rid in recording_ids}
        return run_batch(self, recordings, parse_sorters(sorters), progress=progress, timeout=timeout,
                         channel=channel, backend_id=backend_id)

    def _add_sorting_run(self, recording_id: str, sorter: str, params: dict, result: dict) -> str:
        """The sorting of a finished run in this workspace (added once, with its SORTING_RUN message)."""
        from ..extractors import load_sorting

        for sid, run in self._extra().runs.items():
            if (run.get("recordingId") == recording_id and _sha1(run.get("resultSortingUri", "")) ==
                    _sha1(result["sorting"]) and sid in self._current().sortings):
                return sid
        sid = self.add_sorting(recording_id=recording_id, label=run_label(sorter, params),
                               sorting=load_sorting(result["sorting"]))
        self._append({"type": "SORTING_RUN", "sortingId": sid, "recordingId": recording_id, "sorterName": sorter,
                      "params": params, "paramsHash": params_hash(params), "sorterVersion": result["sorterVersion"],
                      "resultSortingUri": result["sorting"]})
        return sid

    # --- ground truth ---------------------------------------------------------------------------------
    def set_ground_truth(self, recording_id: str, sorting_id: str | None) -> None:
        """Mark ``sorting_id`` as the ground truth of ``recording_id`` (None: no ground truth) and give every
        other sorting of the recording its ground-truth columns."""
        self.get_recording_record(recording_id)
        if sorting_id is not None and self.get_sorting_record(sorting_id)["recordingId"] != recording_id:
            raise WorkspaceError(f"sorting {sorting_id} belongs to recording "
                                 f"{self.get_sorting_record(sorting_id)['recordingId']}, not {recording_id}")
        if self.get_ground_truth(recording_id) != sorting_id:
            self._append({"type": "SET_GROUND_TRUTH", "recordingId": recording_id, "sortingId": sorting_id})
        for sid in self.get_sorting_ids_for_recording(recording_id):
            self._update_ground_truth_metrics(sid)

    def get_ground_truth(self, recording_id: str) -> str | None:
        """The sorting id of the recording's ground truth, or None."""
        sid = self._extra().ground_truth.get(recording_id)
        return sid if sid in self._current().sortings else None

    def _sorting_added(self, recording_id: str, sorting_id: str, ground_truth: bool = False) -> None:
        """Called by add_sorting: mark it as ground truth, or compare it with the recording's ground truth."""
        if ground_truth:
            self.set_ground_truth(recording_id, sorting_id)
        elif self.get_ground_truth(recording_id) is not None:
            self._update_ground_truth_metrics(sorting_id)

    def compare_with_ground_truth(self, sorting_id: str) -> dict:
        """``sortingview.compare_sortings.1`` of a sorting against its recording's ground truth (run here)."""
        from ..tasks import run_task_inline

        rec = self.get_sorting_record(sorting_id)
        gt = self.get_ground_truth(rec["recordingId"])
        if gt is None:
            raise WorkspaceError(f"recording {rec['recordingId']} has no ground truth; mark one with "
                                 "W.set_ground_truth(recording_id, sorting_id) or add_sorting(..., ground_truth=True)")
        return run_task_inline("sortingview.compare_sortings.1", {
            "sorting": rec["sortingUri"], "groundTruthSorting": self.get_sorting_record(gt)["sortingUri"]})

    def _update_ground_truth_metrics(self, sorting_id: str) -> None:
        from .workspace import _check_metrics

        rec = self.get_sorting_record(sorting_id)
        gt = self.get_ground_truth(rec["recordingId"])
        old = self.get_unit_metrics_for_sorting(sorting_id)
        new = [m for m in old if m.get("name") not in GT_NAMES]
        if gt is not None and gt != sorting_id:
            units = self.compare_with_ground_truth(sorting_id)["groundTruthUnits"]
            matched = {str(u["bestMatch"]): u for u in units if u["bestMatch"] is not None}
            new += [{"name": name, "label": label, "tooltip": tip,
                     "data": {unit: u[key] for unit, u in matched.items()}} for name, label, tip, key in GT_METRICS]
        if _check_metrics(new, self.get_unit_ids(sorting_id)) != old:  # a rerun adds no message
            self.set_unit_metrics_for_sorting(sorting_id, new)

    def get_ground_truth_table(self, recording_id: str, sorting_ids: list[str] | None = None):
        """Every ground-truth unit (missed ones included) against each sorting: a pandas DataFrame with
        sortingId, sortingLabel, gtUnitId, gtNumSpikes, snr, bestMatch, accuracy, precision, recall."""
        import pandas as pd

        from .benchmark_tables import ground_truth_rows

        return pd.DataFrame(ground_truth_rows(self, recording_id, sorting_ids))

    def get_ground_truth_confusion_view(self, sorting_id: str, *, label: str | None = None,
                                        base_url: str | None = None) -> str:
        """The link of a figure with the confusion matrix of ``sorting_id`` against its recording's ground
        truth (``GT<id>`` units along x, ``S<id>`` along y) beside a units table of both."""
        from ..views.view import url_from_url_dict
        from .ground_truth_views import ground_truth_confusion_view

        view = ground_truth_confusion_view(self, sorting_id)
        if label is None:
            label = f"{self.label} / {self.get_sorting_record(sorting_id).get('sortingLabel')} vs ground truth"
        return url_from_url_dict(view.url_dict(label=label[:200]), base_url=base_url)

    def get_benchmark_table(self, recording_ids: list[str] | None = None, *, well_detected: float = 0.8,
                            min_snr: float | None = None):
        """Per sorter and recording with a ground truth: mean accuracy, precision and recall over the
        ground-truth units (those with SNR >= ``min_snr`` when given) and how many have accuracy >=
        ``well_detected`` (SpikeForest's table). A pandas DataFrame."""
        from .benchmark_tables import benchmark_table

        return benchmark_table(self, recording_ids, well_detected=well_detected, min_snr=min_snr)

    # --- agreement without ground truth ---------------------------------------------------------------
    def get_sorting_agreement(self, sorting_ids: list[str], *, delta_time_ms: float = 0.4,
                              match_score: float = 0.5) -> dict:
        """``sortingview.sorting_agreement.1`` of sortings of one recording (run here), with their ids."""
        from ..tasks import run_task_inline
        from ..tasks.agreement import MAX_SORTINGS

        if not 2 <= len(sorting_ids) <= MAX_SORTINGS:
            raise WorkspaceError(f"give 2 to {MAX_SORTINGS} sorting ids to compare, got {len(sorting_ids)}")
        recs = [self.get_sorting_record(sid) for sid in sorting_ids]
        if len({r["recordingId"] for r in recs}) > 1:
            raise WorkspaceError("the sortings to compare must belong to one recording; got "
                                 + ", ".join(f"{r['sortingId']} ({r['recordingId']})" for r in recs))
        out = run_task_inline("sortingview.sorting_agreement.1", {
            "sortings": [r["sortingUri"] for r in recs], "deltaTimeMs": delta_time_ms, "matchScore": match_score})
        return {"sortingIds": list(sorting_ids), **out}

    def get_sorting_agreement_view(self, sorting_ids: list[str], *, label: str | None = None,
                                   base_url: str | None = None, delta_time_ms: float = 0.4,
                                   match_score: float = 0.5) -> str:
        """The link of a figure with the SortingAgreement view of 2 to 8 sortings of one recording (matched
        units and agreement scores per pair, units found by one only, multi-sorting groups) beside a units
        table of all their units (keys ``A:<id>``, ``B:<id>``, ... in the order of ``sorting_ids``)."""
        from ..views.view import url_from_url_dict
        from .agreement_views import sorting_agreement_view

        view = sorting_agreement_view(self, list(sorting_ids), delta_time_ms=delta_time_ms, match_score=match_score)
        if label is None:
            label = f"{self.label} / agreement of {', '.join(sorting_ids)}"
        return url_from_url_dict(view.url_dict(label=label[:200]), base_url=base_url)


def failures_error(failures: list[str]) -> TaskError:
    return TaskError(f"{len(failures)} sorter run(s) failed (the others were added):\n" + "\n".join(failures))
