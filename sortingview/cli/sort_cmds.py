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


@main.group("ground-truth")
def ground_truth() -> None:
    """Mark ground-truth sortings and score the other sortings of a recording against them."""


@ground_truth.command("set")
@click.option("--workspace", "workspace_uri", required=True, help="The workspace URI.")
@click.option("--recording", "recording_id", required=True, help="The recording id.")
@click.option("--sorting", "sorting_id", default=None, help="The ground-truth sorting id (omit: no ground truth).")
@friendly_errors
def ground_truth_set(workspace_uri: str, recording_id: str, sorting_id: str | None) -> None:
    """Mark SORTING as the ground truth of RECORDING; every other sorting of it gets the gtUnit, gtAccuracy,
    gtPrecision and gtRecall columns in the viewer's units table."""
    from ..workspace import load_workspace

    load_workspace(workspace_uri).set_ground_truth(recording_id, sorting_id)


@ground_truth.command("table")
@click.option("--workspace", "workspace_uri", required=True, help="The workspace URI.")
@click.option("--recording", "recording_id", required=True, help="The recording id.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV instead of a text table.")
@friendly_errors
def ground_truth_table(workspace_uri: str, recording_id: str, as_csv: bool) -> None:
    """Every ground-truth unit (missed ones included) against each sorting: SNR, best match, accuracy,
    precision, recall; then (not with --csv) the link of each sorting's confusion matrix with the ground truth."""
    from ..workspace import load_workspace

    W = load_workspace(workspace_uri)
    df = W.get_ground_truth_table(recording_id)
    if as_csv:
        click.echo(df.to_csv(index=False))
        return
    click.echo(df.to_string(index=False))
    for sid in dict.fromkeys(df["sortingId"] if "sortingId" in df else []):
        click.echo(f"confusion matrix of {sid} with the ground truth: {W.get_ground_truth_confusion_view(sid)}")


@main.command("agreement")
@click.option("--workspace", "workspace_uri", required=True, help="The workspace URI.")
@click.argument("sorting_ids", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the whole comparison as JSON.")
@friendly_errors
def agreement(workspace_uri: str, sorting_ids: tuple[str, ...], as_json: bool) -> None:
    """Agreement between 2 to 8 sortings of one recording, without ground truth: matched units with their
    agreement scores, and the units only one sorting found; then (not with --json) the link of the agreement
    view."""
    from ..workspace import load_workspace

    W = load_workspace(workspace_uri)
    out = W.get_sorting_agreement(list(sorting_ids))
    if as_json:
        click.echo(json.dumps(out, indent=1))
        return
    for p in out["pairs"]:
        a, b = sorting_ids[p["sorting1"]], sorting_ids[p["sorting2"]]
        click.echo(f"{a} ~ {b}: {len(p['matches'])} matched")
        for m in p["matches"]:
            click.echo(f"  {m['unitId1']} ~ {m['unitId2']}\tagreement {m['agreement']:.3f}")
    for sid, units in zip(sorting_ids, out["foundByOneOnly"], strict=True):
        click.echo(f"only {sid}: {', '.join(map(str, units)) or '-'}")
    click.echo(f"agreement view: {W.get_sorting_agreement_view(list(sorting_ids))}")
