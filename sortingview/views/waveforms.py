"""``AverageWaveforms``: each unit's mean waveform on its channels, with a spread (std dev or percentiles)."""
from __future__ import annotations

from typing import Any, Dict, List, Union

import numpy as np

from .view import View, ViewError


class AverageWaveformItem:
    """The average waveform of one unit.

    Parameters
    ----------
    unit_id : the unit
    channel_ids : the channels of the waveform (its rows)
    waveform : the mean (channels x samples; SpikeInterface and the original pass the transpose of a template)
    waveform_std_dev : the standard deviation, same shape (shaded around the mean)
    waveform_percentiles : 2 or 4 arrays of the same shape, shaded between p1 and p2 (and p3..p4 darker);
        exclusive with ``waveform_std_dev``
    """

    def __init__(self, unit_id: Union[int, str], channel_ids: List[Union[int, str]], waveform: np.ndarray,
                 waveform_std_dev: Union[None, np.ndarray] = None,
                 waveform_percentiles: Union[None, List[np.ndarray]] = None) -> None:
        if waveform_std_dev is not None and waveform_percentiles is not None:
            raise ViewError(f"unit {unit_id}: give waveform_std_dev or waveform_percentiles, not both")
        if waveform_percentiles is not None and len(waveform_percentiles) % 2 != 0:
            raise ViewError(f"unit {unit_id}: waveform_percentiles must have an even length (2 or 4 arrays), "
                            f"got {len(waveform_percentiles)}")
        self.unit_id = unit_id
        self.channel_ids = channel_ids
        self.waveform = waveform
        self.waveform_std_dev = waveform_std_dev
        self.waveform_percentiles = waveform_percentiles

    def to_dict(self) -> dict:
        ret = {"unitId": self.unit_id, "channelIds": self.channel_ids, "waveform": self.waveform}
        if self.waveform_std_dev is not None:
            ret["waveformStdDev"] = self.waveform_std_dev
        if self.waveform_percentiles is not None:
            ret["waveformPercentiles"] = self.waveform_percentiles
        return ret


class AverageWaveforms(View):
    """Average waveforms of units; ``channel_locations`` ({channel id: [x, y]}) places them on the probe."""

    def __init__(self, average_waveforms: List[AverageWaveformItem], *,
                 channel_locations: Union[None, Dict[str, Any]] = None,
                 show_reference_probe: Union[None, bool] = None, **kwargs) -> None:
        super().__init__("AverageWaveforms", **kwargs)
        self._average_waveforms = average_waveforms
        self._channel_locations = channel_locations
        self._show_reference_probe = show_reference_probe

    def to_dict(self) -> dict:
        ret = {"type": self.type, "averageWaveforms": [a.to_dict() for a in self._average_waveforms]}
        if self._channel_locations is not None:
            ret["channelLocations"] = self._channel_locations
        if self._show_reference_probe is not None:
            ret["showReferenceProbe"] = self._show_reference_probe
        return ret
