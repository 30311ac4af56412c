"""The curation methods of a Workspace: one curation feed per sorting, validated actions, history and revert.

Every change goes through :meth:`CurationMethods.apply_curation_action`, which validates the action against the
sorting's units, its label choices and the current state, and appends one message carrying its author and time.
Authorized users and label choices are mutables keyed by the curation feed:
``@sortingview/@curation_authorized_users/<feedId>`` and ``@sortingview/@curation_label_choices/<feedId>``.
"""
from __future__ import annotations

import getpass
import json
import os
from typing import Any

from .. import store
from ..errors import AuthError, CurationError, WorkspaceError
from ..store.feeds import Feed
from ..store.uri import parse_feed_uri
from . import curation as C

AUTHORIZED = "@sortingview/@curation_authorized_users"
ORIGINAL_AUTHORIZED = "@sortingview/@sortingCurationAuthorizedUsers"
LABEL_CHOICES = "@sortingview/@curation_label_choices"


def local_author() -> str:
    """Who a change made from a Python script is recorded as: $SORTINGVIEW_USER, else ``local:<login name>``."""
    user = os.environ.get("SORTINGVIEW_USER")
    if user:
        return user
    try:
        return f"local:{getpass.getuser()}"
    except (KeyError, OSError):
        return "local"


def _plain(unit_ids: Any) -> Any:
    """Unit ids as JSON values: numpy arrays and scalars (e.g. ``S.unit_ids[:3]``) become lists and numbers."""
    if hasattr(unit_ids, "tolist"):
        return unit_ids.tolist()
    if isinstance(unit_ids, (list, tuple)):
        return [u.item() if hasattr(u, "item") else u for u in unit_ids]
    return unit_ids


class CurationMethods:
    """Mixed into :class:`~sortingview.workspace.workspace.Workspace`."""

    # feeds and settings -------------------------------------------------------------------------------
    def get_curation_feed_uri(self, sorting_id: str) -> str | None:
        self._sorting_record(sorting_id)
        return self._current().curation_feeds.get(sorting_id)

    def get_sorting_curation_uri(self, sorting_id: str) -> str | None:
        """The ``feed://`` URI of the sorting's curation feed (None until one is created), as the original."""
        return self.get_curation_feed_uri(sorting_id)

    def get_curation_feed_for_sorting(self, sorting_id: str) -> Feed | None:
        """The curation feed of a sorting (``.uri``, ``.feed_id``, ``get_messages()``), or None."""
        uri = self.get_curation_feed_uri(sorting_id)
        return store.load_feed(uri) if uri else None

    def create_curation_feed_for_sorting(self, sorting_id: str) -> Feed:
        """The curation feed of a sorting, created when it has none (the first one set for a sorting wins).

        Returns the feed, as the original did (``.uri`` is its ``feed://`` URI)."""
        existing = self.get_curation_feed_for_sorting(sorting_id)
        if existing is not None:
            return existing
        feed = store.create_feed()
        self._append({"type": "SET_CURATION_FEED_FOR_SORTING", "sortingId": sorting_id, "curationFeedUri": feed.uri})
        return store.load_feed(self._current().curation_feeds[sorting_id])

    def _curation_feed_id(self, sorting_id: str, *, create: bool) -> str | None:
        if create:
            return self.create_curation_feed_for_sorting(sorting_id).feed_id
        uri = self.get_curation_feed_uri(sorting_id)
        return parse_feed_uri(uri) if uri else None

    def set_sorting_curation_authorized_users(self, sorting_id: str, user_ids: list[str]) -> None:
        """Who may curate this sorting through the viewer (signed-in users; see `sortingview user add`)."""
        if isinstance(user_ids, str) or not all(isinstance(u, str) and u for u in user_ids):
            raise WorkspaceError(f"user_ids must be a list of user id strings, got {user_ids!r}")
        feed_id = self._curation_feed_id(sorting_id, create=True)
        store.set_mutable(f"{AUTHORIZED}/{feed_id}", json.dumps(list(dict.fromkeys(user_ids))))

    def get_sorting_curation_authorized_users(self, sorting_id: str) -> list[str]:
        feed_id = self._curation_feed_id(sorting_id, create=False)
        if not feed_id:
            return []
        # the original sortingview kept this list under its own key; read it when we have none
        text = store.get_mutable(f"{AUTHORIZED}/{feed_id}") or store.get_mutable(f"{ORIGINAL_AUTHORIZED}/{feed_id}")
        return _string_list(text)

    def set_sorting_curation_label_choices(self, sorting_id: str, label_choices: list[str]) -> None:
        """The labels curators may add to this sorting's units (default accept, reject, noise, artifact, mua)."""
        choices = C.check_label_choices(label_choices)
        feed_id = self._curation_feed_id(sorting_id, create=True)
        store.set_mutable(f"{LABEL_CHOICES}/{feed_id}", json.dumps(choices))

    def add_sorting_curation_label_choice(self, sorting_id: str, label: str) -> list[str]:
        """Add one label to the sorting's label choices and return them; concurrent adds (any process) all land."""
        feed_id = self._curation_feed_id(sorting_id, create=True)

        def add(text: str | None) -> str:
            choices = json.loads(text) if text else list(C.DEFAULT_LABEL_CHOICES)
            return json.dumps(choices if label in choices else C.check_label_choices([*choices, label]))

        return json.loads(store.update_mutable(f"{LABEL_CHOICES}/{feed_id}", add))

    def get_label_choices(self, sorting_id: str | None = None) -> list[str]:
        """The label choices of a sorting (the defaults when none were set or no sorting is given)."""
        feed_id = self._curation_feed_id(sorting_id, create=False) if sorting_id else None
        text = store.get_mutable(f"{LABEL_CHOICES}/{feed_id}") if feed_id else None
        return json.loads(text) if text else list(C.DEFAULT_LABEL_CHOICES)

    def get_sorting_curation_label_choices(self, sorting_id: str) -> list[str]:
        return self.get_label_choices(sorting_id)

    # reading ------------------------------------------------------------------------------------------
    def _curation_records(self, sorting_id: str) -> list[dict]:
        feed_id = self._curation_feed_id(sorting_id, create=False)
        return store.load_feed(feed_id).get_records() if feed_id else []

    def _curation_state(self, sorting_id: str, *, at: int | None = None) -> dict:
        """The reduced state with ``labelsByUnit`` keyed by unit ids as strings (the stored, JSON form)."""
        records = self._curation_records(sorting_id)
        if at is not None:
            _check_message_number(at, len(records))
        return C.reduce_curation([r["message"] for r in records], at=at)

    def get_sorting_curation(self, sorting_id: str, *, at: int | None = None) -> dict:
        """``{labelsByUnit, mergeGroups, isClosed}``; with ``at=N`` the state after message N (-1: before any).

        Keys of ``labelsByUnit`` and members of ``mergeGroups`` are the sorting's own unit ids (ints for int ids),
        as the original returned them."""
        return C.typed_state(self._curation_state(sorting_id, at=at), self.get_unit_ids(sorting_id))

    def get_sorting_curation_history(self, sorting_id: str) -> list[dict]:
        """Every curation message: ``{messageNumber, timestamp (ms), userId, action, message}``, oldest first."""
        return [{"messageNumber": r["messageNumber"], "timestamp": r["timestamp"], "userId": r.get("userId"),
                 "action": C.message_action(r["message"]), "message": r["message"]}
                for r in self._curation_records(sorting_id)]

    # writing ------------------------------------------------------------------------------------------
    def apply_curation_action(self, sorting_id: str, action: dict, user_id: str | None = None) -> int | None:
        """Validate one curation action and append it; return its message number (None when it changes nothing:
        an ADD_UNIT_LABEL whose units all have the label already, which the original also skipped).

        ``user_id`` is the signed-in user when the server calls this (checked against the authorized users);
        from a script it is None and the change is recorded as :func:`local_author`.
        """
        if user_id is not None and user_id not in self.get_sorting_curation_authorized_users(sorting_id):
            raise AuthError(f"user {user_id!r} may not curate sorting {sorting_id}; the workspace owner can add them "
                            "with W.set_sorting_curation_authorized_users")
        state = self._curation_state(sorting_id)
        if isinstance(action, dict) and action.get("type") == "REVERT_CURATION":
            action = self._revert_action(sorting_id, action.get("to"))
        checked = C.validate_action(action, unit_ids=self.get_unit_ids(sorting_id),
                                    label_choices=self.get_label_choices(sorting_id), state=state)
        if C.adds_nothing(checked, state):
            return None
        feed = store.load_feed(self._curation_feed_id(sorting_id, create=True))
        return feed.append_message({"action": checked}, user_id=user_id or local_author())

    def add_sorting_curation_action(self, sorting_id: str, action: dict, user_id: str | None = None) -> int | None:
        """The original's name for :meth:`apply_curation_action` (the same validation)."""
        return self.apply_curation_action(sorting_id, action, user_id)

    def sorting_curation_add_label(self, sorting_id: str, *, label: str | list[str], unit_ids,
                                   user_id: str | None = None) -> int | None:
        """Add ``label`` (or each label of a list: one action per label) to a unit id or a list of them.

        Returns the number of the last message appended (None when every unit had every label already)."""
        labels = label if isinstance(label, (list, tuple)) else [label]
        if not labels:
            raise CurationError("sorting_curation_add_label needs a label or a non-empty list of labels")
        # check every label first, so that a bad label in a list appends nothing
        choices = self.get_label_choices(sorting_id)
        for lab in labels:
            C.validate_action({"type": "ADD_UNIT_LABEL", "unitId": _plain(unit_ids), "label": lab},
                              unit_ids=self.get_unit_ids(sorting_id), label_choices=choices,
                              state=C.empty_state())
        last = None
        for lab in labels:
            n = self.apply_curation_action(sorting_id, {"type": "ADD_UNIT_LABEL", "unitId": _plain(unit_ids),
                                                        "label": lab}, user_id)
            last = n if n is not None else last
        return last

    def sorting_curation_remove_label(self, sorting_id: str, *, label: str, unit_ids,
                                      user_id: str | None = None) -> int:
        return self.apply_curation_action(sorting_id, {"type": "REMOVE_UNIT_LABEL", "unitId": _plain(unit_ids),
                                                       "label": label}, user_id)

    def sorting_curation_merge_units(self, sorting_id: str, unit_ids: list, user_id: str | None = None) -> int:
        return self.apply_curation_action(sorting_id, {"type": "MERGE_UNITS", "unitIds": _plain(unit_ids)}, user_id)

    def sorting_curation_unmerge_units(self, sorting_id: str, unit_ids: list, user_id: str | None = None) -> int:
        return self.apply_curation_action(sorting_id, {"type": "UNMERGE_UNITS", "unitIds": _plain(unit_ids)}, user_id)

    def close_sorting_curation(self, sorting_id: str, user_id: str | None = None) -> int:
        return self.apply_curation_action(sorting_id, {"type": "CLOSE_CURATION"}, user_id)

    def reopen_sorting_curation(self, sorting_id: str, user_id: str | None = None) -> int:
        return self.apply_curation_action(sorting_id, {"type": "REOPEN_CURATION"}, user_id)

    def _revert_action(self, sorting_id: str, to: Any) -> dict:
        records = self._curation_records(sorting_id)
        _check_message_number(to, len(records))
        target = C.reduce_curation([r["message"] for r in records], at=to)
        return {"type": "SET_CURATION_STATE", "state": target, "revertTo": to}

    def revert_sorting_curation(self, sorting_id: str, *, to: int, user_id: str | None = None) -> int:
        """Append a message that restores the state after message ``to`` (-1: the sorter's output).

        History is never rewritten: the revert is itself a message, and can be reverted."""
        return self.apply_curation_action(sorting_id, {"type": "REVERT_CURATION", "to": to}, user_id)

    # the curated result -------------------------------------------------------------------------------
    def get_curated_sorting_extractor(self, sorting_id: str):
        """The sorting with merges applied (a merged unit takes its group's smallest id) and labels as properties."""
        from .exports import curated_sorting

        rec = self.get_recording_extractor(self.get_sorting_record(sorting_id)["recordingId"])
        frames = [rec.get_num_frames(i) for i in range(rec.get_num_segments())]
        return curated_sorting(self.get_sorting_extractor(sorting_id), self._curation_state(sorting_id),
                               self.get_label_choices(sorting_id), num_frames=frames)

    def export_sorting_curation(self, sorting_id: str, path: str, *, format: str = "sortingview") -> str:
        """Write the curation as ``spikeinterface`` (curation format v2), ``phy`` (cluster_group.tsv) or
        ``sortingview`` JSON; return the path written."""
        from .exports import export_curation

        return export_curation(self._curation_state(sorting_id), self.get_unit_ids(sorting_id),
                               self.get_label_choices(sorting_id), path, format)

    def import_sorting_curation(self, sorting_id: str, path_or_dict, *, format: str = "sortingview",
                                user_id: str | None = None) -> int:
        """Replace the curation by one read from a ``spikeinterface`` or ``sortingview`` file (one new message)."""
        from .exports import read_curation

        state, choices = read_curation(path_or_dict, format)
        # check everything before changing anything: a refused import leaves the sorting as it was
        C.validate_state(state, unit_ids=self.get_unit_ids(sorting_id),
                         label_choices=choices or self.get_label_choices(sorting_id))
        if choices is not None and choices != self.get_label_choices(sorting_id):
            self.set_sorting_curation_label_choices(sorting_id, choices)
        return self.apply_curation_action(sorting_id, {"type": "SET_CURATION_STATE", "state": state,
                                                       "importFormat": format}, user_id)


def _string_list(text: str | None) -> list[str]:
    try:
        value = json.loads(text) if text else []
    except ValueError:
        return []
    return [u for u in value if isinstance(u, str)] if isinstance(value, list) else []


def _check_message_number(n: Any, count: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or not -1 <= n < count:
        raise CurationError(f"message number {n!r} is out of range: this curation has {count} messages "
                            f"(0..{count - 1}; -1 means before any message)")
