"""Deleting a workspace: ``sv.delete_workspace(uri)`` and ``sortingview workspace rm URI --yes``.

What goes: the workspace's entry in the registry (so it is no longer listed), its feed (so it can no longer be
loaded), and the curation feeds of its sortings with their authorized users and label choices, unless another
workspace uses the same curation feed. What stays: every content-addressed object (recording and sorting
objects, stored or linked files, figure data, task results). They are named by their content, so other
workspaces, links already shared and kachery-cloud may refer to them; this never deletes a ``sha1://`` file.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .. import store
from ..errors import SortingviewError
from ..store.uri import parse_feed_uri
from .curating import AUTHORIZED, LABEL_CHOICES
from .workspace import REGISTRY, list_workspaces, load_workspace


@dataclass(frozen=True)
class DeletedWorkspace:
    """What :func:`delete_workspace` removed and what it kept because another workspace uses it."""

    uri: str
    label: str
    num_recordings: int
    num_sortings: int
    deleted_curation_feeds: list[str] = field(default_factory=list)
    kept_curation_feeds: list[str] = field(default_factory=list)


def _curation_feed_ids(W) -> set[str]:
    uris = (W.get_curation_feed_uri(sid) for sid in W.sorting_ids)
    return {parse_feed_uri(u) for u in uris if u}


def _curation_feeds_of_others(feed_id: str) -> set[str] | None:
    """The curation feeds the other workspaces use; None when one of them cannot be read (then keep all)."""
    used: set[str] = set()
    for uri in list_workspaces():
        try:
            other = load_workspace(uri)
            if other.feed_id != feed_id:
                used |= _curation_feed_ids(other)
        except SortingviewError:
            return None
    return used


def delete_workspace(uri: str) -> DeletedWorkspace:
    """Delete the workspace ``uri`` from the store (see the module docstring for what is kept).

    Raises WorkspaceError when the workspace is not in the store.
    """
    W = load_workspace(uri)  # a clear error for a workspace that is not there
    mine = _curation_feed_ids(W)
    others = _curation_feeds_of_others(W.feed_id)
    shared = mine if others is None else mine & others
    result = DeletedWorkspace(uri=W.uri, label=W.label, num_recordings=len(W.recording_ids),
                              num_sortings=len(W.sorting_ids), deleted_curation_feeds=sorted(mine - shared),
                              kept_curation_feeds=sorted(shared))
    s = store.get_store()
    s.delete_mutable(f"{REGISTRY}/{W.feed_id}")  # first: from here on it is not listed
    s.feed_delete(W.feed_id)
    for feed_id in result.deleted_curation_feeds:
        s.feed_delete(feed_id)
        s.delete_mutable(f"{AUTHORIZED}/{feed_id}")
        s.delete_mutable(f"{LABEL_CHOICES}/{feed_id}")
    return result
