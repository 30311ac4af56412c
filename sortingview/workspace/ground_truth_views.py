"""The confusion-matrix view of a sorting against its recording's ground truth (doc/sorting.md).

Ground-truth units are ``GT<id>`` along x and sorted units ``S<id>`` along y (the two sortings' ids would
collide otherwise, as in the original's example). Event counts and matching event counts are those of
SpikeInterface's ``compare_sorter_to_ground_truth`` with the parameters of ``sortingview.compare_sortings.1``.
"""
from __future__ import annotations

from ..errors import WorkspaceError

GT_PREFIX, SORTED_PREFIX = "GT", "S"


def confusion_counts(gt, tested, *, delta_time_ms: float = 0.4, match_score: float = 0.5) -> dict:
    """``{"gtCounts": {unit: n}, "sortedCounts": {unit: n}, "matching": {(gt unit, sorted unit): n}}`` (n > 0)."""
    from spikeinterface.comparison import compare_sorter_to_ground_truth

    from ..tasks.info import plain

    gt_counts = {plain(u): int(n) for u, n in gt.count_num_spikes_per_unit(outputs="dict").items()}
    sorted_counts = {plain(u): int(n) for u, n in tested.count_num_spikes_per_unit(outputs="dict").items()}
    matching: dict = {}
    if gt_counts and sorted_counts:  # spikeinterface cannot compare a sorting without units
        comp = compare_sorter_to_ground_truth(gt, tested, delta_time=delta_time_ms, match_score=match_score)
        table = comp.match_event_count
        for g in table.index:
            for s in table.columns:
                if int(table.loc[g, s]) > 0:
                    matching[(plain(g), plain(s))] = int(table.loc[g, s])
    return {"gtCounts": gt_counts, "sortedCounts": sorted_counts, "matching": matching}


def ground_truth_confusion_view(W, sorting_id: str, *, height: int = 500):
    """A Box with a UnitsTable of both sortings' units and the ConfusionMatrix of ``sorting_id`` against the
    ground truth of its recording."""
    from .. import views as vv
    from ..extractors import load_sorting

    rec = W.get_sorting_record(sorting_id)
    gt_id = W.get_ground_truth(rec["recordingId"])
    if gt_id is None or gt_id == sorting_id:
        raise WorkspaceError(f"{sorting_id} has no ground truth to compare with: mark another sorting of recording "
                             f"{rec['recordingId']} as its ground truth (W.set_ground_truth(recording_id, sorting_id))")
    c = confusion_counts(load_sorting(W.get_sorting_record(gt_id)["sortingUri"]), load_sorting(rec["sortingUri"]))
    gt_units = [f"{GT_PREFIX}{u}" for u in c["gtCounts"]]
    sorted_units = [f"{SORTED_PREFIX}{u}" for u in c["sortedCounts"]]
    counts = [vv.UnitEventCount(f"{GT_PREFIX}{u}", n) for u, n in c["gtCounts"].items()]
    counts += [vv.UnitEventCount(f"{SORTED_PREFIX}{u}", n) for u, n in c["sortedCounts"].items()]
    matching = [vv.MatchingUnitEventCount(f"{GT_PREFIX}{g}", f"{SORTED_PREFIX}{s}", n)
                for (g, s), n in c["matching"].items()]
    matrix = vv.ConfusionMatrix(sorting1_unit_ids=gt_units, sorting2_unit_ids=sorted_units,
                                unit_event_counts=counts, matching_unit_event_counts=matching)
    best = _best_matches(c["matching"])
    rows = [vv.UnitsTableRow(f"{GT_PREFIX}{u}", {"numEvents": n, "bestMatch": best.get(("gt", u), "")})
            for u, n in c["gtCounts"].items()]
    rows += [vv.UnitsTableRow(f"{SORTED_PREFIX}{u}", {"numEvents": n, "bestMatch": best.get(("sorted", u), "")})
             for u, n in c["sortedCounts"].items()]
    table = vv.UnitsTable(columns=[vv.UnitsTableColumn("numEvents", "Events", "int"),
                                   vv.UnitsTableColumn("bestMatch", "Most matching events with", "str")], rows=rows)
    return vv.Box(direction="horizontal", items=[vv.LayoutItem(table, max_size=300), vv.LayoutItem(matrix)],
                  height=height)


def _best_matches(matching: dict) -> dict:
    """For each unit of either side, the unit of the other side it shares most events with."""
    best: dict = {}
    for (g, s), n in matching.items():
        for key, other in ((("gt", g), f"{SORTED_PREFIX}{s}"), (("sorted", s), f"{GT_PREFIX}{g}")):
            if key not in best or n > best[key][1]:
                best[key] = (other, n)
    return {key: other for key, (other, _) in best.items()}
