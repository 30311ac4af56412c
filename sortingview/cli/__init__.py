"""The ``sortingview`` command: a thin click layer over the Python API."""
from __future__ import annotations

import click

from .._version import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sortingview")
def main() -> None:
    """View, curate and share spike sorting results.

    Data lives in the store directory $KACHERY_CLOUD_DIR (default ~/.kachery-cloud).
    Start the backend and viewer with `sortingview-start-backend`.

    \b
    Environment:
      KACHERY_CLOUD_DIR         the store directory (shared with kachery-cloud)
      KACHERY_CLOUD_MULTI_USER  1: files and folders created group-writable (a lab's shared store)
    """


# each module registers its commands on `main`
from . import (  # noqa: E402,F401
    backend_cmds,
    benchmark_cmds,
    import_cmds,
    peer_cmds,
    sort_cmds,
    store_cmds,
    user_cmds,
    workspace_cmds,
)
