"""The curated sorting, and curations written to / read from other tools' formats.

* ``spikeinterface``: SpikeInterface's curation format v2 (what ``spikeinterface.curation.apply_curation``
  validates and applies): one non-exclusive label category ``quality`` whose options are the label choices,
  ``manual_labels`` per labelled unit, ``merges`` with ``new_unit_id`` = the smallest id of the group.
* ``phy``: ``cluster_group.tsv`` (``cluster_id<TAB>group``) for the units of the curated sorting; our labels map
  to phy's groups: noise/artifact/reject -> noise, mua -> mua, accept -> good, anything else -> unsorted.
* ``sortingview``: ``{labelsByUnit, mergeGroups, labelChoices, isClosed}``.
"""
from __future__ import annotations

import csv
import json
import os
from typing import Any

import numpy as np

from ..errors import CurationError
from . import curation as C

FORMATS = ("spikeinterface", "phy", "sortingview")
LABEL_CATEGORY = "quality"
PHY_GROUPS = (("noise", "noise"), ("artifact", "noise"), ("reject", "noise"), ("mua", "mua"), ("accept", "good"))


def _check_format(fmt: str, allowed=FORMATS) -> None:
    if fmt not in allowed:
        raise CurationError(f"unknown curation format {fmt!r}; use one of {', '.join(allowed)}")


def _curated_units(unit_ids: list, state: dict) -> list[tuple[Any, list]]:
    """(new unit id, member unit ids) for every unit of the curated sorting, in the original order."""
    lookup = C.UnitLookup(unit_ids)
    group_of = {}
    for group in state["mergeGroups"]:
        members = [lookup(u) for u in group]
        for u in members:
            group_of[str(u)] = members
    out, seen = [], set()
    for u in unit_ids:
        members = group_of.get(str(u), [u])
        new_id = C.merged_id(members)
        if str(new_id) not in seen:
            seen.add(str(new_id))
            out.append((new_id, members))
    return out


def _labels_of(members: list, state: dict) -> list[str]:
    return sorted({x for u in members for x in state["labelsByUnit"].get(str(u), [])})


def out_of_range_spikes(sorting, num_frames: list[int]) -> int:
    """How many spikes lie before frame 0 or at or after the end of their segment of the recording."""
    n = 0
    for seg, frames in enumerate(num_frames[:sorting.get_num_segments()]):
        for u in sorting.get_unit_ids():
            train = np.asarray(sorting.get_unit_spike_train(u, segment_index=seg))
            n += int(np.count_nonzero((train < 0) | (train >= frames)))
    return n


def curated_sorting(sorting, state: dict, label_choices: list[str], num_frames: list[int] | None = None):
    """A NumpySorting with merges applied (spike trains united, in time order) and labels as unit properties:
    ``labels`` (comma-separated), one boolean property per label choice, and ``merged_unit_ids``.

    With ``num_frames`` (frames per segment of the recording), spikes outside the recording are dropped, with
    a warning that counts them; the count is the annotation ``dropped_out_of_range_spikes``.
    """
    import warnings

    from spikeinterface.core import NumpySorting

    unit_ids = [u.item() if hasattr(u, "item") else u for u in sorting.get_unit_ids()]
    units = _curated_units(unit_ids, state)
    per_segment, dropped = [], 0
    for seg in range(sorting.get_num_segments()):
        trains = {}
        for new_id, members in units:
            parts = [np.asarray(sorting.get_unit_spike_train(m, segment_index=seg)) for m in members]
            train = np.sort(np.concatenate(parts), kind="stable").astype(np.int64)
            if num_frames is not None and seg < len(num_frames):
                inside = (train >= 0) & (train < num_frames[seg])
                dropped += int(train.size - np.count_nonzero(inside))
                train = train[inside]
            trains[new_id] = train
        per_segment.append(trains)
    if dropped:
        warnings.warn(f"{dropped} spike(s) lie outside the recording (before frame 0 or after its last frame) and "
                      "were dropped from the curated sorting", RuntimeWarning, stacklevel=3)
    out = NumpySorting.from_unit_dict(per_segment, sorting.get_sampling_frequency())
    out.annotate(dropped_out_of_range_spikes=dropped)
    labels = [_labels_of(members, state) for _, members in units]
    out.set_property("labels", np.array([",".join(x) for x in labels], dtype=str))
    for choice in dict.fromkeys([*label_choices, *(x for lab in labels for x in lab)]):
        out.set_property(choice, np.array([choice in lab for lab in labels], dtype=bool))
    out.set_property("merged_unit_ids", np.array([",".join(str(m) for m in members) for _, members in units]))
    return out


# --- export -----------------------------------------------------------------------------------------------
def spikeinterface_dict(state: dict, unit_ids: list, label_choices: list[str]) -> dict:
    lookup = C.UnitLookup(unit_ids)
    options = list(dict.fromkeys([*label_choices, *(x for v in state["labelsByUnit"].values() for x in v)]))
    manual = [{"unit_id": lookup(u), "labels": {LABEL_CATEGORY: list(v)}}
              for u, v in sorted(state["labelsByUnit"].items(), key=lambda kv: C.unit_sort_key(kv[0]))]
    merges = [{"unit_ids": [lookup(u) for u in g], "new_unit_id": lookup(C.merged_id(g))}
              for g in state["mergeGroups"]]
    return {
        "format_version": "2",
        "unit_ids": list(unit_ids),
        "label_definitions": {LABEL_CATEGORY: {"name": LABEL_CATEGORY, "label_options": options, "exclusive": False}},
        "manual_labels": manual,
        "merges": merges,
        "splits": [],
        "removed": [],
    }


def phy_group(labels: list[str]) -> str:
    for label, group in PHY_GROUPS:
        if label in labels:
            return group
    return "unsorted"


def export_curation(state: dict, unit_ids: list, label_choices: list[str], path: str, fmt: str) -> str:
    _check_format(fmt)
    path = os.fspath(path)
    if fmt == "phy":
        if os.path.isdir(path):
            path = os.path.join(path, "cluster_group.tsv")
        with open(path, "w", newline="") as f:
            w = csv.writer(f, delimiter="\t", lineterminator="\n")
            w.writerow(["cluster_id", "group"])
            for new_id, members in _curated_units(unit_ids, state):
                w.writerow([new_id, phy_group(_labels_of(members, state))])
        return path
    if fmt == "spikeinterface":
        obj = spikeinterface_dict(state, unit_ids, label_choices)
    else:
        obj = {**state, "labelChoices": list(label_choices)}
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
    return path


# --- import -----------------------------------------------------------------------------------------------
def _load(path_or_dict) -> dict:
    if isinstance(path_or_dict, dict):
        return path_or_dict
    try:
        with open(path_or_dict) as f:
            return json.load(f)
    except OSError as exc:
        raise CurationError(f"cannot read the curation file {path_or_dict}: {exc.strerror}") from exc
    except ValueError as exc:
        raise CurationError(f"{path_or_dict} is not JSON: {exc}") from exc


def _from_spikeinterface(d: dict) -> tuple[dict, list[str]]:
    from spikeinterface.curation.curation_model import Curation

    try:
        model = Curation(**d)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise CurationError(f"not a valid SpikeInterface curation: {exc}") from exc
    if model.splits or model.removed:
        raise CurationError("this SpikeInterface curation splits or removes units, which a sortingview curation "
                            "cannot express; label those units (e.g. 'reject') instead and import again")
    labels: dict[str, list[str]] = {}
    for ml in model.manual_labels:
        values = [x for v in ml.labels.values() for x in v]
        if values:
            labels[str(ml.unit_id)] = sorted(set(values))
    choices = list(dict.fromkeys(x for ld in model.label_definitions.values() for x in ld.label_options))
    state = {"labelsByUnit": labels, "mergeGroups": [list(m.unit_ids) for m in model.merges], "isClosed": False}
    return C.normalize_state(state), choices


def read_curation(path_or_dict, fmt: str) -> tuple[dict, list[str] | None]:
    """(state, label choices or None) of a curation in the ``spikeinterface`` or ``sortingview`` format."""
    _check_format(fmt, ("spikeinterface", "sortingview"))
    d = _load(path_or_dict)
    if not isinstance(d, dict):
        raise CurationError("a curation file must hold a JSON object")
    if fmt == "spikeinterface":
        return _from_spikeinterface(d)
    choices = d.get("labelChoices")
    return C.normalize_state(d), (C.check_label_choices(choices) if choices is not None else None)
