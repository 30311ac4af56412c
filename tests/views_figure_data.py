"""Figures of ``sortingview.views`` written as plain dicts (the 0.14.2 ``to_dict()`` formats), for the viewer
tests: seeded data for each view type, a layout around them, stored in the current store. (No tests here.)"""
from __future__ import annotations

from urllib.parse import quote

import numpy as np

from sortingview.serialize import encode_array
from sortingview.store import store_json


def arr(a, dtype="float32") -> dict:
    return encode_array(np.asarray(a, dtype=dtype))


def units_table(unit_ids, seed=0) -> dict:
    rng = np.random.default_rng(seed)
    return {"type": "UnitsTable",
            "columns": [{"key": "numEvents", "label": "Num. events", "dtype": "int"},
                        {"key": "firingRate", "label": "Firing rate (Hz)", "dtype": "float"}],
            "rows": [{"unitId": u, "values": {"numEvents": int(rng.integers(50, 5000)),
                                              "firingRate": float(rng.uniform(0.1, 40))}} for u in unit_ids]}


def autocorrelograms(unit_ids, seed=0) -> dict:
    rng = np.random.default_rng(seed)
    edges = np.linspace(-0.025, 0.025, 51)
    return {"type": "Autocorrelograms", "autocorrelograms": [
        {"unitId": u, "binEdgesSec": arr(edges), "binCounts": arr(rng.integers(0, 60, 50), "int32")} for u in unit_ids]}


def cross_correlograms(unit_ids, seed=0) -> dict:
    rng = np.random.default_rng(seed)
    edges = np.linspace(-0.025, 0.025, 51)
    return {"type": "CrossCorrelograms", "hideUnitSelector": False, "crossCorrelograms": [
        {"unitId1": a, "unitId2": b, "binEdgesSec": arr(edges), "binCounts": arr(rng.integers(0, 30, 50), "int32")}
        for a in unit_ids for b in unit_ids]}


def average_waveforms(unit_ids, num_channels=4, seed=0) -> dict:
    rng = np.random.default_rng(seed)
    t = np.linspace(-1, 2, 60)
    items = []
    for i, u in enumerate(unit_ids):
        # (channels x samples), as the original GUI and SpikeInterface's widgets write it
        shape = -np.exp(-(t * 4) ** 2)[None, :] * rng.uniform(20, 80, num_channels)[:, None]
        items.append({"unitId": u, "channelIds": list(range(num_channels)), "waveform": arr(shape),
                      "waveformStdDev": arr(np.full_like(shape, 40.0 if i == 0 else 5.0))})
    locations = {str(c): [0.0, 20.0 * c] for c in range(num_channels)}
    return {"type": "AverageWaveforms", "averageWaveforms": items, "channelLocations": locations}


def spike_amplitudes(unit_ids, seed=0) -> dict:
    rng = np.random.default_rng(seed)
    units = []
    for u in unit_ids:
        n = int(rng.integers(50, 300))
        units.append({"unitId": u, "spikeTimesSec": arr(np.sort(rng.uniform(0, 60, n))),
                      "spikeAmplitudes": arr(rng.normal(-60, 10, n))})
    return {"type": "SpikeAmplitudes", "startTimeSec": 0, "endTimeSec": 60, "units": units, "hideUnitSelector": False}


def store_figure(views: list[dict], layout: dict) -> str:
    """Store each view's data and the MainLayout root; return the root's sha1:// URI. ``layout`` names views
    by their index in ``views`` as ``{"type": "View", "viewId": "<index>"}``."""
    entries = [{"type": v["type"], "viewId": str(i), "dataUri": store_json(v)} for i, v in enumerate(views)]
    return store_json({"type": "MainLayout", "layout": layout, "views": entries})


def leaf(i: int) -> dict:
    return {"type": "View", "viewId": str(i)}


def mountain(views: list[dict], labels: list[str], controls: set[int]) -> dict:
    return {"type": "Mountain", "items": [leaf(i) for i in range(len(views))],
            "itemProperties": [{"label": labels[i], "isControl": i in controls} for i in range(len(views))]}


def figure_url(base: str, root_uri: str, label: str, state: dict | None = None) -> str:
    import json

    url = f"{base}/f?v=sortingview-views-1&d={root_uri}&label={quote(label)}"
    if state is not None:
        url += f"&s={quote(json.dumps(state))}"
    return url
