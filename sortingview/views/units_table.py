"""``UnitsTable`` (columns, rows, optional similarity scores) and ``UnitSimilarityMatrix``."""
from __future__ import annotations

from typing import List, Literal, Union

from .view import View


class UnitSimilarityScore:
    """The similarity of two units (shown by UnitSimilarityMatrix, and used by UnitsTable to order units)."""

    def __init__(self, unit_id1: Union[int, str], unit_id2: Union[int, str], similarity: float) -> None:
        self.unit_id1 = unit_id1
        self.unit_id2 = unit_id2
        self.similarity = similarity

    def to_dict(self) -> dict:
        return {"unitId1": self.unit_id1, "unitId2": self.unit_id2, "similarity": self.similarity}


class UnitsTableColumn:
    """One column: the key of the value in each row, its header, and ``dtype`` ("int", "float", ...)."""

    def __init__(self, key: str, label: str, dtype: Literal["int", "float"]) -> None:
        self.key = key
        self.label = label
        self.dtype = dtype

    def to_dict(self) -> dict:
        return {"key": self.key, "label": self.label, "dtype": self.dtype}


class UnitsTableRow:
    """One unit's row: ``values`` maps column keys to values."""

    def __init__(self, unit_id: Union[int, str], values: dict) -> None:
        self.unit_id = unit_id
        self.values = values

    def to_dict(self) -> dict:
        return {"unitId": self.unit_id, "values": self.values}


class UnitsTable(View):
    """The table of units, where units are selected (shared with every view of the figure)."""

    def __init__(self, *, columns: List[UnitsTableColumn], rows: List[UnitsTableRow],
                 similarity_scores: Union[List[UnitSimilarityScore], None] = None, **kwargs) -> None:
        super().__init__("UnitsTable", **kwargs)
        self._columns = columns
        self._rows = rows
        self._similarity_scores = similarity_scores

    def to_dict(self) -> dict:
        ret = {"type": self.type, "columns": [c.to_dict() for c in self._columns],
               "rows": [r.to_dict() for r in self._rows]}
        if self._similarity_scores is not None:
            ret["similarityScores"] = [s.to_dict() for s in self._similarity_scores]
        return ret


class UnitSimilarityMatrix(View):
    """A matrix of similarity scores between units."""

    def __init__(self, unit_ids: List[Union[int, str]], similarity_scores: List[UnitSimilarityScore],
                 **kwargs) -> None:
        super().__init__("UnitSimilarityMatrix", **kwargs)
        self._unit_ids = unit_ids
        self._similarity_scores = similarity_scores

    def to_dict(self) -> dict:
        return {"type": self.type, "unitIds": self._unit_ids,
                "similarityScores": [s.to_dict() for s in self._similarity_scores]}
