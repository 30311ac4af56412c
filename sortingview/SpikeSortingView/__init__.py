"""``sortingview.SpikeSortingView``: views of a recording + sorting computed with our kernels (2022 API)."""
from ._prepare import SpikeSortingViewError, prepare_spikesortingview_data
from .SpikeSortingView import SpikeSortingView

__all__ = ["SpikeSortingView", "SpikeSortingViewError", "prepare_spikesortingview_data"]
