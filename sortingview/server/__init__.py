"""HTTP server: the viewer, store files, tasks, feeds, curation writes (see doc/server.md)."""
from __future__ import annotations

from .app import create_app
from .serve import DEFAULT_HOST, DEFAULT_PORT, SortingviewServer, create_server

__all__ = ["create_app", "create_server", "SortingviewServer", "DEFAULT_HOST", "DEFAULT_PORT"]
