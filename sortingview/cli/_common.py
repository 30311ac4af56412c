"""Helpers shared by the CLI modules: turn SortingviewError into a clean click error."""
from __future__ import annotations

import functools

import click

from ..errors import SortingviewError


def friendly_errors(func):
    """Report SortingviewError as `Error: <message>` with exit code 1, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except SortingviewError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper
