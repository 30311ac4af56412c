"""The workspace reducer: a workspace is the replay of its feed of ``{"action": {...}}`` messages.

Action types (the original sortingview ones): ``ADD_RECORDING {recording}``, ``ADD_SORTING {sorting}``,
``DELETE_RECORDINGS {recordingIds}`` (their sortings go too), ``DELETE_SORTINGS {sortingIds}``,
``SET_UNIT_METRICS_FOR_SORTING {sortingId, metricsUri}``, ``SET_SNIPPET_LEN {snippetLen}``,
``SET_CURATION_FEED_FOR_SORTING {sortingId, curationFeedUri}``. The reducer is pure (no store, no I/O).

Feeds written by the original sortingview carry the objects inline (``recording: {recordingObject,
recordingPath}``, ``sorting: {sortingObject, recordingObject, ...}``) and wrap unit metrics as
``unitMetricsForSorting: {sortingId, metricsUri}``; both shapes replay. :func:`store_inline_objects` then stores
each inline object and points the record's ``recordingUri`` / ``sortingUri`` at it (the same sha1 as the
original's ``recordingPath``, since both write kachery-cloud's JSON bytes), so tasks load it like any other.
"""
from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_SNIPPET_LEN = (50, 80)


@dataclass
class WorkspaceState:
    recordings: dict[str, dict] = field(default_factory=dict)  # id -> record, in insertion order
    sortings: dict[str, dict] = field(default_factory=dict)
    unit_metrics: dict[str, str] = field(default_factory=dict)  # sorting id -> metrics URI
    curation_feeds: dict[str, str] = field(default_factory=dict)  # sorting id -> feed URI
    snippet_len: tuple[int, int] = DEFAULT_SNIPPET_LEN
    num_messages: int = 0
    stored_inline: set = field(default_factory=set)  # ids of records whose inline objects are stored


def _delete_sortings(state: WorkspaceState, ids) -> None:
    for sid in ids:
        state.sortings.pop(sid, None)
        state.unit_metrics.pop(sid, None)


def apply_action(state: WorkspaceState, action: dict) -> None:
    """Apply one action to ``state`` in place; unknown types (from newer versions) are skipped."""
    t = action.get("type")
    if t == "ADD_RECORDING":
        rec = _record(action.get("recording"), "recording")
        if rec is not None:
            state.recordings[rec["recordingId"]] = rec
    elif t == "ADD_SORTING":
        srt = _record(action.get("sorting"), "sorting")
        if srt is not None and srt.get("recordingId") in state.recordings:  # not after its recording was deleted
            state.sortings[srt["sortingId"]] = srt
    elif t == "DELETE_RECORDINGS":
        ids = set(action.get("recordingIds", []))
        for rid in ids:
            state.recordings.pop(rid, None)
        _delete_sortings(state, [s for s, rec in state.sortings.items() if rec.get("recordingId") in ids])
    elif t == "DELETE_SORTINGS":
        _delete_sortings(state, action.get("sortingIds", []))
    elif t == "SET_UNIT_METRICS_FOR_SORTING":
        inner = action.get("unitMetricsForSorting")  # the original's shape
        src = inner if isinstance(inner, dict) else action
        if isinstance(src.get("sortingId"), str) and isinstance(src.get("metricsUri"), str):
            state.unit_metrics[src["sortingId"]] = src["metricsUri"]
    elif t == "SET_SNIPPET_LEN":
        before, after = action["snippetLen"]
        state.snippet_len = (int(before), int(after))
    elif t == "SET_CURATION_FEED_FOR_SORTING":
        # the first feed set for a sorting wins, so two processes that create one at once agree
        state.curation_feeds.setdefault(action["sortingId"], action["curationFeedUri"])


def _record(rec, kind: str) -> dict | None:
    """A recording/sorting record with ``<kind>Uri`` set (the original wrote only ``<kind>Path``)."""
    if not isinstance(rec, dict) or not isinstance(rec.get(f"{kind}Id"), str):
        return None
    rec = dict(rec)
    for k in {kind, "recording"}:
        if not isinstance(rec.get(f"{k}Uri"), str) and isinstance(rec.get(f"{k}Path"), str):
            rec[f"{k}Uri"] = rec[f"{k}Path"]
    return rec


def store_inline_objects(state: WorkspaceState) -> None:
    """Store the objects the original wrote inline and point the records at them (once per record)."""
    from .. import store

    for records in (state.recordings, state.sortings):
        for rid, rec in records.items():
            if rid in state.stored_inline:
                continue
            for kind in ("recording", "sorting"):
                obj = rec.get(f"{kind}Object")
                if isinstance(obj, dict):
                    rec[f"{kind}Uri"] = store.store_json(obj, label=f"{kind}.json")
            state.stored_inline.add(rid)


def replay(state: WorkspaceState, messages: list[dict]) -> WorkspaceState:
    for msg in messages:
        action = msg.get("action") if isinstance(msg, dict) else None
        if isinstance(action, dict):
            apply_action(state, action)
        state.num_messages += 1
    return state
