"""Test figures of sortingview.views written by hand in the 0.14.2 `to_dict()` formats (no tests here).

Each builder returns one view's data from a seeded generator; `store_figure` stores a MainLayout root whose
Box shows a UnitsTable beside the views, and returns the views link. Arrays go in as the figurl ndarray
encoding where the original's callers pass numpy arrays (spike times, locations), as lists elsewhere.
"""
from __future__ import annotations

import base64
import zlib

import numpy as np

from sortingview.serialize import encode_array
from sortingview.store import store_json

UNIT_IDS = [1, 2, 3, 4, 5, 6]


def channels() -> dict:
    """A 2 x 4 probe, 16 um across, 20 um between rows: {channelId: [x, y]} (a new dict each call)."""
    return {str(c): [float(16 * (c % 2)), float(20 * (c // 2))] for c in range(8)}


DURATION = 60.0


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def units_table(unit_ids=UNIT_IDS) -> dict:
    return {"type": "UnitsTable", "columns": [{"key": "num", "label": "Num. events", "dtype": "int"}],
            "rows": [{"unitId": u, "values": {"num": 10 * int(u)}} for u in unit_ids]}


def raster_plot(seed: int = 1) -> dict:
    rng = _rng(seed)
    plots = [{"unitId": u, "spikeTimesSec": encode_array(np.sort(rng.uniform(0, DURATION, 200)).astype("float32"))}
             for u in UNIT_IDS]
    return {"type": "RasterPlot", "startTimeSec": 0.0, "endTimeSec": DURATION, "plots": plots}


def unit_locations(seed: int = 2) -> dict:
    rng = _rng(seed)
    units = [{"unitId": u, "x": float(rng.uniform(0, 16)), "y": float(rng.uniform(0, 60))} for u in UNIT_IDS]
    return {"type": "UnitLocations", "units": units, "channelLocations": channels(), "disableAutoRotate": True}


def spike_locations(seed: int = 3) -> dict:
    rng = _rng(seed)
    units = []
    for u in UNIT_IDS:
        n = 150
        center = rng.uniform([0, 0], [16, 60])
        times = np.sort(rng.uniform(0, DURATION, n)).astype("float32")
        units.append({"unitId": u, "spikeTimesSec": encode_array(times),
                      "xLocations": encode_array((center[0] + rng.normal(0, 2, n)).astype("float32")),
                      "yLocations": encode_array((center[1] + rng.normal(0, 2, n)).astype("float32"))})
    locs = {k: encode_array(np.array(v, dtype="float32")) for k, v in channels().items()}
    return {"type": "SpikeLocations", "units": units, "xRange": [0.0, 16.0], "yRange": [0.0, 60.0],
            "hideUnitSelector": False, "channelLocations": locs, "disableAutoRotate": True}


def unit_similarity_matrix(seed: int = 4) -> dict:
    rng = _rng(seed)
    scores = [{"unitId1": a, "unitId2": b, "similarity": 1.0 if a == b else float(rng.uniform(0, 0.8))}
              for a in UNIT_IDS for b in UNIT_IDS]
    return {"type": "UnitSimilarityMatrix", "unitIds": UNIT_IDS, "similarityScores": scores}


def confusion_matrix(seed: int = 5) -> dict:
    rng = _rng(seed)
    counts = [{"unitId": u, "count": 100} for u in UNIT_IDS]
    matching = [{"unitId1": a, "unitId2": b, "count": int(90 if a == b else rng.integers(0, 20))}
                for a in UNIT_IDS for b in UNIT_IDS]
    return {"type": "ConfusionMatrix", "sorting1UnitIds": UNIT_IDS, "sorting2UnitIds": UNIT_IDS,
            "unitEventCounts": counts, "matchingUnitEventCounts": matching}


def unit_metrics_graph(seed: int = 6) -> dict:
    rng = _rng(seed)
    metrics = [{"key": "firing_rate", "label": "Firing rate (Hz)", "dtype": "float"},
               {"key": "snr", "label": "SNR", "dtype": "float"}]
    units = [{"unitId": u, "values": {"firing_rate": float(rng.uniform(1, 20)), "snr": float(rng.uniform(2, 12))}}
             for u in UNIT_IDS]
    return {"type": "UnitMetricsGraph", "units": units, "metrics": metrics}


def electrode_geometry() -> dict:
    return {"type": "ElectrodeGeometry", "channelLocations": channels()}


def _tiny_png(rgb: tuple[int, int, int], size: int = 8) -> str:
    raw = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))

    def chunk(tag: bytes, body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + tag + body + zlib.crc32(tag + body).to_bytes(4, "big")

    ihdr = size.to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    return "data:image/png;base64," + base64.b64encode(png).decode()


def unit_images() -> dict:
    items = [{"unitId": u, "url": _tiny_png((40 * u % 256, 90, 200))} for u in UNIT_IDS]
    return {"type": "UnitImages", "items": items, "itemWidth": 120, "itemHeight": 90}


def sorting_summary() -> dict:
    locs = np.array(list(channels().values()), dtype="float32")
    return {"type": "Summary", "recordingDescription": "seeded recording <b>8 channels</b>",
            "sortingDescription": "seeded sorting", "unitIds": UNIT_IDS, "channelIds": list(range(8)),
            "samplingFrequency": 30000.0, "numFrames": 1800000, "numSegments": 1,
            "channelLocations": encode_array(locs), "noiseLevel": 7.5}


BUILDERS = {
    "RasterPlot": raster_plot, "UnitLocations": unit_locations, "SpikeLocations": spike_locations,
    "UnitSimilarityMatrix": unit_similarity_matrix, "ConfusionMatrix": confusion_matrix,
    "UnitMetricsGraph": unit_metrics_graph, "ElectrodeGeometry": electrode_geometry, "UnitImages": unit_images,
    "Summary": sorting_summary,
}


def store_figure(base_url: str, views: list[dict], *, label: str = "test figure", with_table: bool = True) -> str:
    """Store each view's data and a MainLayout root (a horizontal Box: units table first); return the link."""
    if with_table:
        views = [units_table()] + views
    entries = []
    for i, data in enumerate(views):
        entries.append({"type": data["type"], "viewId": f"view-{i}", "dataUri": store_json(data)})
    props = [{"maxSize": 260} if (with_table and i == 0) else {} for i in range(len(entries))]
    items = [{"type": "View", "viewId": e["viewId"]} for e in entries]
    layout = {"type": "Box", "direction": "horizontal", "items": items, "itemProperties": props}
    root_uri = store_json({"type": "MainLayout", "layout": layout, "views": entries})
    sha1 = root_uri.split("://", 1)[1].split("?", 1)[0]
    return f"{base_url}/f?v=sortingview-views-1&d=sha1://{sha1}&label={label.replace(' ', '%20')}"
