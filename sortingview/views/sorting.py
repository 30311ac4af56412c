"""Views of a whole sorting: ``ElectrodeGeometry``, ``SortingSummary``, and the controls
``SortingCuration``, ``SortingCuration2`` and ``SortingSelection``."""
from __future__ import annotations

from typing import Any, Dict, Union

import numpy as np

from .view import View


class ElectrodeGeometry(View):
    """The probe's contacts (``channel_locations``: {channel id: [x, y]})."""

    def __init__(self, channel_locations: Dict[str, Any], **kwargs) -> None:
        super().__init__("ElectrodeGeometry", **kwargs)
        self.channel_locations = channel_locations

    def to_dict(self) -> dict:
        return {"type": self.type, "channelLocations": self.channel_locations}


class SortingSummary(View):
    """Facts about the recording and the sorting (ids, sampling frequency, size, geometry, noise)."""

    def __init__(self, *, recording_description: str, sorting_description: str, unit_ids: Any, channel_ids: Any,
                 sampling_frequency: float, num_frames: int, num_segments: int, channel_locations: Any,
                 noise_level: float, **kwargs) -> None:
        super().__init__("Summary", **kwargs)
        self.recording_description = recording_description
        self.sorting_description = sorting_description
        self.unit_ids = unit_ids
        self.channel_ids = channel_ids
        self.sampling_frequency = sampling_frequency
        self.num_frames = num_frames
        self.num_segments = num_segments
        self.channel_locations = channel_locations
        self.noise_level = noise_level

    def to_dict(self) -> dict:
        return {
            "type": self.type,
            "recordingDescription": self.recording_description,
            "sortingDescription": self.sorting_description,
            "unitIds": self.unit_ids,
            "channelIds": self.channel_ids,
            "samplingFrequency": float(self.sampling_frequency),
            "numFrames": self.num_frames,
            "numSegments": self.num_segments,
            "channelLocations": np.asarray(self.channel_locations).astype(np.float32),
            "noiseLevel": float(self.noise_level),
        }


class SortingCuration(View):
    """The curation control of the first views era (labels and merges of the selected units)."""

    def __init__(self, **kwargs) -> None:
        super().__init__("SortingCuration", **kwargs)

    def to_dict(self) -> dict:
        return {"type": self.type}


class SortingCuration2(View):
    """The curation control: label choices, labels and merges, saved to the link's ``sortingCuration`` URI."""

    def __init__(self, *, label_choices: Union[None, list] = None, **kwargs) -> None:
        super().__init__("SortingCuration2", **kwargs)
        self._label_choices = label_choices

    def to_dict(self) -> dict:
        ret: Dict[str, Any] = {"type": self.type}
        if self._label_choices is not None:
            ret["labelChoices"] = self._label_choices
        return ret


class SortingSelection(View):
    """The selection control (the selected units, select all / none)."""

    def __init__(self, **kwargs) -> None:
        super().__init__("SortingSelection", **kwargs)

    def to_dict(self) -> dict:
        return {"type": self.type}

