"""Loading recording/sorting objects for tasks (cached per process) and resolving unit ids.

Wherever a task takes unit ids, an element may be a list of ids: a merge group, one unit whose spike train
is the sorted union of its members' trains.
"""
from __future__ import annotations

import functools
import weakref
from typing import Any, Sequence

import numpy as np

from ..errors import TaskInputError


@functools.lru_cache(maxsize=16)
def load_recording(uri: str):
    """The spikeinterface recording of the object at ``uri`` (cached per process)."""
    from ..extractors import load_recording as _load
    from ._shared import remember_uri

    rec = _load(uri)
    remember_uri(rec, uri)  # so that passes over it can be shared between processes (tasks/_shared.py)
    return rec


@functools.lru_cache(maxsize=16)
def load_sorting(uri: str):
    """The spikeinterface sorting of the object at ``uri`` (cached per process, at most 16).

    A stored npz sorting is a ``GroupedNpzSorting``: after the first train it keeps 8 bytes a spike, and every
    train, count and the spike vector come from that one grouping pass.
    """
    from ..extractors import load_sorting as _load
    from ._shared import remember_uri

    sorting = _load(uri)
    remember_uri(sorting, uri)
    return sorting


_ID_TABLES: "weakref.WeakKeyDictionary[Any, dict]" = weakref.WeakKeyDictionary()


def _id_table(sorting) -> dict:
    """{id: unit id, str(id): unit id} of a sorting, built once per sorting object (a lookup is then O(1))."""
    table = _ID_TABLES.get(sorting)
    if table is None:
        ids = list(sorting.get_unit_ids())
        # JSON may carry "7" for unit 7 or 7 for unit "7"; an exact id wins over a string match
        table = {str(u): u for u in reversed(ids)}
        table.update((_hashable(u), u) for u in ids)
        _ID_TABLES[sorting] = table
    return table


def _hashable(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _lookup(sorting, unit_id: Any):
    table = _id_table(sorting)
    try:
        found = table.get(_hashable(unit_id), table.get(str(unit_id)))
    except TypeError:  # an unhashable id (a dict from JSON) is no unit
        found = None
    if found is None:
        ids = list(sorting.get_unit_ids())
        raise TaskInputError(f"unit {unit_id!r} is not in the sorting; its units are {ids[:20]}"
                             f"{' ...' if len(ids) > 20 else ''}")
    return found


def unit_spike_train(sorting, unit: Any, segment_index: int = 0) -> np.ndarray:
    """Spike frames (int64, sorted) of a unit id or a merge group (list of unit ids)."""
    if isinstance(unit, (list, tuple)):
        if not unit:
            raise TaskInputError("a merge group must list at least one unit id")
        members = list(dict.fromkeys(_lookup(sorting, u) for u in unit))  # a unit listed twice counts once
        trains = [unit_spike_train(sorting, u, segment_index) for u in members]
        return np.sort(np.concatenate(trains)).astype(np.int64, copy=False)
    train = sorting.get_unit_spike_train(_lookup(sorting, unit), segment_index=segment_index)
    if getattr(sorting, "spike_trains_increasing", False):
        return train  # already an increasing int64 copy (GroupedNpzSorting)
    return np.sort(np.asarray(train, dtype=np.int64))


def resolve_units(sorting, unit_ids: Sequence[Any] | None) -> list[Any]:
    """The requested units (all units when None), each a unit id or a merge group, validated."""
    if unit_ids is None:
        return [u.item() if hasattr(u, "item") else u for u in sorting.get_unit_ids()]
    for u in unit_ids:
        for member in (u if isinstance(u, (list, tuple)) else [u]):
            _lookup(sorting, member)
    return list(unit_ids)
