"""Frank lab position-decoding views of sortingview 0.14 (not available here).

``TrackPositionAnimationV1``, ``DecodedPositionData`` and ``DecodedLinearPositionData`` exist so that
``import sortingview.views`` and ``sortingview.views.franklab`` work, but constructing one raises
NotImplementedError: our viewer has no track-animation or decoded-position module.
"""
from __future__ import annotations

from typing import Any

_MESSAGE = ("{name} is not available in this sortingview: the viewer has no track-animation / decoded-position "
            "module (Frank lab views of sortingview 0.14). Show positions with sortingview.views.PositionPlot or "
            "TimeseriesGraph instead.")


class _Unavailable:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(_MESSAGE.format(name=type(self).__name__))


class TrackPositionAnimationV1(_Unavailable):
    """Not available (see the module docstring)."""


class DecodedPositionData(_Unavailable):
    """Not available (see the module docstring)."""


class DecodedLinearPositionData(_Unavailable):
    """Not available (see the module docstring)."""
