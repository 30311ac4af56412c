"""The ``*_view()`` methods of SpikeSortingView: each returns a view of ``sortingview.views``."""
from __future__ import annotations

from typing import Any, Dict, List, Union

import numpy as np

from .. import views as vv

#: correlograms as the task catalogue defines them: a 50 ms window of 1 ms bins
WINDOW_MS, BIN_MS = 50.0, 1.0


def _ids(unit_ids: Any) -> list:
    return [u.item() if isinstance(u, np.generic) else u for u in unit_ids]


def _noise_level(self) -> float:
    traces = self.get_traces_sample(segment=0)
    return float(np.median(np.abs(traces - np.mean(traces, axis=0))) / 0.6745)


def _duration_sec(self) -> float:
    return self.num_frames / self.sampling_frequency


def _channel_locations(self) -> Dict[str, np.ndarray]:
    return {str(c): self.channel_locations[i, :].astype(np.float32) for i, c in enumerate(_ids(self.channel_ids))}


def _subsample(num: int, max_num: int) -> np.ndarray:
    return np.floor(np.arange(max_num) * (num / max_num)).astype(np.int64)


def _times(self, unit_id: Any, amplitudes: bool, max_rate: Union[float, None]):
    times = self.get_unit_spike_train(unit_id=unit_id) / self.sampling_frequency
    amps = self.get_unit_spike_amplitudes(unit_id=unit_id) if amplitudes else None
    if max_rate is not None:
        max_num = int(_duration_sec(self) * max_rate)
        if len(times) > max_num:
            inds = _subsample(len(times), max_num)
            times, amps = times[inds], (amps[inds] if amps is not None else None)
    return times.astype(np.float32), amps


def sorting_summary_view(self, *, label: Union[str, None] = None) -> vv.SortingSummary:
    return vv.SortingSummary(
        recording_description="", sorting_description="", unit_ids=_ids(self.unit_ids),
        channel_ids=_ids(self.channel_ids), sampling_frequency=float(self.sampling_frequency),
        num_frames=int(self.num_frames), num_segments=int(self.num_segments),
        channel_locations=self.channel_locations.astype(np.float32), noise_level=_noise_level(self))


def units_table_view(self, *, unit_ids: List[Any], unit_metrics: Union[List[dict], None] = None,
                     label: Union[str, None] = None) -> vv.UnitsTable:
    """Unit, number of events, firing rate, SNR (|mean amplitude| / noise), and any ``unit_metrics``
    (``[{name, label, data: {unit id: value}}]``, as Workspace.get_unit_metrics_for_sorting returns)."""
    noise = _noise_level(self)
    columns = [vv.UnitsTableColumn(key="unitId", label="Unit", dtype="int"),
               vv.UnitsTableColumn(key="numEvents", label="Num. events", dtype="int"),
               vv.UnitsTableColumn(key="firingRateHz", label="Firing rate (Hz)", dtype="float"),
               vv.UnitsTableColumn(key="snr", label="SNR", dtype="float")]
    for m in unit_metrics or []:
        columns.append(vv.UnitsTableColumn(key=f"metric:{m['name']}", label=m["label"], dtype="float"))
    rows = []
    for unit_id in _ids(unit_ids):
        n = len(self.get_unit_spike_train(unit_id=unit_id))
        amps = self.get_unit_spike_amplitudes(unit_id=unit_id)
        snr = float(np.abs(np.mean(amps)) / noise) if n and noise > 0 else None
        values: Dict[str, Any] = {"unitId": unit_id, "numEvents": n, "firingRateHz": n / _duration_sec(self),
                                  "snr": snr}
        for m in unit_metrics or []:
            value = m["data"].get(str(unit_id))
            if value is not None:
                values[f"metric:{m['name']}"] = value
        rows.append(vv.UnitsTableRow(unit_id=unit_id, values=values))
    return vv.UnitsTable(columns=columns, rows=rows)


def raster_plot_view(self, *, unit_ids: List[Any], label: Union[str, None] = None,
                     _subsample_max_firing_rate: Union[float, None] = None) -> vv.RasterPlot:
    plots = [vv.RasterPlotItem(unit_id=u, spike_times_sec=_times(self, u, False, _subsample_max_firing_rate)[0])
             for u in _ids(unit_ids)]
    return vv.RasterPlot(start_time_sec=0, end_time_sec=_duration_sec(self), plots=plots)


def spike_amplitudes_view(self, *, unit_ids: List[Any], hide_unit_selector: bool = False,
                          _subsample_max_firing_rate: Union[float, None] = None) -> vv.SpikeAmplitudes:
    plots = []
    for u in _ids(unit_ids):
        times, amps = _times(self, u, True, _subsample_max_firing_rate)
        plots.append(vv.SpikeAmplitudesItem(unit_id=u, spike_times_sec=times, spike_amplitudes=amps.astype(np.float32)))
    return vv.SpikeAmplitudes(start_time_sec=0, end_time_sec=_duration_sec(self), plots=plots,
                              hide_unit_selector=hide_unit_selector)


def _bin_edges_sec() -> np.ndarray:
    n_bins = int(round(WINDOW_MS / BIN_MS))
    return np.linspace(-WINDOW_MS / 2000, WINDOW_MS / 2000, n_bins + 1).astype(np.float32)


def autocorrelograms_view(self, *, unit_ids: List[Any], label: Union[str, None] = None) -> vv.Autocorrelograms:
    from ..compute.correlograms import autocorrelograms

    ids = _ids(unit_ids)
    counts = autocorrelograms([self.get_unit_spike_train(unit_id=u) for u in ids], window_ms=WINDOW_MS,
                              bin_ms=BIN_MS, sampling_frequency=self.sampling_frequency).astype(np.int32)
    edges = _bin_edges_sec()
    return vv.Autocorrelograms([vv.AutocorrelogramItem(unit_id=u, bin_edges_sec=edges, bin_counts=counts[i])
                                for i, u in enumerate(ids)])


def cross_correlograms_view(self, *, unit_ids: List[Any], hide_unit_selector: bool = False) -> vv.CrossCorrelograms:
    """Every ordered pair of ``unit_ids`` (n^2 items: keep the list short, as the original)."""
    from ..compute.correlograms import cross_correlograms

    ids = _ids(unit_ids)
    counts = cross_correlograms([self.get_unit_spike_train(unit_id=u) for u in ids], window_ms=WINDOW_MS,
                                bin_ms=BIN_MS, sampling_frequency=self.sampling_frequency).astype(np.int32)
    edges = _bin_edges_sec()
    items = [vv.CrossCorrelogramItem(unit_id1=u1, unit_id2=u2, bin_edges_sec=edges, bin_counts=counts[i, j])
             for i, u1 in enumerate(ids) for j, u2 in enumerate(ids)]
    return vv.CrossCorrelograms(cross_correlograms=items, hide_unit_selector=hide_unit_selector)


def average_waveforms_view(self, *, unit_ids: List[Any], label: Union[str, None] = None) -> vv.AverageWaveforms:
    """Mean and standard deviation of each unit's sampled snippets on its channel neighbourhood."""
    items = []
    for u in _ids(unit_ids):
        snippets = self.get_unit_subsampled_spike_snippets(unit_id=u)
        if len(snippets):
            mean, std = np.mean(snippets, axis=0), np.std(snippets, axis=0)
        else:
            mean = std = np.zeros(snippets.shape[1:], dtype=np.float32)
        items.append(vv.AverageWaveformItem(
            unit_id=u, channel_ids=_ids(self.get_unit_channel_neighborhood(unit_id=u)),
            waveform=mean.astype(np.float32).T, waveform_std_dev=std.astype(np.float32).T))
    return vv.AverageWaveforms(average_waveforms=items, channel_locations=_channel_locations(self))


def electrode_geometry_view(self) -> vv.ElectrodeGeometry:
    return vv.ElectrodeGeometry(channel_locations=_channel_locations(self))


def mountain_layout_view(self, *, unit_ids: Union[List[Any], None] = None, unit_metrics: Union[List[dict], None] = None,
                         label_choices: Union[List[str], None] = None) -> vv.MountainLayout:
    """The views of this sorting in a MountainLayout, with the units table and curation as controls."""
    ids = _ids(self.unit_ids if unit_ids is None else unit_ids)
    item = vv.MountainLayoutItem
    return vv.MountainLayout(items=[
        item(label="Units", view=self.units_table_view(unit_ids=ids, unit_metrics=unit_metrics), is_control=True),
        item(label="Curation", view=vv.SortingCuration2(label_choices=label_choices), is_control=True),
        item(label="Summary", view=self.sorting_summary_view()),
        item(label="Autocorrelograms", view=self.autocorrelograms_view(unit_ids=ids)),
        item(label="Average waveforms", view=self.average_waveforms_view(unit_ids=ids)),
        item(label="Spike amplitudes", view=self.spike_amplitudes_view(unit_ids=ids)),
        item(label="Raster plot", view=self.raster_plot_view(unit_ids=ids)),
        item(label="Electrode geometry", view=self.electrode_geometry_view()),
    ])
