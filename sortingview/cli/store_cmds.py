"""`sortingview store ...` and `sortingview feed ...`."""
from __future__ import annotations

import json
import sys

import click

from .. import store
from . import main
from ._common import friendly_errors


@main.group("store")
def store_group() -> None:
    """Put files into the local store and get them back by sha1:// URI."""


@store_group.command("put")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--label", default=None, help="Label in the URI (default: the file name).")
@friendly_errors
def store_put(path: str, label: str | None) -> None:
    """Copy PATH into the store and print its sha1:// URI."""
    click.echo(store.store_file(path, label=label))


@store_group.command("link")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--label", default=None, help="Label in the URI (default: the file name).")
@friendly_errors
def store_link(path: str, label: str | None) -> None:
    """Reference PATH in place (no copy; for large files) and print its sha1:// URI.

    The file must stay where it is and unchanged; a later change is detected and reported.
    """
    click.echo(store.link_file(path, label=label))


@store_group.command("get")
@click.argument("uri")
@click.option("--cat", is_flag=True, help="Write the content to standard output instead of its path.")
@click.option("--verify", is_flag=True, help="Recompute the sha1 and fail if the bytes do not match.")
@friendly_errors
def store_get(uri: str, cat: bool, verify: bool) -> None:
    """Print the local path of URI (sha1://... or kachery:<zone>:sha1:<hash>)."""
    path = store.load_file(uri, verify=verify)
    if not cat:
        click.echo(path)
        return
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            sys.stdout.buffer.write(chunk)
    sys.stdout.buffer.flush()


@main.group("feed")
def feed_group() -> None:
    """Inspect append-only feeds (workspaces and curations are feeds)."""


@feed_group.command("show")
@click.argument("uri")
@click.option("--start", default=0, show_default=True, help="First message number to show.")
@click.option("--json-lines", "as_json", is_flag=True, help="One JSON record per line (for scripts).")
@friendly_errors
def feed_show(uri: str, start: int, as_json: bool) -> None:
    """Print the messages of the feed URI (feed://<id>) with number, time and author."""
    import datetime

    for rec in store.load_feed(uri).get_records(start):
        if as_json:
            click.echo(json.dumps(rec))
            continue
        when = datetime.datetime.fromtimestamp(rec["timestamp"] / 1000).isoformat(timespec="seconds")
        who = rec.get("userId") or "-"
        click.echo(f"{rec['messageNumber']:>6}  {when}  {who:<20} {json.dumps(rec['message'])}")
