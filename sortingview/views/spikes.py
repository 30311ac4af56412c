"""Views of spikes over time and space: ``SpikeAmplitudes``, ``RasterPlot``, ``UnitLocations``,
``SpikeLocations``."""
from __future__ import annotations

from typing import Any, Dict, List, Tuple, Union

import numpy as np

from .view import View


class SpikeAmplitudesItem:
    """One unit's spike times (s) and amplitudes."""

    def __init__(self, unit_id: Union[int, str], spike_times_sec: np.ndarray, spike_amplitudes: np.ndarray) -> None:
        self.unit_id = unit_id
        self.spike_times_sec = spike_times_sec
        self.spike_amplitudes = spike_amplitudes

    def to_dict(self) -> dict:
        return {"unitId": self.unit_id, "spikeTimesSec": self.spike_times_sec,
                "spikeAmplitudes": self.spike_amplitudes}


class SpikeAmplitudes(View):
    """Amplitude of each spike against time, for the selected units."""

    def __init__(self, *, start_time_sec: float, end_time_sec: float, plots: List[SpikeAmplitudesItem],
                 hide_unit_selector: bool = False, **kwargs) -> None:
        super().__init__("SpikeAmplitudes", **kwargs)
        self._start_time_sec = start_time_sec
        self._end_time_sec = end_time_sec
        self._plots = plots
        self._hide_unit_selector = hide_unit_selector

    def to_dict(self) -> dict:
        return {
            "type": self.type,
            "startTimeSec": self._start_time_sec,
            "endTimeSec": self._end_time_sec,
            "units": [p.to_dict() for p in self._plots],
            "hideUnitSelector": self._hide_unit_selector,
        }


class RasterPlotItem:
    """One unit's spike times (s)."""

    def __init__(self, unit_id: Union[int, str], spike_times_sec: np.ndarray) -> None:
        self.unit_id = unit_id
        self.spike_times_sec = spike_times_sec

    def to_dict(self) -> dict:
        return {"unitId": self.unit_id, "spikeTimesSec": self.spike_times_sec}


class RasterPlot(View):
    """Spike rasters of units between ``start_time_sec`` and ``end_time_sec``."""

    def __init__(self, *, start_time_sec: float, end_time_sec: float, plots: List[RasterPlotItem], **kwargs) -> None:
        super().__init__("RasterPlot", **kwargs)
        self._start_time_sec = start_time_sec
        self._end_time_sec = end_time_sec
        self._plots = plots

    def to_dict(self) -> dict:
        return {"type": self.type, "startTimeSec": self._start_time_sec, "endTimeSec": self._end_time_sec,
                "plots": [p.to_dict() for p in self._plots]}


class UnitLocationsItem:
    """The estimated position of one unit on the probe."""

    def __init__(self, unit_id: Union[int, str], x: float, y: float) -> None:
        self.unit_id = unit_id
        self.x = x
        self.y = y

    def to_dict(self) -> dict:
        return {"unitId": self.unit_id, "x": self.x, "y": self.y}


class UnitLocations(View):
    """Units drawn at their positions over the probe's contacts (``channel_locations``: {id: [x, y]})."""

    def __init__(self, units: List[UnitLocationsItem], *, channel_locations: Dict[str, Any],
                 disable_auto_rotate: bool = False, **kwargs) -> None:
        super().__init__("UnitLocations", **kwargs)
        self._units = units
        self._channel_locations = channel_locations
        self._disable_auto_rotate = disable_auto_rotate

    def to_dict(self) -> dict:
        return {"type": self.type, "units": [u.to_dict() for u in self._units],
                "channelLocations": self._channel_locations, "disableAutoRotate": self._disable_auto_rotate}


class SpikeLocationsItem:
    """One unit's spike times (s) and the estimated x, y of each spike."""

    def __init__(self, unit_id: Union[int, str], spike_times_sec: np.ndarray, x_locations: np.ndarray,
                 y_locations: np.ndarray) -> None:
        self.unit_id = unit_id
        self.spike_times_sec = spike_times_sec
        self.x_locations = x_locations
        self.y_locations = y_locations

    def to_dict(self) -> dict:
        return {"unitId": self.unit_id, "spikeTimesSec": self.spike_times_sec, "xLocations": self.x_locations,
                "yLocations": self.y_locations}


class SpikeLocations(View):
    """Spikes drawn at their estimated positions over the probe, within ``x_range`` x ``y_range``."""

    def __init__(self, units: List[SpikeLocationsItem], *, x_range: Tuple[float, float], y_range: Tuple[float, float],
                 hide_unit_selector: bool, channel_locations: Dict[str, Any], disable_auto_rotate: bool = False,
                 **kwargs) -> None:
        super().__init__("SpikeLocations", **kwargs)
        self._units = units
        self._x_range = x_range
        self._y_range = y_range
        self._hide_unit_selector = hide_unit_selector
        self._channel_locations = channel_locations
        self._disable_auto_rotate = disable_auto_rotate

    def to_dict(self) -> dict:
        return {
            "type": self.type,
            "units": [u.to_dict() for u in self._units],
            "xRange": [self._x_range[0], self._x_range[1]],
            "yRange": [self._y_range[0], self._y_range[1]],
            "hideUnitSelector": self._hide_unit_selector,
            "channelLocations": self._channel_locations,
            "disableAutoRotate": self._disable_auto_rotate,
        }
