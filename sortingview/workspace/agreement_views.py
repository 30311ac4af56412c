"""The agreement view of sortings of one recording (doc/sorting.md, "Agreement without ground truth").

A figure with a ``SortingAgreement`` view of ``W.get_sorting_agreement(...)`` beside a ``UnitsTable`` of
every unit of every sorting, keyed ``A:<id>``, ``B:<id>``, ... so that clicking a matched pair in the
agreement view selects both units in the table.
"""
from __future__ import annotations


def sorting_labels(W, sorting_ids: list[str]) -> list[str]:
    """Each sorting's label; a label that two sortings share gets the sorting id added."""
    labels = [W.get_sorting_record(sid).get("sortingLabel") or sid for sid in sorting_ids]
    return [f"{lab} ({sid})" if labels.count(lab) > 1 else lab for lab, sid in zip(labels, sorting_ids, strict=True)]


def unit_rows(view, agreement: dict) -> list:
    """A UnitsTable row per unit of every sorting (keyed ``A:<id>``, ...): its sorting, how many other sortings
    matched it and its best agreement score."""
    from .. import views as vv

    best: dict = {}
    for p in agreement["pairs"]:
        for m in p["matches"]:
            for i, u in ((p["sorting1"], m["unitId1"]), (p["sorting2"], m["unitId2"])):
                n, score = best.get((i, u), (0, None))
                best[(i, u)] = (n + 1, m["agreement"] if score is None else max(score, m["agreement"]))
    rows = []
    for i, ids in enumerate(agreement["unitIds"]):
        for u in ids:
            n, score = best.get((i, u), (0, None))
            values = {"sorting": view.labels[i], "numMatched": n}
            if score is not None:
                values["bestAgreement"] = score
            rows.append(vv.UnitsTableRow(view.unit_key(i, u), values))
    return rows


def sorting_agreement_view(W, sorting_ids: list[str], *, delta_time_ms: float = 0.4, match_score: float = 0.5,
                           height: int = 600):
    """A Box: a UnitsTable of all units of the sortings and the SortingAgreement view."""
    from .. import views as vv

    agreement = W.get_sorting_agreement(sorting_ids, delta_time_ms=delta_time_ms, match_score=match_score)
    view = vv.SortingAgreement(agreement=agreement, labels=sorting_labels(W, sorting_ids))
    columns = [vv.UnitsTableColumn("sorting", "Sorting", "str"), vv.UnitsTableColumn("numMatched", "Matched in", "int"),
               vv.UnitsTableColumn("bestAgreement", "Best agreement", "float")]
    table = vv.UnitsTable(columns=columns, rows=unit_rows(view, agreement))
    return vv.Box(direction="horizontal", items=[vv.LayoutItem(table, max_size=420), vv.LayoutItem(view)],
                  height=height)
