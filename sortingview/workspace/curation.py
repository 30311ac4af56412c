"""Curation: the action vocabulary, its validation, and the reducer (state from a list of feed messages).

Everything here is pure (no store, no I/O) so that the viewer can mirror it in JavaScript exactly.

A curation feed holds messages ``{"action": {...}}`` (feeds written by the original sortingview hold the bare
actions, which replay the same); the action types are the original sortingview ones,

* ``ADD_UNIT_LABEL {unitId, label}`` and ``REMOVE_UNIT_LABEL {unitId, label}`` (``unitId`` may be a list),
* ``MERGE_UNITS {unitIds}`` (two or more units; groups that share a unit are united),
* ``UNMERGE_UNITS {unitIds}`` (the units leave their merge groups; a group left with one unit disappears),
* ``CLOSE_CURATION`` and ``REOPEN_CURATION``,

plus one of ours, ``SET_CURATION_STATE {state, revertTo?, importFormat?}``, which replaces the whole state: it is
what a revert or an import appends, so history is never rewritten.

The state is ``{"labelsByUnit": {"<unitId>": [labels, sorted]}, "mergeGroups": [[unitIds, sorted]],
"isClosed": bool}``; keys of ``labelsByUnit`` are unit ids as strings (JSON object keys), units without labels
are left out, and merge groups are sorted by their smallest unit.
"""
from __future__ import annotations

import copy
from typing import Any, Iterable, Sequence

from ..errors import CurationError

DEFAULT_LABEL_CHOICES = ("accept", "reject", "noise", "artifact", "mua")
MAX_LABEL_CHOICES = 100  # bounds what a curator can add from the browser (POST /api/label-choices)
MAX_LABEL_CHARS = 64
ACTION_TYPES = ("ADD_UNIT_LABEL", "REMOVE_UNIT_LABEL", "MERGE_UNITS", "UNMERGE_UNITS", "CLOSE_CURATION",
                "REOPEN_CURATION", "SET_CURATION_STATE")


def empty_state() -> dict:
    return {"labelsByUnit": {}, "mergeGroups": [], "isClosed": False}


def unit_sort_key(unit_id: Any) -> tuple:
    """Order unit ids numerically when they are numbers or digit strings ('2' before '10'), else by text."""
    text = str(unit_id)
    if isinstance(unit_id, int) or text.isdigit():
        return (0, int(text), "")
    return (1, 0, text)


def _as_list(value: Any) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _union_groups(groups: Iterable[Sequence[Any]]) -> list[list]:
    """Merge groups that share a unit (transitively), each sorted, sorted by smallest unit."""
    merged: list[set] = []
    for group in groups:
        g = {str(u) for u in group}
        touching = [m for m in merged if m & g]
        for m in touching:
            g |= m
            merged.remove(m)
        merged.append(g)
    by_key: dict[str, Any] = {}
    for group in groups:
        for u in group:
            by_key[str(u)] = u
    out = [sorted((by_key[u] for u in m), key=unit_sort_key) for m in merged if len(m) >= 2]
    return sorted(out, key=lambda grp: unit_sort_key(grp[0]))


def apply_action(state: dict, action: dict) -> dict:
    """The state after one (already validated) action; ``state`` is not modified."""
    t = action.get("type")
    if state["isClosed"] and t not in ("REOPEN_CURATION", "CLOSE_CURATION"):
        return state  # a closed curation refuses changes, even ones that raced with the close
    new = copy.deepcopy(state)
    if t == "ADD_UNIT_LABEL":
        for u in _as_list(action["unitId"]):
            labels = set(new["labelsByUnit"].get(str(u), []))
            labels.add(action["label"])
            new["labelsByUnit"][str(u)] = sorted(labels)
    elif t == "REMOVE_UNIT_LABEL":
        for u in _as_list(action["unitId"]):
            labels = [x for x in new["labelsByUnit"].get(str(u), []) if x != action["label"]]
            if labels:
                new["labelsByUnit"][str(u)] = labels
            else:
                new["labelsByUnit"].pop(str(u), None)
    elif t == "MERGE_UNITS":
        new["mergeGroups"] = _union_groups([*new["mergeGroups"], list(action["unitIds"])])
    elif t == "UNMERGE_UNITS":
        leaving = {str(u) for u in action["unitIds"]}
        new["mergeGroups"] = _union_groups([[u for u in g if str(u) not in leaving] for g in new["mergeGroups"]])
    elif t == "CLOSE_CURATION":
        new["isClosed"] = True
    elif t == "REOPEN_CURATION":
        new["isClosed"] = False
    elif t == "SET_CURATION_STATE":
        new = normalize_state(action["state"])
    # unknown types (written by a newer version) are skipped, so old readers can still replay a feed
    return new


def reduce_curation(messages: Iterable[dict], *, at: int | None = None) -> dict:
    """State after the messages (``{"action": {...}}`` each); with ``at=N``, after message number N only
    (``at=-1``: before any message, i.e. the sorter's output)."""
    state = empty_state()
    for i, msg in enumerate(messages):
        if at is not None and i > at:
            break
        action = message_action(msg)
        if action is not None:
            state = apply_action(state, action)
    return state


def message_action(message: Any) -> dict | None:
    """The action of a curation feed message: ours are ``{"action": {...}}``; the original sortingview appended
    the bare action ``{"type": ..., ...}``, so both replay."""
    if not isinstance(message, dict):
        return None
    action = message.get("action")
    if isinstance(action, dict):
        return action
    return message if isinstance(message.get("type"), str) else None


def normalize_state(state: Any) -> dict:
    """A state in canonical form (sorted labels and groups, transitive groups)."""
    if not isinstance(state, dict):
        raise CurationError("a curation state must be an object {labelsByUnit, mergeGroups, isClosed}")
    labels = state.get("labelsByUnit") or {}
    groups = state.get("mergeGroups") or []
    if not isinstance(labels, dict) or not all(isinstance(v, list) for v in labels.values()):
        raise CurationError("labelsByUnit must map unit ids to lists of labels")
    if not isinstance(groups, list) or not all(isinstance(g, list) for g in groups):
        raise CurationError("mergeGroups must be a list of lists of unit ids")
    return {
        "labelsByUnit": {str(u): sorted({str(x) for x in v}) for u, v in labels.items() if v},
        "mergeGroups": _union_groups(groups),
        "isClosed": bool(state.get("isClosed", False)),
    }


# --- validation -------------------------------------------------------------------------------------------
class UnitLookup:
    """Maps what a client sent ("7" or 7) to the sorting's own unit id, with a helpful error."""

    def __init__(self, unit_ids: Sequence[Any]):
        self.unit_ids = list(unit_ids)
        self._by_text = {str(u): u for u in self.unit_ids}

    def __call__(self, unit_id: Any) -> Any:
        if isinstance(unit_id, bool) or not isinstance(unit_id, (int, str)) or str(unit_id) not in self._by_text:
            shown = ", ".join(str(u) for u in self.unit_ids[:20]) + (" ..." if len(self.unit_ids) > 20 else "")
            raise CurationError(f"unit {unit_id!r} is not in the sorting; its units are {shown}")
        return self._by_text[str(unit_id)]


def _label(action: dict, choices: Sequence[str], *, must_be_choice: bool) -> str:
    label = action.get("label")
    if not isinstance(label, str) or not label:
        raise CurationError(f"{action['type']} needs a 'label' (one of {', '.join(choices)})")
    if must_be_choice and label not in choices:
        raise CurationError(
            f"label {label!r} is not one of this sorting's label choices ({', '.join(choices)}); "
            "add it with W.set_sorting_curation_label_choices(sorting_id, [...])"
        )
    return label


def _unit_list(action: dict, key: str, lookup: UnitLookup) -> list:
    value = action.get(key)
    if value is None:
        raise CurationError(f"{action['type']} needs '{key}'")
    units = [lookup(u) for u in _as_list(value)]
    if not units:
        raise CurationError(f"{action['type']} needs at least one unit in '{key}'")
    return sorted(dict.fromkeys(units), key=unit_sort_key)


def validate_action(action: Any, *, unit_ids: Sequence[Any], label_choices: Sequence[str], state: dict) -> dict:
    """The action in canonical form (the sorting's own unit ids), or a CurationError that says what is wrong."""
    if not isinstance(action, dict) or not isinstance(action.get("type"), str):
        raise CurationError(f"a curation action must be an object with a 'type' (one of {', '.join(ACTION_TYPES)})")
    t = action["type"]
    if t not in ACTION_TYPES:
        raise CurationError(f"unknown curation action {t!r}; use one of {', '.join(ACTION_TYPES)}")
    if state["isClosed"] and t not in ("REOPEN_CURATION", "CLOSE_CURATION"):
        raise CurationError("this curation is closed and refuses changes; reopen it first "
                            "(W.reopen_sorting_curation(sorting_id))")
    lookup = UnitLookup(unit_ids)
    if t in ("ADD_UNIT_LABEL", "REMOVE_UNIT_LABEL"):
        units = _unit_list(action, "unitId", lookup)
        label = _label(action, label_choices, must_be_choice=t == "ADD_UNIT_LABEL")
        return {"type": t, "unitId": units[0] if len(units) == 1 else units, "label": label}
    if t == "MERGE_UNITS":
        units = _unit_list(action, "unitIds", lookup)
        if len(units) < 2:
            raise CurationError(f"a merge needs two or more distinct units, got {units}")
        return {"type": t, "unitIds": units}
    if t == "UNMERGE_UNITS":
        return {"type": t, "unitIds": _unit_list(action, "unitIds", lookup)}
    if t == "SET_CURATION_STATE":
        new_state = validate_state(action.get("state"), unit_ids=unit_ids, label_choices=label_choices)
        out = {"type": t, "state": new_state}
        for key in ("revertTo", "importFormat"):
            if key in action:
                out[key] = action[key]
        return out
    return {"type": t}


def validate_state(state: Any, *, unit_ids: Sequence[Any], label_choices: Sequence[str]) -> dict:
    """A whole state (from an import or a revert) checked against the sorting's units and label choices."""
    state = normalize_state(state)
    lookup = UnitLookup(unit_ids)
    for u, labels in state["labelsByUnit"].items():
        lookup(u)
        unknown = [x for x in labels if x not in label_choices]
        if unknown:
            raise CurationError(
                f"unit {u} has labels {unknown} that are not label choices of this sorting "
                f"({', '.join(label_choices)}); add them with W.set_sorting_curation_label_choices first"
            )
    state["mergeGroups"] = _union_groups([[lookup(u) for u in g] for g in state["mergeGroups"]])
    return state


def check_label_choices(choices: Any) -> list[str]:
    if isinstance(choices, str) or not isinstance(choices, (list, tuple)):
        raise CurationError("label choices must be a list of strings, e.g. ['accept', 'reject', 'mua']")
    out = list(dict.fromkeys(choices))
    if len(out) < 2 or not all(isinstance(c, str) and c.strip() and c == c.strip() for c in out):
        raise CurationError(
            f"label choices must be two or more distinct non-empty strings without surrounding spaces, got {choices!r}"
            " (SpikeInterface's curation format needs at least two options)"
        )
    if len(out) > MAX_LABEL_CHOICES or any(len(c) > MAX_LABEL_CHARS for c in out):
        raise CurationError(f"label choices must be at most {MAX_LABEL_CHOICES} labels of at most {MAX_LABEL_CHARS} "
                            f"characters each; got {len(out)} labels, the longest {max(map(len, out))} characters")
    return out


def merged_id(group: Sequence[Any]) -> Any:
    """The id a merge group takes in the curated sorting: its smallest unit id."""
    return min(group, key=unit_sort_key)


def typed_state(state: dict, unit_ids: Sequence[Any]) -> dict:
    """``state`` with the keys of ``labelsByUnit`` as the sorting's own unit ids (ints for int ids), the types the
    original sortingview returned from ``get_sorting_curation``; ids the sorting lacks stay as they were."""
    by_text = {str(u): u for u in unit_ids}
    labels = {by_text.get(k, k): list(v) for k, v in state["labelsByUnit"].items()}
    groups = [[by_text.get(str(u), u) for u in g] for g in state["mergeGroups"]]
    return {"labelsByUnit": labels, "mergeGroups": groups, "isClosed": state["isClosed"]}


def adds_nothing(action: dict, state: dict) -> bool:
    """True for an ADD_UNIT_LABEL whose units all have the label already (the original skipped those)."""
    if action.get("type") != "ADD_UNIT_LABEL":
        return False
    return all(action["label"] in state["labelsByUnit"].get(str(u), []) for u in _as_list(action["unitId"]))
