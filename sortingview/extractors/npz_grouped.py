"""An ``NpzSortingExtractor`` whose spike trains come from one grouping pass over each segment's arrays.

SpikeInterface's own npz segment masks the whole label array once per unit (``labels == unit_id``), and its
``to_spike_vector`` / cached ``get_unit_spike_train`` do that for every unit before answering anything: about
one pass over all spikes per unit. Here each segment maps labels to unit indexes once (a table look-up for
integer ids in a compact range, else a binary search in the sorted ids), counts them (all ``sorting_info`` needs),
and on the first train asked for groups the spike frames by unit with one stable sort, and keeps only the grouped frames
(8 bytes a spike): every later train is a slice. Answers equal spikeinterface's: the same frames per unit in
increasing order, the same spike vector, the same counts.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from spikeinterface.core import BaseSorting, BaseSortingSegment, NpzSortingExtractor
from spikeinterface.core.base import minimum_spike_dtype


def code_dtype(num_units: int) -> np.dtype:
    """The smallest integer type for codes 0..num_units (16 bits let numpy's stable sort use a radix sort)."""
    return np.dtype(np.int16 if num_units < 2**15 else np.int32 if num_units < 2**31 else np.int64)


def unit_codes(labels: np.ndarray, unit_ids: np.ndarray) -> np.ndarray:
    """Index in ``unit_ids`` (unique) of each label; ``len(unit_ids)`` for a label that is no unit id (as ``==``)."""
    num_units, dtype = len(unit_ids), code_dtype(len(unit_ids))
    if num_units == 0 or labels.size == 0:
        return np.full(labels.size, num_units, dtype=dtype)
    packed = _packed_text(labels, unit_ids)
    if packed is not None:  # short ASCII ids (spikeinterface's generators: '0'..'499'): compared as integers
        labels, unit_ids = packed
    if _exact_int64(unit_ids.dtype) and _exact_int64(labels.dtype):
        low, high = int(unit_ids.min()), int(unit_ids.max())
        if high - low <= max(4 * num_units + 4096, min(labels.size, 1 << 24)):  # a table no larger than the
            # labels (or 16 M entries): one look-up per spike
            table = np.full(high - low + 3, num_units, dtype=dtype)  # first and last slots: out of range
            table[unit_ids.astype(np.int64) - (low - 1)] = np.arange(num_units)
            offsets = labels.astype(np.int64)
            offsets -= low - 1
            return np.take(table, offsets, mode="clip")
    try:
        sorter = np.argsort(unit_ids, kind="stable")
        sorted_ids = unit_ids[sorter]
        pos = np.minimum(np.searchsorted(sorted_ids, labels), num_units - 1)
        return np.where(sorted_ids[pos] == labels, sorter[pos], num_units).astype(dtype)
    except TypeError:  # labels and ids of kinds that do not order together: compare each, as spikeinterface does
        codes = np.full(labels.size, num_units, dtype=dtype)
        for i, unit_id in enumerate(unit_ids):
            codes[np.asarray(labels == unit_id, dtype=bool)] = i
        return codes


def _packed_text(labels: np.ndarray, unit_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Fixed-width text labels and ids of at most 7 characters, all below 128, as int64 (one byte a character,
    so equal texts give equal numbers and different ones different numbers); None for anything else."""
    width = labels.dtype.itemsize // 4
    if (labels.dtype.kind != "U" or unit_ids.dtype.kind != "U" or not 0 < width <= 7
            or unit_ids.dtype.itemsize > labels.dtype.itemsize):
        return None
    ids = unit_ids.astype(labels.dtype)  # no wider: nothing cut (numpy pads shorter texts with NULs)
    codes = labels.view(np.uint32).reshape(-1, width), ids.view(np.uint32).reshape(-1, width)
    if codes[0].max() >= 128 or codes[1].max() >= 128:
        return None
    out = []
    for c in codes:
        packed = np.zeros(len(c), np.int64)
        for k in range(width):
            packed |= c[:, k].astype(np.int64) << (8 * k)
        out.append(packed)
    return out[0], out[1]


def _exact_int64(dtype: np.dtype) -> bool:
    """Integers that int64 holds exactly (not uint64, whose large values would wrap)."""
    return dtype.kind == "i" or (dtype.kind == "u" and dtype.itemsize < 8)


def group_spike_trains(spike_indexes: np.ndarray, codes: np.ndarray,
                       num_units: int) -> tuple[np.ndarray, np.ndarray]:
    """(frames, bounds): unit i's frames, increasing, are ``frames[bounds[i]:bounds[i + 1]]`` (int64).

    ``codes`` are the spikes' unit indexes (``unit_codes``); code ``num_units`` marks a spike of no unit.
    """
    bounds = np.zeros(num_units + 1, dtype=np.int64)
    np.cumsum(np.bincount(codes, minlength=num_units + 1)[:num_units], out=bounds[1:])
    if spike_indexes.size < 2 or np.all(spike_indexes[1:] >= spike_indexes[:-1]):
        # frames already in time order (as write_sorting leaves them): a stable sort by unit keeps them so
        order = np.argsort(codes, kind="stable")
    else:
        order = np.lexsort((spike_indexes, codes))
    frames = np.asarray(spike_indexes)[order[:bounds[-1]]].astype(np.int64)  # spikes of no unit sort last
    frames.flags.writeable = False
    return frames, bounds


class GroupedNpzSegment(BaseSortingSegment):
    """One segment: the raw arrays until the first question, then only the frames grouped by unit."""

    def __init__(self, spike_indexes: np.ndarray, spike_labels: np.ndarray, unit_ids: np.ndarray):
        BaseSortingSegment.__init__(self)
        if spike_indexes.ndim != 1 or spike_labels.shape != spike_indexes.shape:
            raise ValueError(f"spike indexes {spike_indexes.shape} and labels {spike_labels.shape} "
                             "must be 1-D arrays of one length")
        self._raw: tuple | None = (spike_indexes, spike_labels)
        self._unit_ids = unit_ids
        self._index = {u: i for i, u in enumerate(unit_ids.tolist())}
        self._codes: np.ndarray | None = None
        self._grouped: tuple[np.ndarray, np.ndarray] | None = None

    def _unit_codes(self) -> np.ndarray:
        if self._codes is None:
            self._codes = unit_codes(self._raw[1], self._unit_ids)
        return self._codes

    def grouped(self) -> tuple[np.ndarray, np.ndarray]:
        """(frames, bounds) of ``group_spike_trains``, computed on first use; the raw arrays are then freed."""
        if self._grouped is None:
            self._grouped = group_spike_trains(self._raw[0], self._unit_codes(), len(self._unit_ids))
            self._raw = self._codes = None
        return self._grouped

    def unit_frames(self, unit_index: int) -> np.ndarray:
        """Read-only view of the frames (int64, increasing) of the unit at ``unit_index``."""
        frames, bounds = self.grouped()
        return frames[bounds[unit_index]:bounds[unit_index + 1]]

    def counts(self) -> np.ndarray:
        """Spikes per unit; before any train is asked for, counted without grouping (what sorting_info needs)."""
        if self._grouped is not None:
            return np.diff(self._grouped[1])
        return np.bincount(self._unit_codes(), minlength=len(self._unit_ids) + 1)[:len(self._unit_ids)]

    def get_unit_spike_train(self, unit_id, start_frame, end_frame) -> np.ndarray:
        index = self._index.get(unit_id.item() if hasattr(unit_id, "item") else unit_id)
        if index is None:
            return np.zeros(0, dtype=np.int64)
        frames = self.unit_frames(index)
        lo = 0 if start_frame is None else np.searchsorted(frames, start_frame)
        hi = frames.size if end_frame is None else np.searchsorted(frames, end_frame)
        return np.array(frames[lo:max(lo, hi)], dtype=np.int64)  # a copy: callers may write into it


class GroupedNpzSorting(NpzSortingExtractor):
    """Reads the same .npz as ``NpzSortingExtractor`` (no pickles) and answers from grouped trains."""

    #: every train from get_unit_spike_train is an increasing int64 array the caller owns
    spike_trains_increasing = True

    def __init__(self, file_path):
        with np.load(file_path) as npz:  # allow_pickle stays False: a crafted file cannot run code
            num_segments = int(npz["num_segment"][0])
            unit_ids = npz["unit_ids"]
            arrays = [(npz[f"spike_indexes_seg{i}"], npz[f"spike_labels_seg{i}"]) for i in range(num_segments)]
            sampling_frequency = float(npz["sampling_frequency"][0])
        if np.unique(unit_ids).size != unit_ids.size:
            raise ValueError("its unit ids repeat; give every unit its own id and write the sorting again")
        BaseSorting.__init__(self, sampling_frequency, unit_ids)
        self.npz_filename = file_path
        for spike_indexes, spike_labels in arrays:
            self.add_sorting_segment(GroupedNpzSegment(spike_indexes, spike_labels, self.unit_ids))
        self._kwargs = {"file_path": str(Path(file_path).absolute())}

    def get_unit_spike_train(self, unit_id, segment_index=None, start_frame=None, end_frame=None,
                             return_times=False, use_cache=True) -> np.ndarray:
        if return_times:
            return super().get_unit_spike_train(unit_id, segment_index, start_frame, end_frame, True, use_cache)
        segment_index = self._check_segment_index(segment_index)
        self.id_to_index(unit_id)  # an unknown unit raises as spikeinterface does
        return self.segments[segment_index].get_unit_spike_train(unit_id, start_frame, end_frame)

    def count_num_spikes_per_unit(self, outputs="dict", unit_ids=None):
        if unit_ids is not None or outputs not in ("dict", "array"):
            return super().count_num_spikes_per_unit(outputs=outputs, unit_ids=unit_ids)
        counts = np.zeros(len(self.unit_ids), dtype=np.int64)
        for segment in self.segments:
            counts += segment.counts()
        return counts if outputs == "array" else dict(zip(self.unit_ids, counts, strict=True))

    def _compute_and_cache_spike_vector(self) -> None:
        """The spike vector spikeinterface builds (time order, ties by unit index), from the grouped frames."""
        parts, slices, pos = [], np.zeros((self.get_num_segments(), 2), dtype=np.int64), 0
        for segment_index, segment in enumerate(self.segments):
            frames, bounds = segment.grouped()
            units = np.repeat(np.arange(len(self.unit_ids), dtype=np.int64), np.diff(bounds))
            order = np.argsort(frames, kind="stable")
            spikes = np.zeros(frames.size, dtype=minimum_spike_dtype)
            spikes["sample_index"], spikes["unit_index"] = frames[order], units[order]
            spikes["segment_index"] = segment_index
            parts.append(spikes)
            slices[segment_index] = (pos, pos + frames.size)
            pos += frames.size
        self._cached_spike_vector = np.concatenate(parts) if parts else np.zeros(0, dtype=minimum_spike_dtype)
        self._cached_spike_vector_segment_slices = slices
