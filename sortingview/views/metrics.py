"""Views of unit measures: ``UnitMetricsGraph`` and the sorting comparison ``ConfusionMatrix``."""
from __future__ import annotations

from typing import List, Union

from .units_table import UnitsTableColumn, UnitsTableRow
from .view import View


class UnitMetricsGraphMetric(UnitsTableColumn):
    """One metric: its key in the units' values, its label and ``dtype`` ("int" or "float") (a table column's
    fields)."""


class UnitMetricsGraphUnit(UnitsTableRow):
    """One unit's metric values ({metric key: value}) (a table row's fields)."""


class UnitMetricsGraph(View):
    """Histograms of each metric and scatter plots of pairs of metrics over units."""

    def __init__(self, *, metrics: List[UnitMetricsGraphMetric], units: List[UnitMetricsGraphUnit],
                 **kwargs) -> None:
        super().__init__("UnitMetricsGraph", **kwargs)
        self._metrics = metrics
        self._units = units

    def to_dict(self) -> dict:
        return {"type": self.type, "units": [u.to_dict() for u in self._units],
                "metrics": [m.to_dict() for m in self._metrics]}


class UnitEventCount:
    """The number of events of one unit (of either sorting)."""

    def __init__(self, unit_id: Union[int, str], count: int) -> None:
        self.unit_id = unit_id
        self.count = count

    def to_dict(self) -> dict:
        return {"unitId": self.unit_id, "count": self.count}


class MatchingUnitEventCount:
    """The number of matching events of a unit of sorting 1 and a unit of sorting 2."""

    def __init__(self, unit_id1: Union[int, str], unit_id2: Union[int, str], count: int) -> None:
        self.unit_id1 = unit_id1
        self.unit_id2 = unit_id2
        self.count = count

    def to_dict(self) -> dict:
        return {"unitId1": self.unit_id1, "unitId2": self.unit_id2, "count": self.count}


class ConfusionMatrix(View):
    """The confusion matrix of two sortings of one recording."""

    def __init__(self, *, sorting1_unit_ids: List[Union[str, int]], sorting2_unit_ids: List[Union[str, int]],
                 unit_event_counts: List[UnitEventCount], matching_unit_event_counts: List[MatchingUnitEventCount],
                 **kwargs) -> None:
        super().__init__("ConfusionMatrix", **kwargs)
        self.sorting1_unit_ids = sorting1_unit_ids
        self.sorting2_unit_ids = sorting2_unit_ids
        self.unit_event_counts = unit_event_counts
        self.matching_unit_event_counts = matching_unit_event_counts

    def to_dict(self) -> dict:
        return {
            "type": self.type,
            "sorting1UnitIds": self.sorting1_unit_ids,
            "sorting2UnitIds": self.sorting2_unit_ids,
            "unitEventCounts": [c.to_dict() for c in self.unit_event_counts],
            "matchingUnitEventCounts": [c.to_dict() for c in self.matching_unit_event_counts],
        }
