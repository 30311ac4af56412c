"""Helpers shared by the CLI modules: turn expected failures into a clean ``Error: ...`` line."""
from __future__ import annotations

import functools

import click

from ..errors import SortingviewError


def friendly_errors(func):
    """Report SortingviewError, a missing Python package and OS errors such as a permission denied as
    `Error: <message>` with exit code 1, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except SortingviewError as exc:
            raise click.ClickException(str(exc)) from exc
        except ModuleNotFoundError as exc:  # a runtime dependency missing from the environment
            top = (exc.name or "").split(".")[0]
            raise click.ClickException(f"{exc}: install it with `pip install {top}`, or reinstall sortingview with "
                                       "`pip install -e .` in its folder") from exc
        except OSError as exc:
            where = f": {exc.filename}" if exc.filename else ""
            raise click.ClickException(f"{exc.strerror or exc}{where}") from exc

    return wrapper
