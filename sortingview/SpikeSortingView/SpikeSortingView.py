"""``SpikeSortingView``: prepared data of a recording + sorting, and the views made from it.

``SpikeSortingView.create(recording=..., sorting=..., ...)`` reads the recording once (see ``_prepare.py``),
stores the result in the store and returns the object; ``SpikeSortingView(data_uri)`` opens stored data
again. The ``*_view()`` methods return views of ``sortingview.views`` (``_views.py``).
"""
from __future__ import annotations

from typing import Any, Tuple, Union

import numpy as np

from .. import store
from . import _views
from ._prepare import SpikeSortingViewError, prepare_spikesortingview_data


def _scalar(a: np.ndarray) -> Any:
    return a.reshape(-1)[0].item()


class SpikeSortingView:
    """The data of one recording + sorting for building views (as the 2022 sortingview's SpikeSortingView)."""

    def __init__(self, data_uri: str) -> None:
        self._data_uri = data_uri
        with np.load(store.load_file(data_uri), allow_pickle=False) as f:
            self._data = {k: f[k] for k in f.files}
        d = self._data
        self._unit_ids = d["unit_ids"]
        self._unit_index = {_key(u): i for i, u in enumerate(self._unit_ids.tolist())}
        self._max_snippets = _scalar(d["max_num_snippets_per_segment"])

    @staticmethod
    def create(*, recording: Any, sorting: Any, segment_duration_sec: float, snippet_len: Tuple[int, int],
               max_num_snippets_per_segment: Union[int, None], channel_neighborhood_size: int,
               bandpass_filter: bool = False) -> "SpikeSortingView":
        """Prepare the data of ``recording`` + ``sorting`` (SpikeInterface objects) and store it."""
        return SpikeSortingView(prepare_spikesortingview_data(
            recording=recording, sorting=sorting, segment_duration_sec=segment_duration_sec,
            snippet_len=snippet_len, max_num_snippets_per_segment=max_num_snippets_per_segment,
            channel_neighborhood_size=channel_neighborhood_size, bandpass_filter=bandpass_filter))

    data_uri = property(lambda self: self._data_uri)
    unit_ids = property(lambda self: self._unit_ids)
    channel_ids = property(lambda self: self._data["channel_ids"])
    channel_locations = property(lambda self: self._data["channel_locations"])
    sampling_frequency = property(lambda self: _scalar(self._data["sampling_frequency"]))
    num_frames = property(lambda self: _scalar(self._data["num_frames"]))
    num_segments = property(lambda self: _scalar(self._data["num_segments"]))
    num_frames_per_segment = property(lambda self: _scalar(self._data["num_frames_per_segment"]))
    snippet_len = property(lambda self: tuple(self._data["snippet_len"].tolist()))
    max_num_snippets_per_segment = property(lambda self: None if self._max_snippets < 0 else self._max_snippets)
    channel_neighborhood_size = property(lambda self: _scalar(self._data["channel_neighborhood_size"]))

    def _index(self, unit_id: Any) -> int:
        i = self._unit_index.get(_key(unit_id))
        if i is None:
            raise SpikeSortingViewError(f"unit {unit_id!r} is not in this sorting; its units are "
                                        f"{self._unit_ids.tolist()[:20]}")
        return i

    def _slice(self, name: str, unit_id: Any) -> np.ndarray:
        i = self._index(unit_id)
        offsets = self._data["spike_offsets" if name in ("spike_frames", "spike_amplitudes") else "subsampled_offsets"]
        return self._data[name][offsets[i]:offsets[i + 1]]

    def get_unit_spike_train(self, *, unit_id: Any) -> np.ndarray:
        return self._slice("spike_frames", unit_id)

    def get_unit_subsampled_spike_train(self, *, unit_id: Any) -> np.ndarray:
        return self._slice("subsampled_frames", unit_id)

    def get_unit_spike_amplitudes(self, *, unit_id: Any) -> np.ndarray:
        return self._slice("spike_amplitudes", unit_id)

    def get_unit_subsampled_spike_snippets(self, *, unit_id: Any) -> np.ndarray:
        """Snippets (spikes x frames x neighbourhood channels) of the unit's sampled spikes."""
        return self._slice("snippets", unit_id)

    def get_unit_channel_neighborhood(self, *, unit_id: Any) -> np.ndarray:
        return self.channel_ids[self._data["neighborhoods"][self._index(unit_id)]]

    def get_unit_peak_channel_id(self, *, unit_id: Any) -> Any:
        return self.channel_ids[self._data["peak_channel_indices"][self._index(unit_id)]].item()

    def get_traces_sample(self, *, segment: int = 0) -> np.ndarray:
        """The first second of the recording (kept for segment 0 only), frames x channels."""
        if segment != 0:
            raise SpikeSortingViewError("only the traces sample of segment 0 is kept")
        return self._data["traces_sample"]

    sorting_summary_view = _views.sorting_summary_view
    units_table_view = _views.units_table_view
    raster_plot_view = _views.raster_plot_view
    autocorrelograms_view = _views.autocorrelograms_view
    cross_correlograms_view = _views.cross_correlograms_view
    average_waveforms_view = _views.average_waveforms_view
    electrode_geometry_view = _views.electrode_geometry_view
    spike_amplitudes_view = _views.spike_amplitudes_view
    mountain_layout_view = _views.mountain_layout_view


def _key(unit_id: Any) -> str:
    return str(unit_id.item() if isinstance(unit_id, np.generic) else unit_id)
