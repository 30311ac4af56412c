"""`sortingview-start-backend` and `sortingview status`."""
from __future__ import annotations

import click


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
def start_backend() -> None:
    """Start the sortingview backend (not implemented yet)."""
    raise click.ClickException("the backend is not implemented yet")
