"""Time from opening a figURL to the units table and all autocorrelograms drawn, in headless Chromium.

A seeded 400-unit sorting (``generate_ground_truth_recording``) is added to a workspace in a fresh store;
the viewer's first requests are precomputed (``sortingview.backend.precompute.viewer_requests`` run inline,
so the job ids are exactly the viewer's); then ``sortingview-start-backend`` runs as a real process and each
repetition opens the link in a new browser context (empty HTTP cache) and measures, with the page's own clock
(``performance.now()``, 0 = navigation start), when the table has a row per unit with its metrics and every
autocorrelogram canvas is drawn.

Peer, in the same run: SpikeInterface's ``plot_autocorrelograms`` (matplotlib, Agg) drawing the same 400
autocorrelograms to a PNG, with its correlograms also precomputed (only the drawing is timed), i.e. what a
neuroscientist otherwise runs to look at every unit's autocorrelogram.

Run: ``python bench/bench_viewer.py [--units 400] [--channels 32] [--duration 60] [--repeats 5]``.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
READY_JS = """(n) => {
  const rows = document.querySelectorAll('table.units tbody tr').length;
  const withMetrics = document.querySelectorAll('table.units tbody tr td.num').length > 0;
  const acg = document.querySelector('#acg-view');
  const drawn = acg && acg.dataset.drawn === String(n);
  return rows === n && withMetrics && drawn ? performance.now() : false;
}"""


def make_workspace(workdir: str, units: int, channels: int, duration: float):
    from datasets import make_dataset

    from sortingview.backend.precompute import viewer_requests
    from sortingview.tasks import run_task_inline
    from sortingview.workspace import create_workspace

    t0 = time.perf_counter()
    ds = make_dataset(workdir, seed=400, num_channels=channels, durations=duration, num_units=units)
    W = create_workspace(label="bench viewer")
    rid = W.add_recording(label="rec", recording=ds.recording)
    sid = W.add_sorting(recording_id=rid, label=f"{units} units", sorting=ds.sorting)
    t1 = time.perf_counter()
    for name, task_input in viewer_requests(W, sid):
        run_task_inline(name, task_input)
    t2 = time.perf_counter()
    print(f"dataset {units} units x {channels} ch x {duration:g} s: made in {t1 - t0:.1f} s, "
          f"viewer tasks precomputed in {t2 - t1:.1f} s", flush=True)
    return W, rid, sid, ds


def time_viewer(link: str, units: int, repeats: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=os.environ.get("SORTINGVIEW_CHROMIUM", "/usr/bin/chromium"),
                                    args=CHROMIUM_ARGS)
        for i in range(repeats + 1):  # the first opening warms the server and the OS caches; not counted
            ctx = browser.new_context(viewport={"width": 1600, "height": 1000})
            page = ctx.new_page()
            page.goto(link, wait_until="commit")
            ms = page.wait_for_function(READY_JS, arg=units, polling="raf", timeout=120_000).json_value()
            if i > 0:
                times.append(ms / 1000)
            ctx.close()
        browser.close()
    return times


def time_peer(ds, repeats: int) -> list[float]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import spikeinterface.widgets as sw
    from spikeinterface.core import create_sorting_analyzer

    analyzer = create_sorting_analyzer(ds.sorting, ds.recording, format="memory", sparse=False)
    analyzer.compute("correlograms", window_ms=50.0, bin_ms=1.0)
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeats):
            t0 = time.perf_counter()
            w = sw.plot_autocorrelograms(analyzer, backend="matplotlib")
            w.figure.savefig(os.path.join(tmp, "acg.png"), dpi=72)
            times.append(time.perf_counter() - t0)
            plt.close("all")
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--units", type=int, default=400)
    ap.add_argument("--channels", type=int, default=32)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--peer-repeats", type=int, default=2)
    args = ap.parse_args()
    from test_browser_support import backend_process

    with tempfile.TemporaryDirectory(prefix="bench-viewer-") as tmp:
        os.environ["KACHERY_CLOUD_DIR"] = os.path.join(tmp, "store")
        os.makedirs(os.environ["KACHERY_CLOUD_DIR"])
        W, rid, sid, ds = make_workspace(tmp, args.units, args.channels, args.duration)
        with backend_process(tmp) as url:
            link = W.spikesortingview(recording_id=rid, sorting_id=sid, label="bench", base_url=url)
            viewer = time_viewer(link, args.units, args.repeats)
        print("viewer openings (s): " + ", ".join(f"{t:.3f}" for t in viewer), flush=True)
        peer = time_peer(ds, args.peer_repeats)
    v, pm = statistics.median(viewer), statistics.median(peer)
    print(f"\nviewer: link opened -> table ({args.units} rows with metrics) + {args.units} autocorrelograms drawn")
    print(f"  median {v:.3f} s, min {min(viewer):.3f} s, max {max(viewer):.3f} s over {len(viewer)} openings "
          f"(target < 1.5 s: {'met' if v < 1.5 else 'NOT met'})")
    print(f"peer: spikeinterface plot_autocorrelograms (matplotlib) -> PNG, {args.units} units")
    print(f"  median {pm:.3f} s over {len(peer)} runs")
    print(f"ratio: the viewer takes {v / pm:.3f}x the peer's time ({pm / v:.1f}x faster)")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
