"""sortingview: view, curate and share electrophysiological spike sorting results, on your own machines."""
from ._version import __version__
from .backend.client import run_task
from .errors import SortingviewError

__all__ = ["__version__", "SortingviewError", "run_task"]
