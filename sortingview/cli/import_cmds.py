"""``sortingview import recording|sorting PATH``: what the server's import page does, from the shell.

Both commands call :mod:`sortingview.workspace.importing`, the functions behind the import page (doc/sorting.md):
a recording is linked in place, a sorting is copied into the store.
"""
from __future__ import annotations

import os

import click

from . import main
from ._common import friendly_errors

FORMATS = ("recordings: a SpikeInterface binary folder, an .nwb file, a SpikeGLX .bin with its .meta; "
           "sortings: an .npz (NpzSortingExtractor), a phy or kilosort folder, an .nwb file with units")


@main.group("import")
def import_group() -> None:
    """Import a recording or a sorting into a workspace (as the server's import page does)."""


def _existing(path: str) -> str:
    if not os.path.exists(path):
        raise click.BadParameter(f"{path} does not exist; give the file or folder to import ({FORMATS})")
    return os.path.abspath(path)


@import_group.command("recording")
@click.argument("path")
@click.option("--workspace", "workspace_uri", required=True, help="The workspace URI (see `sortingview workspace ls`).")
@click.option("--label", default=None, help="The recording's label (default: the file or folder name).")
@friendly_errors
def import_recording_cmd(path: str, workspace_uri: str, label: str | None) -> None:
    """Link the recording at PATH into the workspace (not copied) and print its recording id."""
    from ..workspace import load_workspace
    from ..workspace.importing import import_recording

    W = load_workspace(workspace_uri)
    click.echo(import_recording(W, _existing(path), label))


@import_group.command("sorting")
@click.argument("path")
@click.option("--workspace", "workspace_uri", required=True, help="The workspace URI (see `sortingview workspace ls`).")
@click.option("--recording", "recording_id", required=True, help="The recording id of the workspace it sorts.")
@click.option("--label", default=None, help="The sorting's label (default: the file or folder name).")
@friendly_errors
def import_sorting_cmd(path: str, workspace_uri: str, recording_id: str, label: str | None) -> None:
    """Add the sorting at PATH to a recording of the workspace and print its sorting id."""
    from ..workspace import load_workspace
    from ..workspace.importing import import_sorting

    W = load_workspace(workspace_uri)
    if recording_id not in W.recording_ids:
        raise click.BadParameter(f"{recording_id!r} is not a recording of this workspace; its recordings are "
                                 f"{', '.join(W.recording_ids) or 'none (import one first)'}")
    click.echo(import_sorting(W, recording_id, _existing(path), label))
