"""Comparison of a sorting with a ground-truth sorting (spikeinterface.comparison does the matching)."""
from __future__ import annotations

import math

from ..errors import TaskInputError
from ._objects import load_sorting
from .info import plain
from .registry import register_task


def _number(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


@register_task("sortingview.compare_sortings.1", handler="metrics")
def compare_sortings(sorting: str, groundTruthSorting: str, deltaTimeMs: float = 0.4,
                     matchScore: float = 0.5) -> dict:
    """Per ground-truth unit: its matched unit of ``sorting`` and the accuracy, precision and recall.

    Spikes match when they are within ``deltaTimeMs``; units are paired one-to-one by the Hungarian method
    on agreement scores, and a pair counts only with a score of at least ``matchScore``
    (``spikeinterface.comparison.compare_sorter_to_ground_truth``). An unmatched unit has bestMatch null
    and zero scores.
    """
    from spikeinterface.comparison import compare_sorter_to_ground_truth

    if not (deltaTimeMs > 0 and 0 <= matchScore <= 1):
        raise TaskInputError(f"deltaTimeMs must be positive and matchScore in [0, 1]; got {deltaTimeMs}, {matchScore}")
    tested, gt = load_sorting(sorting), load_sorting(groundTruthSorting)
    fs_t, fs_gt = tested.get_sampling_frequency(), gt.get_sampling_frequency()
    if fs_t != fs_gt or tested.get_num_segments() != gt.get_num_segments():
        raise TaskInputError(
            f"the sorting ({fs_t} Hz, {tested.get_num_segments()} segment(s)) and the ground truth ({fs_gt} Hz, "
            f"{gt.get_num_segments()} segment(s)) must come from the same recording"
        )
    counts = gt.count_num_spikes_per_unit(outputs="dict")
    if len(tested.get_unit_ids()) == 0 or len(gt.get_unit_ids()) == 0:
        # a sorter that found nothing: spikeinterface cannot match an empty (float-typed) unit list
        units = [{"unitId": plain(u), "bestMatch": None, "accuracy": 0.0, "precision": 0.0, "recall": 0.0,
                  "numSpikes": int(counts[u])} for u in gt.get_unit_ids()]
        return {"deltaTimeMs": deltaTimeMs, "matchScore": matchScore, "groundTruthUnits": units}
    comp = compare_sorter_to_ground_truth(gt, tested, delta_time=deltaTimeMs, match_score=matchScore)
    perf = comp.get_performance(method="by_unit")
    match = comp.hungarian_match_12
    tested_ids = {plain(u) for u in tested.get_unit_ids()}
    units = []
    for gt_unit in gt.get_unit_ids():
        best = plain(match[gt_unit])
        matched = best in tested_ids and str(best) != "-1"  # spikeinterface marks "no match" with -1
        row = perf.loc[gt_unit]
        units.append({
            "unitId": plain(gt_unit),
            "bestMatch": best if matched else None,
            "accuracy": _number(row["accuracy"]),
            "precision": _number(row["precision"]),
            "recall": _number(row["recall"]),
            "numSpikes": int(counts[gt_unit]),
        })
    return {"deltaTimeMs": deltaTimeMs, "matchScore": matchScore, "groundTruthUnits": units}
