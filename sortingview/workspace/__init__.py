"""Workspaces (feed-backed collections of recordings and sortings) and curation."""
from .workspace import Workspace, create_workspace, list_workspaces, load_workspace, parse_workspace_uri

__all__ = ["Workspace", "create_workspace", "load_workspace", "list_workspaces", "parse_workspace_uri"]
