"""Workspaces (feed-backed collections of recordings and sortings) and curation."""
from .trythis import trythis_load_sorting_curation, trythis_start_sorting_curation
from .workspace import Workspace, create_workspace, list_workspaces, load_workspace, parse_workspace_uri

__all__ = ["Workspace", "create_workspace", "load_workspace", "list_workspaces", "parse_workspace_uri",
           "trythis_start_sorting_curation", "trythis_load_sorting_curation"]
