"""`sortingview store ...` and `sortingview feed ...`: thin wrappers over sortingview.store."""
from __future__ import annotations

import datetime
import json
import sys

import click

from .. import store
from . import main
from ._common import friendly_errors

_LABEL_HELP = "Label to put in the URI (default: the file name)."


@main.group("store")
def store_group() -> None:
    """Put files into the local store and get them back by sha1:// URI.

    The store is the directory $KACHERY_CLOUD_DIR (default ~/.kachery-cloud), laid out as kachery-cloud's
    local store, so files stored by either tool load with the other.
    """


@store_group.command("put")
@click.argument("path", type=click.Path())
@click.option("--label", default=None, help=_LABEL_HELP)
@friendly_errors
def store_put(path: str, label: str | None) -> None:
    """Copy the file PATH into the store and print its sha1:// URI.

    \b
    Example:
      $ sortingview store put firings.npz
      sha1://8f2d...e1?label=firings.npz
    """
    click.echo(store.store_file(path, label=label))


@store_group.command("link")
@click.argument("path", type=click.Path())
@click.option("--label", default=None, help=_LABEL_HELP)
@friendly_errors
def store_link(path: str, label: str | None) -> None:
    """Reference the file PATH in place (no copy) and print its sha1:// URI.

    Use this for large recordings: the sha1 is computed once and cached, so linking the same unchanged
    file again is instant. The file must stay where it is, unchanged; a later change, move or deletion
    is detected and reported when the URI is loaded.
    """
    click.echo(store.link_file(path, label=label))


@store_group.command("get")
@click.argument("uri")
@click.option("--cat", is_flag=True, help="Write the content to standard output instead of its path.")
@click.option("--verify", is_flag=True, help="Recompute the sha1 first and fail if the bytes do not match.")
@friendly_errors
def store_get(uri: str, cat: bool, verify: bool) -> None:
    """Print the local path of URI, or its content with --cat.

    URI is sha1://<hash>[?label=...] or kachery:<zone>:sha1:<hash>[:label].

    \b
    Examples:
      $ sortingview store get 'sha1://8f2d...e1?label=firings.npz'
      $ sortingview store get --cat sha1://5b1c...07 | python -m json.tool
    """
    path = store.load_file(uri, verify=verify)
    if not cat:
        click.echo(path)
        return
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
    except BrokenPipeError:  # `... --cat | head`: the reader has what it wanted
        sys.stderr.close()


@main.group("feed")
def feed_group() -> None:
    """Inspect append-only feeds (workspaces and curations are feeds)."""


@feed_group.command("show")
@click.argument("uri")
@click.option("--start", default=0, show_default=True, type=click.IntRange(min=0),
              help="First message number to show.")
@click.option("--json-lines", "as_json", is_flag=True, help="One JSON record per line (for scripts).")
@friendly_errors
def feed_show(uri: str, start: int, as_json: bool) -> None:
    """Print the messages of the feed URI (feed://<id>): number, local time, author and message.

    \b
    Example:
      $ sortingview feed show feed://3fa1...9c
           0  2024-05-02T10:31:07  alice   {"action": "ADD_UNIT_LABEL", ...}
    """
    for rec in store.load_feed(uri).get_records(start):
        if as_json:
            click.echo(json.dumps(rec))
            continue
        when = datetime.datetime.fromtimestamp(rec["timestamp"] / 1000).isoformat(timespec="seconds")
        who = rec.get("userId") or "-"
        click.echo(f"{rec['messageNumber']:>6}  {when}  {who:<20} {json.dumps(rec['message'])}")
