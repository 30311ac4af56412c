"""Time-based views kept from sortingview 0.14 as data: ``TimeseriesGraph``, ``PositionPlot``, ``EphysTraces``.

Their ``to_dict()`` formats are the original's; the viewer may not draw every one of them (doc/views.md).
"""
from __future__ import annotations

from typing import Any, Dict, List, Union

import numpy as np

from .view import View, ViewError


class TGDataset:
    """A named table of columns (numpy arrays) that series read from."""

    def __init__(self, *, name: str, data: dict) -> None:
        self._name = name
        self._data = data

    def to_dict(self) -> dict:
        return {"name": self._name, "data": self._data}


class TGSeries:
    """A series drawn from a dataset: ``type`` (line, marker, interval), column ``encoding`` and attributes."""

    def __init__(self, *, type: str, dataset: str, encoding: dict, attributes: dict, title: str = "") -> None:
        self._type = type
        self._dataset = dataset
        self._encoding = encoding
        self._attributes = attributes
        self._title = title

    def to_dict(self) -> dict:
        return {"type": self._type, "dataset": self._dataset, "encoding": self._encoding,
                "attributes": self._attributes, "title": self._title}


def _not_float64(name: str, array: np.ndarray, method: str) -> np.ndarray:
    if array.dtype == np.float64:
        raise ViewError(f"Cannot handle float64 datatype for {name} parameter in {method}; convert it to float32")
    return array


class TimeseriesGraph(View):
    """Lines, markers and intervals against time. float64 times are stored relative to ``timeOffset``."""

    def __init__(self, *, legend_opts: Union[None, dict] = None, y_range: Union[List[float], None] = None,
                 hide_x_gridlines: Union[bool, None] = None, hide_y_gridlines: Union[bool, None] = None,
                 **kwargs) -> None:
        super().__init__("TimeseriesGraph", **kwargs)
        if y_range is not None and len(y_range) != 2:
            raise ViewError(f"y_range must be [min, max], got {y_range!r}")
        self._datasets: List[TGDataset] = []
        self._series: List[TGSeries] = []
        self._legend_opts = legend_opts
        self._y_range = y_range
        self._time_offset: Union[None, float] = None
        self._hide_x_gridlines = hide_x_gridlines
        self._hide_y_gridlines = hide_y_gridlines

    def add_line_series(self, *, name: str, t: np.ndarray, y: np.ndarray, color: str, width: Union[None, int] = None,
                        dash: Union[None, List[int]] = None) -> "TimeseriesGraph":
        t = _not_float64("t", self._relative_times(t), "add_line_series")
        attributes: Dict[str, Any] = {"color": color}
        if width is not None:
            attributes["width"] = width
        if dash is not None:
            attributes["dash"] = dash
        self._add_series("line", name, t, _not_float64("y", y, "add_line_series"), attributes)
        return self

    def add_marker_series(self, *, name: str, t: np.ndarray, y: np.ndarray, color: str,
                          radius: Union[None, int] = None, shape: Union[None, str] = None) -> "TimeseriesGraph":
        t = _not_float64("t", self._relative_times(t), "add_marker_series")
        attributes: Dict[str, Any] = {"color": color}
        if radius is not None:
            attributes["radius"] = radius
        if shape is not None:
            attributes["shape"] = shape
        self._add_series("marker", name, t, _not_float64("y", y, "add_marker_series"), attributes)
        return self

    def add_interval_series(self, *, name: str, t_start: np.ndarray, t_end: np.ndarray,
                            color: str) -> "TimeseriesGraph":
        t_start = _not_float64("t_start", self._relative_times(t_start), "add_interval_series")
        t_end = _not_float64("t_end", self._relative_times(t_end), "add_interval_series")
        t = np.zeros((len(t_start) * 2,), dtype=t_start.dtype)
        t[0::2], t[1::2] = t_start, t_end
        y = np.zeros((len(t_start) * 2,), dtype=np.int16)
        y[1::2] = 1
        self._add_series("interval", name, t, y, {"color": color})
        return self

    def add_dataset(self, ds: TGDataset) -> "TimeseriesGraph":
        self._datasets.append(ds)
        return self

    def add_series(self, s: TGSeries) -> "TimeseriesGraph":
        self._series.append(s)
        return self

    def to_dict(self) -> dict:
        ret: Dict[str, Any] = {"type": self.type, "datasets": [d.to_dict() for d in self._datasets],
                               "series": [s.to_dict() for s in self._series]}
        if self._time_offset is not None:
            ret["timeOffset"] = self._time_offset
        if self._legend_opts is not None:
            ret["legendOpts"] = self._legend_opts
        if self._y_range is not None:
            ret["yRange"] = self._y_range
        if self._hide_x_gridlines is not None or self._hide_y_gridlines is not None:
            ret["gridlineOpts"] = {"hideX": self._hide_x_gridlines is True, "hideY": self._hide_y_gridlines is True}
        return ret

    def _add_series(self, type: str, name: str, t: np.ndarray, y: np.ndarray, attributes: dict) -> None:
        t, y = np.squeeze(t), np.squeeze(y)
        self.add_dataset(TGDataset(name=name, data={"t": t, "y": y}))
        self.add_series(TGSeries(type=type, encoding={"t": "t", "y": "y"}, dataset=name, attributes=attributes,
                                 title=name))

    def _relative_times(self, t: np.ndarray) -> np.ndarray:
        """float64 times become float32 offsets from the first float64 time seen (kept as ``timeOffset``)."""
        if t.dtype == np.float64 and self._time_offset is None:
            self._time_offset = float(t[0])
            for ds in self._datasets:
                if "t" in ds._data:
                    ds._data["t"] = (ds._data["t"] - self._time_offset).astype(np.float32)
        if self._time_offset is not None:
            t = t - self._time_offset
            if t.dtype == np.float64:
                t = t.astype(np.float32)
        return t


class PositionPlot(View):
    """Positions (one column per dimension) against timestamps; optionally subsampled to a frequency."""

    def __init__(self, *, timestamps: np.ndarray, positions: np.ndarray, dimension_labels: List[str],
                 subsampling_frequency: Union[float, None] = None, discontinuous: bool = False, **kwargs) -> None:
        super().__init__("PositionPlot", **kwargs)
        self.timestamps = timestamps
        self.positions = positions
        self.dimension_labels = dimension_labels
        self.subsampling_frequency = subsampling_frequency
        self.discontinuous = discontinuous

    def to_dict(self) -> dict:
        timestamps, positions = np.asarray(self.timestamps), np.asarray(self.positions)
        if positions.ndim == 1:
            positions = positions.reshape((len(positions), 1))
        if positions.shape[0] != len(timestamps) or positions.shape[1] != len(self.dimension_labels):
            raise ViewError(f"PositionPlot: positions {positions.shape} must be (len(timestamps)="
                            f"{len(timestamps)}, len(dimension_labels)={len(self.dimension_labels)})")
        if self.subsampling_frequency is not None:
            inds = _subsample_indices(timestamps, self.subsampling_frequency)
            timestamps, positions = timestamps[inds], positions[inds, :]
        return {
            "type": self.type,
            "timeOffset": timestamps[0],
            "timestamps": (timestamps - timestamps[0]).astype(np.float32),
            "positions": positions,
            "dimensionLabels": self.dimension_labels,
            "discontinuous": self.discontinuous,
        }


def _subsample_indices(timestamps: np.ndarray, sampling_frequency: float) -> List[int]:
    dt = 1 / sampling_frequency
    ret: List[int] = []
    last_t = timestamps[0] - dt * 2
    for i, t in enumerate(timestamps):
        if t - last_t >= dt * 0.95:
            ret.append(i)
            last_t = t
    return ret


class EphysTraces(View):
    """Raw traces of a recording stored in a store (``format`` e.g. "spikeinterface.binary", ``uri``)."""

    def __init__(self, *, format: str, uri: str, sorting_uri: Union[str, None] = None, **kwargs) -> None:
        super().__init__("EphysTraces", **kwargs)
        self._format = format
        self._uri = uri
        self._sorting_uri = sorting_uri

    def to_dict(self) -> dict:
        ret = {"type": self.type, "format": self._format, "uri": self._uri}
        if self._sorting_uri is not None:
            ret["sortingUri"] = self._sorting_uri
        return ret
