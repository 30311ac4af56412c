"""``sortingview.views``: sortingview 0.14's views and layouts, linked to our own server and viewer.

Compose views into layouts and call ``view.url(label=...)``: every view's data goes into the local store and
the link opens the figure in the viewer of ``sortingview-start-backend`` (no network, no account). Class
names, arguments and ``to_dict()`` formats are those of sortingview 0.14.2 (see doc/views.md).
"""
from . import franklab
from .agreement import SortingAgreement
from .correlograms import AutocorrelogramItem, Autocorrelograms, CrossCorrelogramItem, CrossCorrelograms
from .documents import Markdown, PlotlyFigure
from .images import Image, TiledImage, TiledImageLayer, UnitImages, UnitImagesItem
from .layouts import Box, LayoutItem, MountainLayout, MountainLayoutItem, Splitter, TabLayout, TabLayoutItem
from .metrics import (
                      ConfusionMatrix,
                      MatchingUnitEventCount,
                      UnitEventCount,
                      UnitMetricsGraph,
                      UnitMetricsGraphMetric,
                      UnitMetricsGraphUnit,
)
from .sorting import ElectrodeGeometry, SortingCuration, SortingCuration2, SortingSelection, SortingSummary
from .spikes import (
                      RasterPlot,
                      RasterPlotItem,
                      SpikeAmplitudes,
                      SpikeAmplitudesItem,
                      SpikeLocations,
                      SpikeLocationsItem,
                      UnitLocations,
                      UnitLocationsItem,
)
from .timeseries import EphysTraces, PositionPlot, TGDataset, TGSeries, TimeseriesGraph
from .units_table import UnitSimilarityMatrix, UnitSimilarityScore, UnitsTable, UnitsTableColumn, UnitsTableRow
from .view import VIEWS_FIGURE_TYPE, View, ViewError, url_from_url_dict
from .waveforms import AverageWaveformItem, AverageWaveforms

__all__ = [
    "View", "ViewError", "VIEWS_FIGURE_TYPE", "url_from_url_dict", "franklab",
    "Box", "LayoutItem", "Splitter", "TabLayout", "TabLayoutItem", "MountainLayout", "MountainLayoutItem",
    "UnitsTable", "UnitsTableColumn", "UnitsTableRow", "UnitSimilarityMatrix", "UnitSimilarityScore",
    "Autocorrelograms", "AutocorrelogramItem", "CrossCorrelograms", "CrossCorrelogramItem",
    "AverageWaveforms", "AverageWaveformItem", "SpikeAmplitudes", "SpikeAmplitudesItem",
    "RasterPlot", "RasterPlotItem", "UnitLocations", "UnitLocationsItem", "SpikeLocations", "SpikeLocationsItem",
    "ConfusionMatrix", "UnitEventCount", "MatchingUnitEventCount", "SortingAgreement",
    "UnitMetricsGraph", "UnitMetricsGraphMetric", "UnitMetricsGraphUnit",
    "ElectrodeGeometry", "SortingSummary", "SortingCuration", "SortingCuration2", "SortingSelection",
    "UnitImages", "UnitImagesItem", "Image", "TiledImage", "TiledImageLayer", "Markdown", "PlotlyFigure",
    "TimeseriesGraph", "TGDataset", "TGSeries", "PositionPlot", "EphysTraces",
]
