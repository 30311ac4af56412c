"""``Autocorrelograms`` and ``CrossCorrelograms``: bin edges (seconds) and counts per unit or pair."""
from __future__ import annotations

from typing import List, Union

import numpy as np

from .view import View

ArrayLike = Union[np.ndarray, List[float]]


class AutocorrelogramItem:
    """The autocorrelogram of one unit: ``bin_edges_sec`` (n + 1) and ``bin_counts`` (n)."""

    def __init__(self, unit_id: Union[int, str], bin_edges_sec: ArrayLike, bin_counts: ArrayLike) -> None:
        self.unit_id = unit_id
        self.bin_edges_sec = bin_edges_sec
        self.bin_counts = bin_counts

    def to_dict(self) -> dict:
        return {"unitId": self.unit_id, "binEdgesSec": self.bin_edges_sec, "binCounts": self.bin_counts}


class Autocorrelograms(View):
    """One autocorrelogram per unit."""

    def __init__(self, autocorrelograms: List[AutocorrelogramItem], **kwargs) -> None:
        super().__init__("Autocorrelograms", **kwargs)
        self._autocorrelograms = autocorrelograms

    def to_dict(self) -> dict:
        return {"type": self.type, "autocorrelograms": [a.to_dict() for a in self._autocorrelograms]}


class CrossCorrelogramItem:
    """The correlogram of one pair of units (lags of unit 2's spikes after unit 1's)."""

    def __init__(self, unit_id1: Union[int, str], unit_id2: Union[int, str], bin_edges_sec: ArrayLike,
                 bin_counts: ArrayLike) -> None:
        self.unit_id1 = unit_id1
        self.unit_id2 = unit_id2
        self.bin_edges_sec = bin_edges_sec
        self.bin_counts = bin_counts

    def to_dict(self) -> dict:
        return {"unitId1": self.unit_id1, "unitId2": self.unit_id2, "binEdgesSec": self.bin_edges_sec,
                "binCounts": self.bin_counts}


class CrossCorrelograms(View):
    """Cross-correlograms of the selected units (a matrix of pairs)."""

    def __init__(self, cross_correlograms: List[CrossCorrelogramItem], *, hide_unit_selector: bool = False,
                 **kwargs) -> None:
        super().__init__("CrossCorrelograms", **kwargs)
        self._cross_correlograms = cross_correlograms
        self._hide_unit_selector = hide_unit_selector

    def to_dict(self) -> dict:
        return {"type": self.type, "crossCorrelograms": [c.to_dict() for c in self._cross_correlograms],
                "hideUnitSelector": self._hide_unit_selector}
