"""Time ``view.url()`` for a 400-unit MountainLayout (units table, autocorrelograms, average waveforms,
spike amplitudes) once its data is computed. Target: under 1 s.

The data are seeded and shaped like a real sorting: ``--units`` units firing at log-normal rates (median
``--rate`` Hz) over ``--duration`` s (spike times and amplitudes as float32), 50-bin autocorrelograms,
average waveforms of ``--channels`` channels x 90 samples with their standard deviation, and a units
table of five columns. Timed, end to end as a user gets the link: ``view.url(label=...)`` into an empty
store (a fresh ``KACHERY_CLOUD_DIR`` per repetition) and again into the store that already holds the figure.

Peer, in the same run: the original's path for the same views, i.e. figurl's serialization (every array
zlib-compressed at level 9, as figurl's ``Figure`` did) and kachery-cloud's ``store_json(local=True)`` for
each view's data and for the root (kachery-cloud's local store; no network).

Run: ``python bench/bench_views.py [--units 400] [--channels 7] [--duration 600] [--rate 5] [--repeats 5]``.
"""
from __future__ import annotations

import argparse
import base64
import os
import statistics
import sys
import tempfile
import time
import zlib

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sortingview.views as vv  # noqa: E402


def make_figure(units: int, channels: int, duration: float, rate: float, seed: int = 400) -> vv.MountainLayout:
    rng = np.random.default_rng(seed)
    ids = list(range(1, units + 1))
    counts = rng.poisson(rng.lognormal(np.log(rate), 0.8, units) * duration)
    edges = np.linspace(-0.025, 0.025, 51).astype(np.float32)
    columns = [vv.UnitsTableColumn(key, key, dtype) for key, dtype in
               (("unitId", "int"), ("numEvents", "int"), ("firingRateHz", "float"), ("snr", "float"),
                ("isiViolations", "float"))]
    rows, acgs, waveforms, amplitudes = [], [], [], []
    for u, n in zip(ids, counts, strict=True):
        times = np.sort(rng.random(n) * duration).astype(np.float32)
        rows.append(vv.UnitsTableRow(u, {"unitId": u, "numEvents": int(n), "firingRateHz": n / duration,
                                         "snr": float(rng.random() * 20), "isiViolations": float(rng.random() / 10)}))
        acgs.append(vv.AutocorrelogramItem(u, edges, rng.poisson(n / 500, 50).astype(np.int32)))
        wave = rng.normal(0, 20, (channels, 90)).astype(np.float32)
        waveforms.append(vv.AverageWaveformItem(u, list(range(channels)), wave, np.abs(wave) / 4))
        amplitudes.append(vv.SpikeAmplitudesItem(u, times, rng.normal(-80, 10, n).astype(np.float32)))
    locations = {str(c): [0.0, 20.0 * c] for c in range(channels)}
    item = vv.MountainLayoutItem
    return vv.MountainLayout(items=[
        item(label="Units", view=vv.UnitsTable(columns=columns, rows=rows), is_control=True),
        item(label="Autocorrelograms", view=vv.Autocorrelograms(acgs)),
        item(label="Average waveforms", view=vv.AverageWaveforms(waveforms, channel_locations=locations)),
        item(label="Spike amplitudes", view=vv.SpikeAmplitudes(start_time_sec=0, end_time_sec=duration,
                                                               plots=amplitudes)),
    ])


def _figurl_serialize(x):
    """figurl's serialization of figure data (arrays zlib level 9 in data_gzip_b64), for the peer."""
    if isinstance(x, np.ndarray):
        return {"_type": "ndarray", "shape": list(x.shape), "dtype": str(x.dtype),
                "data_gzip_b64": base64.b64encode(zlib.compress(x.ravel().tobytes(), level=9)).decode()}
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, dict):
        return {k: _figurl_serialize(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_figurl_serialize(v) for v in x]
    return x


def original_path(layout: vv.View) -> str:
    import kachery_cloud as kcl

    from sortingview.views._figure import number_views

    views = number_views(layout)
    entries = [{"type": v.type, "viewId": v.id,
                "dataUri": kcl.store_json(_figurl_serialize(v.to_dict()), local=True)}
               for v in views if not v.is_layout]
    return kcl.store_json({"type": "MainLayout", "layout": layout.to_dict(), "views": entries}, local=True)


def stored_bytes(directory: str) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(directory) for f in files)


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run(args) -> None:
    t0 = time.perf_counter()
    figure = make_figure(args.units, args.channels, args.duration, args.rate)
    spikes = sum(len(p.spike_times_sec) for p in figure._items[3].view._plots)
    print(f"figure: {args.units} units, {spikes} spikes, {args.channels} channels (built in "
          f"{time.perf_counter() - t0:.1f} s)", flush=True)
    cold, warm, peer, sizes = [], [], [], {}
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as d:
            os.environ["KACHERY_CLOUD_DIR"] = d
            cold.append(timed(lambda: figure.url(label="bench")))
            warm.append(timed(lambda: figure.url(label="bench")))
            sizes["ours"] = stored_bytes(d)
        with tempfile.TemporaryDirectory() as d:
            os.environ["KACHERY_CLOUD_DIR"] = d
            peer.append(timed(lambda: original_path(figure)))
            sizes["original"] = stored_bytes(d)
    ours, theirs = statistics.median(cold), statistics.median(peer)
    print(f"view.url(), empty store:   median {ours:.3f} s  (min {min(cold):.3f}, n={len(cold)})  "
          f"target < 1 s: {'met' if ours < 1 else 'NOT met'}")
    print(f"view.url(), figure stored: median {statistics.median(warm):.3f} s  (min {min(warm):.3f})")
    print(f"original path (figurl serialize + kachery-cloud store_json local): median {theirs:.3f} s  "
          f"(min {min(peer):.3f})")
    print(f"ratio original / ours: {theirs / ours:.2f}x; stored: ours {sizes['ours'] / 1e6:.1f} MB, original "
          f"{sizes['original'] / 1e6:.1f} MB (float arrays uncompressed here, zlib level 9 there)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--units", type=int, default=400)
    p.add_argument("--channels", type=int, default=7)
    p.add_argument("--duration", type=float, default=600.0)
    p.add_argument("--rate", type=float, default=5.0)
    p.add_argument("--repeats", type=int, default=5)
    run(p.parse_args())


if __name__ == "__main__":
    main()
