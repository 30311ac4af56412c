"""The workspace reducer: a workspace is the replay of its feed of ``{"action": {...}}`` messages.

Action types (the original sortingview ones): ``ADD_RECORDING {recording}``, ``ADD_SORTING {sorting}``,
``DELETE_RECORDINGS {recordingIds}`` (their sortings go too), ``DELETE_SORTINGS {sortingIds}``,
``SET_UNIT_METRICS_FOR_SORTING {sortingId, metricsUri}``, ``SET_SNIPPET_LEN {snippetLen}``,
``SET_CURATION_FEED_FOR_SORTING {sortingId, curationFeedUri}``. Pure: no store, no I/O.
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


def _delete_sortings(state: WorkspaceState, ids) -> None:
    for sid in ids:
        state.sortings.pop(sid, None)
        state.unit_metrics.pop(sid, None)


def apply_action(state: WorkspaceState, action: dict) -> None:
    """Apply one action to ``state`` in place; unknown types (from newer versions) are skipped."""
    t = action.get("type")
    if t == "ADD_RECORDING":
        rec = action["recording"]
        state.recordings[rec["recordingId"]] = rec
    elif t == "ADD_SORTING":
        srt = action["sorting"]
        if srt.get("recordingId") in state.recordings:  # a sorting added after its recording was deleted
            state.sortings[srt["sortingId"]] = srt
    elif t == "DELETE_RECORDINGS":
        ids = set(action.get("recordingIds", []))
        for rid in ids:
            state.recordings.pop(rid, None)
        _delete_sortings(state, [s for s, rec in state.sortings.items() if rec.get("recordingId") in ids])
    elif t == "DELETE_SORTINGS":
        _delete_sortings(state, action.get("sortingIds", []))
    elif t == "SET_UNIT_METRICS_FOR_SORTING":
        state.unit_metrics[action["sortingId"]] = action["metricsUri"]
    elif t == "SET_SNIPPET_LEN":
        before, after = action["snippetLen"]
        state.snippet_len = (int(before), int(after))
    elif t == "SET_CURATION_FEED_FOR_SORTING":
        # the first feed set for a sorting wins, so two processes that create one at once agree
        state.curation_feeds.setdefault(action["sortingId"], action["curationFeedUri"])


def replay(state: WorkspaceState, messages: list[dict]) -> WorkspaceState:
    for msg in messages:
        action = msg.get("action") if isinstance(msg, dict) else None
        if isinstance(action, dict):
            apply_action(state, action)
        state.num_messages += 1
    return state
