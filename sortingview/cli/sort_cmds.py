"""``sortingview sort`` and ``sortingview sorters``: spike sorting through the backend (doc/sorting.md)."""
from __future__ import annotations

import json

import click

from ..errors import SortingviewError
from . import main
from ._common import friendly_errors


def parse_sorter_option(value: str) -> tuple[str, dict]:
    """``NAME`` or ``NAME:params.json`` -> (name, parameters read from the JSON file)."""
    name, _, path = value.partition(":")
    if not path:
        return name, {}
    try:
        with open(path, encoding="utf-8") as f:
            params = json.load(f)
    except OSError as exc:
        raise click.BadParameter(f"cannot read the parameters of {name} from {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise click.BadParameter(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(params, dict):
        raise click.BadParameter(f"{path} must hold a JSON object of {name}'s parameters, e.g. "
                                 '{"detect_threshold": 5}')
    return name, params


def backend_options(func):
    """--channel and --backend-id, with the environment fallbacks the backend uses."""
    func = click.option("--backend-id", default=None, envvar="SORTINGVIEW_BACKEND_ID",
                        help="Submit to the backend started with this id [env SORTINGVIEW_BACKEND_ID].")(func)
    return click.option("--channel", default=None, envvar="SORTINGVIEW_CHANNEL",
                        help="Channel of the backend [env SORTINGVIEW_CHANNEL; default: default].")(func)


@main.command("sort")
@click.option("--workspace", "workspace_uri", required=True, help="The workspace URI (see `sortingview workspace ls`).")
@click.option("--recording", "recording_ids", multiple=True, required=True,
              help="A recording id of the workspace (repeat for several).")
@click.option("--sorter", "sorters", multiple=True, required=True,
              help="NAME or NAME:params.json (repeat for several): simple, spykingcircus2 (sc2), tridesclous2 (tdc2), "
                   "mountainsort5 (ms5).")
@click.option("--timeout", type=float, default=None, help="Seconds to wait for each run (default: no limit).")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@backend_options
@friendly_errors
def sort(workspace_uri: str, recording_ids: tuple[str, ...], sorters: tuple[str, ...], timeout: float | None,
         no_progress: bool, channel: str | None, backend_id: str | None) -> None:
    """Sort recordings of a workspace with one or more sorters through the backend.

    Every recording x sorter combination is submitted at once to the backend's `sorting` handler (start one
    with `sortingview-start-backend`); each result is added to the workspace labelled with the sorter and a
    hash of its parameters. A combination sorted before comes from the cache and adds nothing.

    \b
    Example:
      sortingview sort --workspace sortingview-workspace:abc... --recording R-1a2b \\
          --sorter ms5 --sorter simple:simple_params.json
    """
    from ..workspace import load_workspace

    W = load_workspace(workspace_uri)
    pairs = [parse_sorter_option(s) for s in sorters]
    sids = W.run_sorters(recording_ids=list(recording_ids), sorters=pairs, progress=not no_progress,
                         timeout=timeout, channel=channel, backend_id=backend_id)
    for sid in sids:
        rec = W.get_sorting_record(sid)
        click.echo(f"{sid}\t{rec['recordingId']}\t{rec['sortingLabel']}")


@main.command("sorters")
@friendly_errors
def sorters() -> None:
    """List the sorters that run without a GPU, whether each is installed here, and its version."""
    from ..tasks.sorting import SORTERS, sorter_version

    for name in SORTERS:
        try:
            click.echo(f"{name}\t{sorter_version(name)}")
        except SortingviewError:
            click.echo(f"{name}\tnot installed (pip install sortingview[sorters])")
