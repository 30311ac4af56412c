"""``SortingAgreement``: agreement between sortings of one recording without ground truth (doc/sorting.md).

Not a view of sortingview 0.14 (ours): it draws the result of the task ``sortingview.sorting_agreement.1``
(``W.get_sorting_agreement``): per pair of sortings the matched units and their agreement scores, the
units each found alone, and with three or more sortings the multi-sorting comparison's groups.
"""
from __future__ import annotations

import string
from typing import List, Optional

from .view import View, ViewError

MAX_SORTINGS = 8


def default_unit_prefixes(n: int) -> List[str]:
    """``A:``, ``B:``, ...: the units of two sortings would collide in the figure's selection otherwise."""
    return [f"{c}:" for c in string.ascii_uppercase[:n]]


class SortingAgreement(View):
    """The agreement of 2 to 8 sortings of one recording.

    Parameters
    ----------
    agreement : the result of ``sortingview.sorting_agreement.1`` (``unitIds``, ``pairs``, ``foundByOneOnly``
        and, for three or more sortings, ``groups``)
    labels : one label per sorting, in the order of the comparison
    unit_prefixes : the unit keys of sorting i in the figure are ``unit_prefixes[i] + str(unit id)``
        (default ``A:``, ``B:``, ...); give the same keys to other views of the figure to share the selection
    """

    def __init__(self, *, agreement: dict, labels: List[str], unit_prefixes: Optional[List[str]] = None,
                 **kwargs) -> None:
        super().__init__("SortingAgreement", **kwargs)
        unit_ids = agreement.get("unitIds") if isinstance(agreement, dict) else None
        if not isinstance(unit_ids, list) or not 2 <= len(unit_ids) <= MAX_SORTINGS:
            raise ViewError("agreement must be the result of sortingview.sorting_agreement.1 "
                            f"(unitIds of 2 to {MAX_SORTINGS} sortings; W.get_sorting_agreement)")
        n = len(unit_ids)
        prefixes = default_unit_prefixes(n) if unit_prefixes is None else list(unit_prefixes)
        if len(labels) != n or len(prefixes) != n:
            raise ViewError(f"give one label and one unit prefix per sorting ({n}); got {len(labels)} label(s) "
                            f"and {len(prefixes)} prefix(es)")
        if not all(isinstance(x, str) for x in [*labels, *prefixes]):
            raise ViewError("labels and unit_prefixes must be strings")
        self.agreement = agreement
        self.labels = list(labels)
        self.unit_prefixes = prefixes

    def unit_key(self, sorting_index: int, unit_id) -> str:
        return f"{self.unit_prefixes[sorting_index]}{unit_id}"

    def to_dict(self) -> dict:
        a = self.agreement
        out = {"type": self.type,
               "sortings": [{"label": lab, "unitPrefix": p, "unitIds": ids}
                            for lab, p, ids in zip(self.labels, self.unit_prefixes, a["unitIds"], strict=True)],
               "pairs": a["pairs"], "foundByOneOnly": a["foundByOneOnly"]}
        if a.get("groups") is not None:
            out["groups"] = a["groups"]
        return out
