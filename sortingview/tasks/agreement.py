"""Agreement between sortings of one recording, without ground truth (spikeinterface.comparison).

Every pair is compared symmetrically (units paired one-to-one by the Hungarian method on agreement scores);
with three or more sortings the multi-sorting comparison also groups units across all of them. A unit no
other sorting found is listed under ``foundByOneOnly``.
"""
from __future__ import annotations

import itertools

from ..errors import TaskInputError
from ._objects import load_sorting
from .comparison import _number
from .info import plain
from .registry import register_task

MAX_SORTINGS = 8


def _matched(match, unit, other_ids: set) -> bool:
    best = plain(match[unit])
    return best in other_ids and str(best) not in ("-1", "")  # spikeinterface marks "no match" with -1 or ""


def _pair(comp, i: int, j: int, ids: list[list]) -> dict:
    """Matches of a symmetric comparison of sortings i and j, with the units each found alone."""
    scores = comp.agreement_scores
    set_j = set(ids[j])
    matches = [{"unitId1": plain(u), "unitId2": plain(comp.hungarian_match_12[u]),
                "agreement": _number(scores.at[u, comp.hungarian_match_12[u]])}
               for u in comp.sorting1.get_unit_ids() if _matched(comp.hungarian_match_12, u, set_j)]
    got1 = {m["unitId1"] for m in matches}
    got2 = {m["unitId2"] for m in matches}
    return {"sorting1": i, "sorting2": j, "matches": matches,
            "onlyIn1": [u for u in ids[i] if u not in got1], "onlyIn2": [u for u in ids[j] if u not in got2]}


@register_task("sortingview.sorting_agreement.1", handler="metrics")
def sorting_agreement(sortings: list, deltaTimeMs: float = 0.4, matchScore: float = 0.5) -> dict:
    """Pairwise matches and agreement scores of 2 to 8 sortings of one recording, and units found by one only.

    ``groups`` (three or more sortings): each unit of the multi-sorting comparison's agreement graph as
    ``{units: [unit id or null per sorting], numSortings}``.
    """
    from spikeinterface.comparison import compare_two_sorters

    if not (2 <= len(sortings) <= MAX_SORTINGS and all(isinstance(s, str) for s in sortings)):
        raise TaskInputError(f"sortings must list 2 to {MAX_SORTINGS} sorting URIs, got {len(sortings)} item(s)")
    if not (deltaTimeMs > 0 and 0 <= matchScore <= 1):
        raise TaskInputError(f"deltaTimeMs must be positive and matchScore in [0, 1]; got {deltaTimeMs}, {matchScore}")
    objs = [load_sorting(s) for s in sortings]
    if len({s.get_sampling_frequency() for s in objs}) != 1:
        raise TaskInputError("the sortings have different sampling frequencies: they must sort one recording")
    ids = [[plain(u) for u in s.get_unit_ids()] for s in objs]
    names = [str(i) for i in range(len(objs))]
    found = [i for i in range(len(objs)) if ids[i]]  # spikeinterface cannot match an empty (float-typed) unit list
    pairs = [_pair(compare_two_sorters(objs[i], objs[j], names[i], names[j], delta_time=deltaTimeMs,
                                       match_score=matchScore), i, j, ids)
             if i in found and j in found else
             {"sorting1": i, "sorting2": j, "matches": [], "onlyIn1": list(ids[i]), "onlyIn2": list(ids[j])}
             for i, j in itertools.combinations(range(len(objs)), 2)]
    alone = {i: set(ids[i]) for i in range(len(objs))}
    for p in pairs:
        alone[p["sorting1"]] -= {m["unitId1"] for m in p["matches"]}
        alone[p["sorting2"]] -= {m["unitId2"] for m in p["matches"]}
    out = {"numSortings": len(objs), "unitIds": ids, "pairs": pairs,
           "foundByOneOnly": [[u for u in ids[i] if u in alone[i]] for i in range(len(objs))]}
    if len(objs) > 2:
        out["groups"] = _groups(objs, names, found, deltaTimeMs, matchScore)
    return out


def _groups(objs: list, names: list[str], found: list[int], delta_time_ms: float, match_score: float) -> list:
    """Units grouped across the sortings that found any (multi-sorting comparison), one entry per sorting."""
    from spikeinterface.comparison import compare_multiple_sorters

    if len(found) == 1:
        return [{"units": [plain(u) if n == names[found[0]] else None for n in names], "numSortings": 1}
                for u in objs[found[0]].get_unit_ids()]
    if not found:
        return []
    multi = compare_multiple_sorters([objs[i] for i in found], [names[i] for i in found], delta_time=delta_time_ms,
                                     match_score=match_score, verbose=False)
    agreed = multi.get_agreement_sorting(minimum_agreement_count=1)
    groups = zip(agreed.get_property("unit_ids"), agreed.get_property("agreement_number"), strict=True)
    return [{"units": [plain(units[n]) if n in units else None for n in names], "numSortings": int(k)}
            for units, k in groups]
