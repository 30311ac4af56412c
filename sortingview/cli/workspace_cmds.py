"""`sortingview workspace ...` and `sortingview curation ...`: thin commands over the Workspace API."""
from __future__ import annotations

import datetime
import json
import shlex

import click

from . import main
from ._common import friendly_errors


def _when(ms: float) -> str:
    return datetime.datetime.fromtimestamp(ms / 1000).isoformat(timespec="seconds")


@main.group("workspace")
def workspace_group() -> None:
    """Create, list and inspect workspaces (collections of recordings and sortings)."""


@workspace_group.command("create")
@click.option("--label", required=True, help="A name for the workspace, shown in the viewer.")
@friendly_errors
def workspace_create(label: str) -> None:
    """Create an empty workspace and print its URI (load it in Python with sv.load_workspace(URI))."""
    from ..workspace import create_workspace

    click.echo(create_workspace(label=label).uri)


@workspace_group.command("ls")
@click.option("--uris-only", is_flag=True, help="Print only the URIs (for scripts).")
@friendly_errors
def workspace_ls(uris_only: bool) -> None:
    """List the workspaces of the store with their number of recordings and sortings."""
    from ..workspace import list_workspaces, load_workspace

    for uri in list_workspaces():
        if uris_only:
            click.echo(uri)
            continue
        W = load_workspace(uri)
        click.echo(f"{uri}\t{len(W.recording_ids)} recordings\t{len(W.sorting_ids)} sortings")


@workspace_group.command("show")
@click.argument("uri")
@click.option("--json", "as_json", is_flag=True, help="Print the records as JSON.")
@friendly_errors
def workspace_show(uri: str, as_json: bool) -> None:
    """Show the recordings and sortings of the workspace URI."""
    from ..workspace import load_workspace

    W = load_workspace(uri)
    if as_json:
        click.echo(json.dumps({"uri": W.uri, "label": W.label, "recordings": W.recording_records(),
                               "sortings": W.sorting_records(), "snippetLen": list(W.snippet_len)}, indent=2))
        return
    click.echo(f"workspace {W.label!r}  {W.uri}")
    click.echo(f"snippet length: {W.snippet_len[0]} frames before, {W.snippet_len[1]} after")
    for rec in W.recording_records():
        click.echo(f"  {rec['recordingId']}  {rec['recordingLabel']}  {rec['recordingUri']}")
        for s in W.sorting_records():
            if s["recordingId"] == rec["recordingId"]:
                curation = W.get_sorting_curation(s["sortingId"])
                state = "closed" if curation["isClosed"] else "open"
                click.echo(f"    {s['sortingId']}  {s['sortingLabel']}  (curation {state}, "
                           f"{len(curation['labelsByUnit'])} labelled units, "
                           f"{len(curation['mergeGroups'])} merge groups)")


@workspace_group.command("rm")
@click.argument("uri")
@click.option("--yes", is_flag=True, help="Confirm the deletion (required: it cannot be undone).")
@friendly_errors
def workspace_rm(uri: str, yes: bool) -> None:
    """Delete the workspace URI: its records and the curation of its sortings.

    Stored objects (recordings, sortings, files, computed results) stay in the store: they are
    content-addressed and other workspaces or shared links may use them.
    """
    from ..workspace import load_workspace
    from ..workspace.deletion import delete_workspace

    if not yes:
        W = load_workspace(uri)  # a wrong URI is reported before the confirmation is asked for
        raise click.UsageError(f"this deletes workspace {W.label!r} ({len(W.recording_ids)} recordings, "
                               f"{len(W.sorting_ids)} sortings and their curation) and cannot be undone; "
                               f"run again with --yes to delete it: sortingview workspace rm {shlex.quote(uri)} --yes")
    gone = delete_workspace(uri)
    kept = f"; kept {len(gone.kept_curation_feeds)} curation feed(s) other workspaces use" \
        if gone.kept_curation_feeds else ""
    click.echo(f"deleted workspace {gone.label!r} ({gone.num_recordings} recordings, {gone.num_sortings} sortings)"
               f"{kept}; stored objects stay in the store")


@main.group("curation")
def curation_group() -> None:
    """Inspect and export the curation of a sorting in a workspace."""


def _open(uri: str, sorting_id: str):
    from ..workspace import load_workspace

    W = load_workspace(uri)
    W.get_sorting_record(sorting_id)  # a clear error for an unknown sorting id
    return W


@curation_group.command("show")
@click.argument("uri")
@click.argument("sorting_id")
@click.option("--at", type=int, default=None, help="State after this message number (-1: before any).")
@friendly_errors
def curation_show(uri: str, sorting_id: str, at: int | None) -> None:
    """Print the curation state {labelsByUnit, mergeGroups, isClosed} of SORTING_ID in workspace URI."""
    click.echo(json.dumps(_open(uri, sorting_id).get_sorting_curation(sorting_id, at=at), indent=2))


@curation_group.command("history")
@click.argument("uri")
@click.argument("sorting_id")
@click.option("--json-lines", "as_json", is_flag=True, help="One JSON record per line (for scripts).")
@friendly_errors
def curation_history(uri: str, sorting_id: str, as_json: bool) -> None:
    """Print every curation message of SORTING_ID with its number, time and author."""
    for rec in _open(uri, sorting_id).get_sorting_curation_history(sorting_id):
        if as_json:
            click.echo(json.dumps({k: rec[k] for k in ("messageNumber", "timestamp", "userId", "action")}))
        else:
            click.echo(f"{rec['messageNumber']:>5}  {_when(rec['timestamp'])}  {rec['userId'] or '-':<20} "
                       f"{json.dumps(rec['action'])}")


@curation_group.command("export")
@click.argument("uri")
@click.argument("sorting_id")
@click.argument("path", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["spikeinterface", "phy", "sortingview"]),
              default="sortingview", show_default=True,
              help="spikeinterface: curation format v2 (spikeinterface.curation.apply_curation); "
                   "phy: cluster_group.tsv (PATH may be the phy folder); sortingview: JSON state.")
@friendly_errors
def curation_export(uri: str, sorting_id: str, path: str, fmt: str) -> None:
    """Write the curation of SORTING_ID to PATH and print the path written."""
    click.echo(_open(uri, sorting_id).export_sorting_curation(sorting_id, path, format=fmt))


@workspace_group.command("follow")
@click.argument("uri")
@click.option("--peer", "peer", default=None, help="The workspace's home server (default: the URI's home=).")
@click.option("--token", default=None, help="Your user token on the home server (saved with it as a peer).")
@friendly_errors
def workspace_follow(uri: str, peer: str | None, token: str | None) -> None:
    """Follow the workspace URI of another server: print the URI (naming its home) that opens it here.

    Its recordings are read lazily from the home, tasks run here, curation is sent to the home.
    """
    from ..workspace import load_workspace

    W = load_workspace(uri, peer=peer, token=token)
    click.echo(f"{W.uri}\t{len(W.recording_ids)} recordings\t{len(W.sorting_ids)} sortings")


@workspace_group.command("readers")
@click.argument("uri")
@click.option("--add", "add", multiple=True, help="A user id to add as a reader (repeatable).")
@click.option("--rm", "rm", multiple=True, help="A user id to remove (repeatable).")
@click.option("--ls", "ls", is_flag=True, help="List the readers (the default when nothing is added or removed).")
@friendly_errors
def workspace_readers(uri: str, add: tuple[str, ...], rm: tuple[str, ...], ls: bool) -> None:
    """Who may read workspace URI on a server started with --private (signed-in users; `sortingview user add`).

    A reader may read the workspace's feeds, figures and every store file its records name.
    """
    from ..workspace import load_workspace

    W = load_workspace(uri)
    if add or rm:
        missing = [u for u in rm if u not in W.get_readers()]
        if missing:
            raise click.ClickException(f"not readers of this workspace: {', '.join(missing)}")
        W.set_readers([u for u in W.get_readers() if u not in rm] + [u for u in add if u not in rm])
    for user in W.get_readers():
        click.echo(user)
