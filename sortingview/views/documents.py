"""Document views: ``Markdown`` (a text) and ``PlotlyFigure`` (a plotly figure's dict)."""
from __future__ import annotations

from typing import Any

from .view import View


class Markdown(View):
    """A Markdown text."""

    def __init__(self, source: str, **kwargs) -> None:
        super().__init__("Markdown", **kwargs)
        self._source = source

    def to_dict(self) -> dict:
        return {"type": self.type, "source": self._source}


class PlotlyFigure(View):
    """A plotly figure (anything with ``to_dict()``), stored as its dict."""

    def __init__(self, *, fig: Any, **kwargs) -> None:
        super().__init__("PlotlyFigure", **kwargs)
        self._fig = fig

    def to_dict(self) -> dict:
        return {"type": self.type, "fig": self._fig.to_dict()}
