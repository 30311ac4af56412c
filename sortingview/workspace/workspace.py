"""The Workspace: recordings, sortings, unit metrics and settings, as the replay of a feed.

``sortingview-workspace:<feedId>?label=<label>`` names a workspace. Every change is one message appended to
its feed (atomic and durable), so two processes that add to one workspace at once both land, and every
reader sees the same workspace. A registry of mutables ``@sortingview/@workspaces/<feedId>`` lets
:func:`list_workspaces` find the workspaces of a store.
"""
from __future__ import annotations

import json
import numbers
import secrets
import time
from typing import Any
from urllib.parse import parse_qs, quote

from .. import store
from ..errors import FeedError, InvalidUriError, WorkspaceError
from ..serialize import encode_value
from ..store.uri import parse_feed_uri
from .curating import CurationMethods
from .sorting_runs import SortingRunMethods
from .state import WorkspaceState, replay, store_inline_objects

URI_PREFIX = "sortingview-workspace:"
REGISTRY = "@sortingview/@workspaces"


def make_workspace_uri(feed_id: str, label: str | None) -> str:
    return f"{URI_PREFIX}{feed_id}" + (f"?label={quote(label)}" if label else "")


def parse_workspace_uri(uri: str) -> tuple[str, str | None]:
    """``(feedId, label)`` of ``sortingview-workspace:<feedId>?label=...`` (or the original ``workspace://<id>``)."""
    if not isinstance(uri, str):
        raise InvalidUriError(f"a workspace URI must be a string, got {type(uri).__name__}")
    for prefix in (URI_PREFIX, "workspace://"):
        if uri.startswith(prefix):
            rest, _, query = uri[len(prefix):].partition("?")
            try:
                feed_id = parse_feed_uri(rest)
            except InvalidUriError:
                break
            label = parse_qs(query).get("label", [None])[0] if query else None
            return feed_id, label
    raise InvalidUriError(
        f"invalid workspace URI {uri!r}: expected {URI_PREFIX}<feed id>?label=... as printed by W.uri "
        "(list the workspaces of this store with `sortingview workspace ls`)"
    )


def _feed_id_and_label(uri: str) -> tuple[str, str | None]:
    if isinstance(uri, str) and uri.startswith((URI_PREFIX, "workspace://")):
        return parse_workspace_uri(uri)
    try:
        return parse_feed_uri(uri), None
    except InvalidUriError:
        return parse_workspace_uri(uri)  # raises the error that shows what a workspace URI looks like


def _new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(6)}"


def _check_label(label: Any, what: str) -> str:
    if not isinstance(label, str) or not label.strip():
        raise WorkspaceError(f"the {what} label must be a non-empty string, got {label!r}")
    return label


class Workspace(CurationMethods, SortingRunMethods):
    """A workspace of recordings and sortings. Make one with :func:`create_workspace`, open one with
    :func:`load_workspace` or, as in the original, ``Workspace(uri)``."""

    def __init__(self, uri: str, label: str | None = None):
        """``uri``: a workspace URI (``sortingview-workspace:<feedId>?label=...``) or a bare feed id."""
        feed_id, uri_label = _feed_id_and_label(uri)
        self._feed = store.load_feed(feed_id)
        self._label = label if label is not None else uri_label
        self._state = WorkspaceState()
        self._unit_ids_cache: dict[str, list] = {}

    # identity -----------------------------------------------------------------------------------------
    @property
    def feed_id(self) -> str:
        return self._feed.feed_id

    @property
    def feed_uri(self) -> str:
        return self._feed.uri

    @property
    def feed(self):
        """The workspace's feed (``.uri``, ``.feed_id``, ``get_messages()``)."""
        return self._feed

    def set_label(self, label: str | None) -> None:
        """Change the label shown in ``W.uri`` and by ``list_workspaces`` (the contents stay the same)."""
        if label is not None and not isinstance(label, str):
            raise WorkspaceError(f"the workspace label must be a string or None, got {label!r}")
        entry = _registry_entry(self.feed_id) or {"created": time.time() * 1000}
        store.set_mutable(f"{REGISTRY}/{self.feed_id}", json.dumps({**entry, "label": label or ""}))
        self._label = label or ""

    @property
    def label(self) -> str:
        if self._label is None:
            entry = _registry_entry(self.feed_id)
            self._label = entry.get("label") if entry else None
        return self._label or ""

    @property
    def uri(self) -> str:
        return make_workspace_uri(self.feed_id, self.label)

    def get_uri(self) -> str:
        return self.uri

    def __repr__(self) -> str:
        return f"Workspace({self.uri!r})"

    # replay -------------------------------------------------------------------------------------------
    def _current(self) -> WorkspaceState:
        """The state after every message appended so far (by any process): read only what is new."""
        records = self._feed.get_records(self._state.num_messages)
        if records:
            replay(self._state, [r["message"] for r in records])
            store_inline_objects(self._state)
        return self._state

    def _append(self, action: dict, user_id: str | None = None) -> int:
        return self._feed.append_message({"action": action}, user_id=user_id)

    # recordings ---------------------------------------------------------------------------------------
    def add_recording(self, *, label: str, recording, sorting=None) -> str:
        """Store ``recording`` (a supported extractor, see copy_recording_extractor) and return its id.

        ``sorting``: a sorting of it to add next (``add_sorting``); the link's read of a large file then also
        gives the templates and every spike's amplitude that ``precompute`` and the viewer ask for first
        (``store_recording(recording, sorting=...)``, doc/tasks.md)."""
        from ..extractors import store_recording

        _check_label(label, "recording")
        # the same URI as store_recording(recording) gives anywhere else: task job ids hash the URI text
        uri = store_recording(recording, sorting=sorting)
        rid = _new_id("R")
        self._append({"type": "ADD_RECORDING", "recording": {
            "recordingId": rid, "recordingLabel": label, "recordingUri": uri, "recordingPath": uri,
            "description": f"Imported from Python: {label}",
        }})
        return rid

    @property
    def recording_ids(self) -> list[str]:
        return list(self._current().recordings)

    def recording_records(self) -> list[dict]:
        return [dict(r) for r in self._current().recordings.values()]

    def _recording_record(self, recording_id: str) -> dict:
        rec = self._current().recordings.get(recording_id)
        if rec is None:
            raise WorkspaceError(self._missing("recording", recording_id, self.recording_ids))
        return dict(rec)

    def get_recording_record(self, recording_id: str) -> dict:
        """The record, with the object inline as ``recordingObject`` (as the original's records had it)."""
        return _with_objects(self._recording_record(recording_id))

    def get_recording_extractor(self, recording_id: str):
        from ..extractors import load_recording

        return load_recording(self._recording_record(recording_id)["recordingUri"])

    def delete_recording(self, recording_id: str) -> None:
        """Remove a recording and its sortings from the workspace (the stored objects stay)."""
        self._recording_record(recording_id)
        self._append({"type": "DELETE_RECORDINGS", "recordingIds": [recording_id]})

    # sortings -----------------------------------------------------------------------------------------
    def add_sorting(self, *, recording_id: str, label: str, sorting, ground_truth: bool = False) -> str:
        """Store ``sorting`` (a supported extractor, see copy_sorting_extractor) for a recording; return its id.

        ``ground_truth=True`` marks it as the recording's ground truth (see doc/sorting.md)."""
        from ..extractors import store_sorting

        _check_label(label, "sorting")
        rec = self._recording_record(recording_id)
        fs = store.load_json(rec["recordingUri"])["data"].get("samplingFrequency")
        if fs is not None and abs(float(sorting.get_sampling_frequency()) - fs) > 1e-6 * fs:
            raise WorkspaceError(
                f"sorting {label!r} has sampling frequency {sorting.get_sampling_frequency()} Hz but recording "
                f"{recording_id} has {fs} Hz; add it to the recording it was computed from"
            )
        _warn_out_of_range(sorting, self.get_recording_extractor(recording_id), label)
        uri = store_sorting(sorting)
        sid = _new_id("S")
        self._append({"type": "ADD_SORTING", "sorting": {
            "sortingId": sid, "sortingLabel": label, "sortingUri": uri, "sortingPath": uri,
            "recordingId": recording_id, "recordingUri": rec["recordingUri"], "recordingPath": rec["recordingUri"],
            "description": f"Imported from Python: {label}",
        }})
        self._sorting_added(recording_id, sid, ground_truth=ground_truth)
        return sid

    @property
    def sorting_ids(self) -> list[str]:
        return list(self._current().sortings)

    def sorting_records(self) -> list[dict]:
        return [dict(s) for s in self._current().sortings.values()]

    def _sorting_record(self, sorting_id: str) -> dict:
        srt = self._current().sortings.get(sorting_id)
        if srt is None:
            raise WorkspaceError(self._missing("sorting", sorting_id, self.sorting_ids))
        return dict(srt)

    def get_sorting_record(self, sorting_id: str) -> dict:
        """The record, with ``sortingObject`` and ``recordingObject`` inline (as the original's records had them)."""
        return _with_objects(self._sorting_record(sorting_id))

    def get_sorting_extractor(self, sorting_id: str):
        from ..extractors import load_sorting

        return load_sorting(self._sorting_record(sorting_id)["sortingUri"])

    def get_sorting_ids_for_recording(self, recording_id: str) -> list[str]:
        self._recording_record(recording_id)
        return [s["sortingId"] for s in self.sorting_records() if s["recordingId"] == recording_id]

    def delete_sorting(self, sorting_id: str) -> None:
        self._sorting_record(sorting_id)
        self._append({"type": "DELETE_SORTINGS", "sortingIds": [sorting_id]})

    def get_unit_ids(self, sorting_id: str) -> list:
        """The unit ids of a sorting (cached: stored sortings never change)."""
        if sorting_id not in self._unit_ids_cache:
            # the stored object lists its unit ids; opening the sorting (an NWB file, say) is the fallback
            data = store.load_json(self._sorting_record(sorting_id)["sortingUri"]).get("data", {})
            ids = data.get("unitIds")
            if not isinstance(ids, list):
                ids = [u.item() if hasattr(u, "item") else u for u in self.get_sorting_extractor(sorting_id).unit_ids]
            self._unit_ids_cache[sorting_id] = ids
        return list(self._unit_ids_cache[sorting_id])

    # unit metrics and settings ------------------------------------------------------------------------
    def set_unit_metrics_for_sorting(self, sorting_id: str, metrics: list[dict]) -> None:
        """External unit metrics shown as units-table columns: ``[{name, label, tooltip, data: {unitId: value}}]``."""
        self._sorting_record(sorting_id)
        checked = _check_metrics(metrics, self.get_unit_ids(sorting_id))
        uri = store.store_json(checked, label="unit_metrics.json")
        self._append({"type": "SET_UNIT_METRICS_FOR_SORTING", "sortingId": sorting_id, "metricsUri": uri})

    def get_unit_metrics_for_sorting(self, sorting_id: str) -> list[dict]:
        self._sorting_record(sorting_id)
        uri = self._current().unit_metrics.get(sorting_id)
        return store.load_json(uri) if uri else []

    def set_snippet_len(self, snippet_len: tuple[int, int]) -> None:
        """Frames before and after each spike in snippets and average waveforms (default (50, 80))."""
        ok = isinstance(snippet_len, (list, tuple)) and len(snippet_len) == 2 and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 0 for v in snippet_len)
        if not ok or sum(snippet_len) == 0:
            raise WorkspaceError(f"snippet_len must be two non-negative frame counts (before, after), e.g. (50, 80); "
                                 f"got {snippet_len!r}")
        self._append({"type": "SET_SNIPPET_LEN", "snippetLen": [int(snippet_len[0]), int(snippet_len[1])]})

    @property
    def snippet_len(self) -> tuple[int, int]:
        return self._current().snippet_len

    def get_snippet_len(self) -> tuple[int, int]:
        return self.snippet_len

    # readers (servers started with --private; workspace/readers.py) -----------------------------------
    def set_readers(self, user_ids: list[str]) -> None:
        """Who may read this workspace on a ``--private`` server: its feeds and the store files it names."""
        from .readers import set_readers

        set_readers(self.feed_id, user_ids)

    def get_readers(self) -> list[str]:
        from .readers import get_readers

        return get_readers(self.feed_id)

    # views and precomputation (implemented by the viewer and backend parts) -----------------------------
    def spikesortingview(self, *, recording_id: str, sorting_id: str, label: str, **kwargs) -> str:
        """A figURL that opens this sorting in the viewer."""
        from .figurl import spikesortingview_url

        return spikesortingview_url(self, recording_id=recording_id, sorting_id=sorting_id, label=label, **kwargs)

    def precompute(self, sorting_id: str, **kwargs):
        """Compute what the viewer will ask for, so that it opens instantly."""
        from ..backend.precompute import precompute

        return precompute(self, sorting_id, **kwargs)

    # helpers ------------------------------------------------------------------------------------------
    def _missing(self, what: str, given: str, known: list[str]) -> str:
        shown = ", ".join(known) if known else "none"
        return f"no {what} {given!r} in workspace {self.uri}; its {what}s are: {shown}"


def _with_objects(record: dict) -> dict:
    """A copy of a record with ``recordingObject`` / ``sortingObject`` filled in, as the original's records had."""
    out = dict(record)
    for kind in ("recording", "sorting"):
        if f"{kind}Uri" in out and f"{kind}Object" not in out:
            out[f"{kind}Object"] = store.load_json(out[f"{kind}Uri"])
    return out


def _check_metrics(metrics: Any, unit_ids: list) -> list[dict]:
    if not isinstance(metrics, list):
        raise WorkspaceError("metrics must be a list of {name, label, tooltip, data: {unitId: value}}")
    known = {str(u) for u in unit_ids}
    out = []
    for i, m in enumerate(metrics):
        if not isinstance(m, dict) or not isinstance(m.get("name"), str) or not isinstance(m.get("data"), dict):
            raise WorkspaceError(f"metric {i} must be an object with a 'name' string and a 'data' object "
                                 "{unitId: value}")
        unknown = [k for k in m["data"] if str(k) not in known]
        if unknown:
            raise WorkspaceError(f"metric {m['name']!r} has values for units {unknown[:10]} that the sorting does "
                                 "not have")
        data = {str(k): encode_value(v) for k, v in m["data"].items()}
        bad = [k for k, v in data.items() if not (v is None or isinstance(v, (int, float, str, bool)))]
        if bad:
            raise WorkspaceError(f"metric {m['name']!r}: values must be numbers, strings or None (unit {bad[0]})")
        out.append({"name": m["name"], "label": str(m.get("label") or m["name"]),
                    "tooltip": str(m.get("tooltip") or m.get("label") or m["name"]), "data": data})
    return out


# --- create / load / list ---------------------------------------------------------------------------------
def _registry_entry(feed_id: str) -> dict | None:
    text = store.get_mutable(f"{REGISTRY}/{feed_id}")
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def create_workspace(*, label: str | None = None) -> Workspace:
    """A new, empty workspace in the store (registered so that list_workspaces finds it)."""
    label = _check_label(label, "workspace") if label is not None else ""
    feed = store.create_feed()
    store.set_mutable(f"{REGISTRY}/{feed.feed_id}", json.dumps({"label": label, "created": time.time() * 1000}))
    return Workspace(feed.feed_id, label)


def load_workspace(uri: str, peer: str | None = None, token: str | None = None) -> Workspace:
    """Open the workspace ``sortingview-workspace:<feedId>?label=...`` (as printed by ``W.uri``).

    A workspace whose feed is not in this store is read from its home server: ``peer`` (a server URL) or the
    ``home=`` the URI names, with ``token`` (a user token of that server); see workspace/remote.py.
    """
    feed_id, label = parse_workspace_uri(uri)
    try:
        store.load_feed(feed_id)
    except FeedError:
        from .remote import follow_workspace, workspace_home

        if peer or workspace_home(uri):
            return follow_workspace(uri, peer, token)
        raise WorkspaceError(
            f"workspace {uri} is not in the store at {store.get_store().directory or 'memory'}; set KACHERY_CLOUD_DIR "
            "to the store it was created in (`sortingview workspace ls` lists this store's workspaces)"
        ) from None
    entry = _registry_entry(feed_id)
    return Workspace(feed_id, entry.get("label") if entry else label)


def list_workspaces() -> list[str]:
    """URIs of the workspaces of the store, oldest first."""
    entries = []
    for feed_id in store.get_store().list_mutables(REGISTRY):
        entry = _registry_entry(feed_id) or {}
        if store.get_store().feed_exists(feed_id):
            entries.append((entry.get("created", 0), make_workspace_uri(feed_id, entry.get("label"))))
    return [uri for _, uri in sorted(entries)]


def _warn_out_of_range(sorting, recording, label: str) -> None:
    """Warn when spikes lie before frame 0 or past the recording's end (the curated sorting drops them)."""
    import warnings

    from .exports import out_of_range_spikes

    frames = [recording.get_num_frames(i) for i in range(recording.get_num_segments())]
    n = out_of_range_spikes(sorting, frames)
    if n:
        warnings.warn(f"sorting {label!r}: {n} spike(s) lie before frame 0 or after the recording's last frame "
                      f"({frames} frames per segment); the curated sorting drops them and views that cut snippets "
                      "skip them. Check that the sorting belongs to this recording", RuntimeWarning, stacklevel=3)
