"""The original's ``trythis_*`` pair, used by Spyglass v0 to start a curation and read it back.

``trythis_start_sorting_curation`` stores the recording and sorting in a new workspace, seeds its curation feed
with ``initial_curation`` and returns the figURL; curators label and merge in the viewer, which writes to the
curation feed. ``trythis_load_sorting_curation`` reads the curation back from that feed (given its ``feed://``
URI or the figURL), or from a stored JSON curation (``sha1://``, as the original's saved curations were).
"""
from __future__ import annotations

import os
from typing import Any
from urllib.parse import parse_qs, urlparse

from .. import store
from ..errors import CurationError, WorkspaceError
from . import curation as C

INSTRUCTIONS = """
Instructions for sorting curation.

- Open the link below (the sortingview server must be running: `sortingview-start-backend`).
- Sign in as a curator of this sorting ({users}) and label / merge units; every change is saved at once.
- When the curation is complete, read it back with
      sv.trythis_load_sorting_curation('{feed_uri}')
  (the link itself works too).
"""


def _initial_state(initial_curation: Any) -> dict | None:
    if initial_curation is None or initial_curation == {}:
        return None
    if not isinstance(initial_curation, dict):
        raise CurationError("initial_curation must be a dict {labelsByUnit, mergeGroups}, got "
                            f"{type(initial_curation).__name__}")
    state = C.normalize_state({"labelsByUnit": initial_curation.get("labelsByUnit") or {},
                               "mergeGroups": initial_curation.get("mergeGroups") or [],
                               "isClosed": initial_curation.get("isClosed", False)})
    return state if state["labelsByUnit"] or state["mergeGroups"] or state["isClosed"] else None


def trythis_start_sorting_curation(*, recording, sorting, label: str, initial_curation: dict | None = None,
                                   raster_plot_subsample_max_firing_rate: float | None = 50,
                                   spike_amplitudes_subsample_max_firing_rate: float | None = 50,
                                   unit_metrics: list | None = None,
                                   curation_users: list[str] | None = None) -> str:
    """Start curating ``sorting`` of ``recording``; return the figURL (the curation feed URI is printed).

    ``initial_curation`` (``{labelsByUnit, mergeGroups}``) seeds the curation; labels it uses that are not among
    the default choices are added to them. ``curation_users`` may curate in the viewer (default: ``$SORTINGVIEW_USER``
    when set). The two subsample rates are the original's (spikes per second drawn per unit; None: all).
    """
    from .workspace import create_workspace

    if not isinstance(label, str) or not label:
        raise WorkspaceError(f"label must be a non-empty string, got {label!r}")
    state = _initial_state(initial_curation)
    W = create_workspace(label=label)
    rid = W.add_recording(label=label, recording=recording)
    sid = W.add_sorting(recording_id=rid, label=label, sorting=sorting)
    if unit_metrics:
        W.set_unit_metrics_for_sorting(sid, unit_metrics)
    feed = W.create_curation_feed_for_sorting(sid)
    users = curation_users if curation_users is not None else [u for u in [os.environ.get("SORTINGVIEW_USER")] if u]
    W.set_sorting_curation_authorized_users(sid, users)
    if state is not None:
        used = sorted({x for labels in state["labelsByUnit"].values() for x in labels})
        choices = W.get_label_choices(sid)
        if any(x not in choices for x in used):
            W.set_sorting_curation_label_choices(sid, choices + [x for x in used if x not in choices])
        W.import_sorting_curation(sid, {**state, "labelChoices": None}, format="sortingview")
    url = W.spikesortingview(recording_id=rid, sorting_id=sid, label=label,
                             _raster_plot_subsample_max_firing_rate=raster_plot_subsample_max_firing_rate,
                             _spike_amplitudes_subsample_max_firing_rate=spike_amplitudes_subsample_max_firing_rate)
    print(INSTRUCTIONS.format(users=", ".join(users) or "add some with W.set_sorting_curation_authorized_users",
                              feed_uri=feed.uri))
    print(url)
    return url


def _feed_of_figurl(url: str) -> str:
    d = parse_qs(urlparse(url).query).get("d", [None])[0]
    if not d:
        raise WorkspaceError(f"{url} is not a figURL of this sortingview (it has no d=sha1://... figure data)")
    data = store.load_json(d)
    feed = data.get("curationFeedUri") if isinstance(data, dict) else None
    if not isinstance(feed, str):
        raise WorkspaceError(f"the figure of {url} has no curation feed; open it with W.spikesortingview(...)")
    return feed


def trythis_load_sorting_curation(sorting_curation_uri: str) -> dict:
    """The curation ``{labelsByUnit, mergeGroups, isClosed}`` (keys as text, as JSON has them) of a curation feed
    (``feed://...``), of a figURL, or stored as JSON (``sha1://...``, returned as stored)."""
    uri = sorting_curation_uri
    if not isinstance(uri, str):
        raise WorkspaceError(f"expected a feed://, sha1:// or figURL string, got {type(uri).__name__}")
    if uri.startswith(("http://", "https://")):
        uri = _feed_of_figurl(uri)
    if uri.startswith("sha1://") or uri.startswith("kachery:"):
        return store.load_json(uri)
    if not uri.startswith("feed://"):
        raise WorkspaceError(f"{sorting_curation_uri!r} is not a curation URI: pass the feed:// URI printed by "
                             "trythis_start_sorting_curation, its figURL, or a sha1:// URI of a stored curation")
    return C.reduce_curation(store.load_feed(uri).get_messages())
