"""Workspaces and curation."""
