"""Following a workspace that lives on another server (its *home*).

``sv.load_workspace(uri, peer=URL, token=T)``, or a URI that names its home
(``sortingview-workspace:<feedId>?label=...&home=<url>``), returns a :class:`RemoteWorkspace` when the feed is
not in the local store. It reads the workspace's feed and its curation feeds from the home
(sortingview.workspace.remote_feed) and follows them live; recordings and sortings are loaded through the
peers like any ``sha1://`` URI (the home is added to the peer list, with the token), so tasks run locally on
lazily read data. The home stays the single writer of its feeds: curation is sent to the home's
``POST /api/curation`` with the token (a user of the home whom the sorting authorizes), and appears for everyone
following. Followed workspaces are recorded in the local store (``@sortingview/@followed_workspaces/<feedId>``)
so that this store's server may forward for them (and, when ``--private``, serve them to this store's own reader
list of them); a server never contacts a home it was not told to follow.
"""
from __future__ import annotations

import json
from urllib.parse import parse_qs, quote, urlencode

from .. import store
from ..errors import FeedError, SortingviewError, WorkspaceError
from ..store.peer_http import Peer, check_peer_url
from .remote_feed import RemoteFeed, home_json, remote_feed
from .state import WorkspaceState
from .workspace import URI_PREFIX, Workspace, make_workspace_uri, parse_workspace_uri

FOLLOWED = "@sortingview/@followed_workspaces"


def workspace_home(uri: str) -> str | None:
    """The ``home=`` server URL a workspace URI names, if any."""
    query = uri.partition("?")[2] if isinstance(uri, str) else ""
    home = parse_qs(query).get("home", [None])[0]
    return check_peer_url(home) if home else None


def _peer(url: str) -> Peer:
    """The home as a peer of this store (with its saved token), or a peer without a token."""
    from ..store.peers import list_peers

    url = check_peer_url(url)
    return next((p for p in list_peers() if p.url == url), Peer(url))


class RemoteWorkspace(Workspace):
    """A workspace read from its home server ``peer`` (see the module docstring); read-only but for curation."""

    def __init__(self, feed_id: str, peer: Peer, label: str | None = None):
        self.peer = peer
        self._feed = remote_feed(peer, feed_id)
        self._label = label
        self._state = WorkspaceState()
        self._unit_ids_cache: dict[str, list] = {}

    @property
    def home(self) -> str:
        return self.peer.url

    @property
    def label(self) -> str:
        return self._label or ""

    @property
    def uri(self) -> str:
        """The workspace URI naming its home, so that it opens from any store."""
        return f"{make_workspace_uri(self.feed_id, self.label)}{'&' if self.label else '?'}" \
               f"{urlencode({'home': self.home}, quote_via=quote, safe=':/')}"

    @property
    def home_uri(self) -> str:
        """The URI as the home server knows it (without ``home=``)."""
        return make_workspace_uri(self.feed_id, self.label)

    def __repr__(self) -> str:
        return f"RemoteWorkspace({self.uri!r})"

    # what only the home changes ------------------------------------------------------------------------
    def _refuse(self, what: str):
        raise WorkspaceError(f"workspace {self.home_uri} belongs to the server {self.home}: {what} there (this "
                             "store follows it; only its home changes it, curation excepted)")

    def _append(self, action: dict, user_id: str | None = None) -> int:
        self._refuse(f"apply {action.get('type')}")

    def set_label(self, label):
        self._refuse("change its label")

    # set_readers / get_readers (inherited) are this store's own list: who may read the workspace through this
    # server when it is --private (workspace/readers.py); the home's readers are the home's

    def set_sorting_curation_authorized_users(self, sorting_id, user_ids):
        self._refuse("set who may curate")

    def set_sorting_curation_label_choices(self, sorting_id, label_choices):
        self._refuse("set the label choices")

    # curation, read from the home ------------------------------------------------------------------------
    def get_curation_feed_for_sorting(self, sorting_id: str) -> RemoteFeed | None:
        uri = self.get_curation_feed_uri(sorting_id)
        return remote_feed(self.peer, uri) if uri else None

    def create_curation_feed_for_sorting(self, sorting_id: str) -> RemoteFeed:
        feed = self.get_curation_feed_for_sorting(sorting_id)
        if feed is None:
            raise WorkspaceError(f"sorting {sorting_id} has no curation feed on its home server {self.home} yet; "
                                 "its owner creates one with W.set_sorting_curation_authorized_users")
        return feed

    def _curation_records(self, sorting_id: str) -> list[dict]:
        feed = self.get_curation_feed_for_sorting(sorting_id)
        return feed.get_records() if feed else []

    def home_curation(self, sorting_id: str, token: str | None = None) -> dict:
        """The home's ``GET /api/curation`` answer (state, history, label choices, authorized users, and
        ``userId``/``canCurate`` of ``token``, default the peer's token)."""
        self._sorting_record(sorting_id)
        query = urlencode({"workspace": self.home_uri, "sortingId": sorting_id})
        return home_json(self._as(token), "GET", f"/api/curation?{query}")

    def get_sorting_curation_authorized_users(self, sorting_id: str) -> list[str]:
        return list(self.home_curation(sorting_id).get("authorizedUsers") or [])

    def get_label_choices(self, sorting_id: str | None = None) -> list[str]:
        if sorting_id is None:
            return super().get_label_choices(None)
        return list(self.home_curation(sorting_id).get("labelChoices") or [])

    # curation, written by the home ---------------------------------------------------------------------
    def _as(self, token: str | None) -> Peer:
        return Peer(self.peer.url, token) if token else self.peer

    def apply_curation_action(self, sorting_id: str, action: dict, user_id: str | None = None, *,
                              token: str | None = None) -> int | None:
        """Send the action to the home server, which checks the user of ``token`` (default: the token this store
        has for the home), validates and appends it; return the number of the curation feed's last message.
        ``user_id`` is not used: the home records the user the token belongs to."""
        self._sorting_record(sorting_id)
        home_json(self._as(token), "POST", "/api/curation",
                  {"workspace": self.home_uri, "sortingId": sorting_id, "action": action})
        records = self.create_curation_feed_for_sorting(sorting_id).get_records(fresh=True)
        return records[-1]["messageNumber"] if records else None

    def add_sorting_curation_label_choice(self, sorting_id: str, label: str, *, token: str | None = None) -> list:
        answer = home_json(self._as(token), "POST", "/api/label-choices",
                           {"workspace": self.home_uri, "sortingId": sorting_id, "label": label})
        return list(answer.get("labelChoices") or [])


# --- following ------------------------------------------------------------------------------------------
def follow_workspace(uri: str, peer: str | None = None, token: str | None = None) -> RemoteWorkspace:
    """Open the workspace ``uri`` from its home ``peer`` (default: the URI's ``home=``) and record that this
    store follows it. The home is added to the peer list (with ``token``, which replaces a saved one)."""
    from ..store.peers import add_peer, list_peers

    feed_id, label = parse_workspace_uri(uri)
    url = peer or workspace_home(uri)
    if not url:
        raise WorkspaceError(f"workspace {uri} is not in this store and names no home server; open it with "
                             "sv.load_workspace(uri, peer='http://its-server:15310', token=...)")
    url = check_peer_url(url)
    if token or url not in [p.url for p in list_peers()]:
        add_peer(url, token)
    W = RemoteWorkspace(feed_id, _peer(url), label)
    try:
        W._feed.get_records(fresh=True)
    except FeedError:
        raise WorkspaceError(f"the server {url} has no workspace {URI_PREFIX}{feed_id}; check the URI and the "
                             "server") from None
    store.set_mutable(f"{FOLLOWED}/{feed_id}", json.dumps({"home": url, "label": label or ""}))
    return W


def followed_workspace(feed_id: str) -> RemoteWorkspace | None:
    """The workspace ``feed_id`` this store follows (read from its home), or None when it follows no such one."""
    text = store.get_mutable(f"{FOLLOWED}/{feed_id}")
    try:
        entry = json.loads(text) if text else None
        return RemoteWorkspace(feed_id, _peer(entry["home"]), entry.get("label") or None) if entry else None
    except (ValueError, KeyError, TypeError, SortingviewError):
        return None


def followed_for_server(uri: object) -> RemoteWorkspace | None:
    """For the server: the followed workspace ``uri`` names when its feed is not local (None when it is).

    A workspace this store does not follow is a WorkspaceError (404): a request never makes the server
    contact a server of its choosing."""
    if not isinstance(uri, str) or not uri.startswith((URI_PREFIX, "workspace://")):
        return None
    feed_id, _ = parse_workspace_uri(uri)
    if store.get_store().feed_exists(feed_id):
        return None
    W = followed_workspace(feed_id)
    if W is None:
        raise WorkspaceError(f"workspace {uri[:300]} is neither in this server's store nor followed by it; its "
                             "owner here can follow it with sv.load_workspace(uri, peer=URL)")
    return W


def followed_feed(feed_id: str) -> RemoteFeed | None:
    """For the server: a feed of a followed workspace (its own or a curation feed), or None."""
    W = followed_workspace(feed_id)
    if W is not None:
        return W._feed
    for other in store.get_store().list_mutables(FOLLOWED):
        W = followed_workspace(other)
        try:
            uris = W._current().curation_feeds.values() if W else ()
        except SortingviewError:
            continue
        if f"feed://{feed_id}" in uris:
            return remote_feed(W.peer, feed_id)
    return None
