"""sortingview: view, curate and share electrophysiological spike sorting results, on your own machines."""
from . import views
from ._version import __version__
from .backend.client import run_task, submit_task
from .errors import SortingviewError
from .extractors import copy_recording_extractor, copy_sorting_extractor
from .SpikeSortingView import SpikeSortingView
from .workspace import Workspace, create_workspace, list_workspaces, load_workspace

__all__ = [
    "__version__", "SortingviewError", "run_task", "submit_task",
    "Workspace", "create_workspace", "load_workspace", "list_workspaces",
    "copy_recording_extractor", "copy_sorting_extractor", "views", "SpikeSortingView",
]
