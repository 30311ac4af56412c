"""sortingview: view, curate and share electrophysiological spike sorting results, on your own machines."""
from . import views
from ._version import __version__
from .backend.client import run_task, submit_task
from .errors import SortingviewError
from .extractors import (
    copy_recording_extractor,
    copy_sorting_extractor,
    get_recording_object,
    get_sorting_object,
    load_recording_extractor,
    load_sorting_extractor,
    save_recording,
    upload_recording_extractor,
    upload_sorting_extractor,
)
from .SpikeSortingView import SpikeSortingView
from .workspace import (
    Workspace,
    create_workspace,
    list_workspaces,
    load_workspace,
    trythis_load_sorting_curation,
    trythis_start_sorting_curation,
)
from .workspace.deletion import delete_workspace

__all__ = [
    "__version__", "SortingviewError", "run_task", "submit_task",
    "Workspace", "create_workspace", "load_workspace", "list_workspaces", "delete_workspace",
    "copy_recording_extractor", "copy_sorting_extractor", "views", "SpikeSortingView",
    "load_recording_extractor", "load_sorting_extractor", "get_recording_object", "get_sorting_object",
    "upload_recording_extractor", "upload_sorting_extractor", "save_recording",
    "trythis_start_sorting_curation", "trythis_load_sorting_curation",
]
