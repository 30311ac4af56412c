"""Packing many same-shaped arrays into a few large ones: what the ``.2`` task results are made of.

A ``.2`` result holds one array for all units (or pairs) plus index fields, so it is encoded, stored, sent
and decoded in one piece instead of one small array per unit (see doc/tasks.md, "Packed results").
Ragged data (a different number of spikes per unit) is concatenated in unit order with ``spikeOffsets``:
unit i's rows are ``[spikeOffsets[i], spikeOffsets[i + 1])``.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np


def compact_counts(counts: np.ndarray) -> np.ndarray:
    """Non-negative counts in the narrowest unsigned dtype that holds them (uint8, uint16, uint32; else int64).

    Fewer bytes is what makes a packed result fast to encode and decode; the values are unchanged.
    """
    top = int(counts.max()) if counts.size else 0
    for dtype in (np.uint8, np.uint16, np.uint32):
        if top <= np.iinfo(dtype).max:
            return counts.astype(dtype)
    return counts.astype(np.int64)


def spike_offsets(lengths: Sequence[int]) -> np.ndarray:
    """``[0, n0, n0 + n1, ...]`` (int64, one more entry than ``lengths``)."""
    return np.concatenate([[0], np.cumsum(np.asarray(lengths, dtype=np.int64))]).astype(np.int64)


def concatenated(parts: Sequence[np.ndarray], dtype: Any, tail: tuple[int, ...] = ()) -> np.ndarray:
    """The parts one after the other along axis 0 (an empty array of shape ``(0, *tail)`` when there are none)."""
    parts = [np.asarray(p, dtype=dtype).reshape((-1, *tail)) for p in parts]
    return np.concatenate(parts) if parts else np.zeros((0, *tail), dtype)


def channel_index_table(neighborhoods: Sequence[np.ndarray | None], width: int) -> np.ndarray:
    """int32 units x ``width`` table of channel indices; -1 fills the row of a unit without a neighbourhood."""
    table = np.full((len(neighborhoods), width), -1, np.int32)
    for i, chans in enumerate(neighborhoods):
        if chans is not None and len(chans):
            table[i, :len(chans)] = chans
    return table
