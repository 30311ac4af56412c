"""`sortingview peer ...` and `sortingview store fetch`: other servers this store fetches from."""
from __future__ import annotations

import click

from ..store import peers as P
from ..store.uri import parse_uri
from . import main
from ._common import friendly_errors
from .store_cmds import store_group


@main.group("peer")
def peer_group() -> None:
    """Other sortingview servers that content missing from this store is fetched from.

    A sha1:// URI that is not in the local store is asked of the peers in turn; every byte is checked
    against the sha1 before the file enters the store. $SORTINGVIEW_PEERS (comma-separated URLs) adds
    peers for one shell or process, asked before the saved ones.
    """


@peer_group.command("add")
@click.argument("url")
@click.option("--token", default=None, help="Token to send the peer (Authorization: Bearer), if it needs one.")
@friendly_errors
def peer_add(url: str, token: str | None) -> None:
    """Save the peer URL (e.g. http://lab-server:15310); adding it again replaces its token."""
    peer = P.add_peer(url, token)
    click.echo(f"added peer {peer.url}{' (with a token)' if peer.token else ''}")


@peer_group.command("ls")
@friendly_errors
def peer_ls() -> None:
    """List the peers in the order they are asked (tokens are not shown)."""
    for peer in P.list_peers():
        click.echo(f"{peer.url}{'  (token)' if peer.token else ''}")


@peer_group.command("rm")
@click.argument("url")
@friendly_errors
def peer_rm(url: str) -> None:
    """Forget the saved peer URL."""
    if not P.remove_peer(url):
        raise click.ClickException(f"{url} is not a saved peer; see `sortingview peer ls`")
    click.echo(f"removed peer {url}")


@store_group.command("fetch")
@click.argument("uri")
@click.option("--from", "from_url", default=None, help="Fetch from this server only (default: the peers in turn).")
@click.option("--token", default=None, help="Token for --from.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@friendly_errors
def store_fetch(uri: str, from_url: str | None, token: str | None, quiet: bool) -> None:
    """Fetch URI from a peer into the local store, verified by its sha1, and print its local path.

    An interrupted fetch is continued where it stopped the next time.

    \b
    Example:
      $ sortingview store fetch 'sha1://8f2d...e1?label=firings.npz' --from http://lab-server:15310
    """
    peers = [P.Peer(P.check_peer_url(from_url), token)] if from_url else None
    result = P.fetch(parse_uri(uri).sha1, peers, progress=not quiet)
    click.echo(result.path)
