"""Time a 400-unit views figure (MountainLayout: units table, autocorrelograms, average waveforms, spike
amplitudes) in headless Chromium, from opening the link to each view drawn. Target (issue 11 item 9): under 2 s.

The figure is ``bench/bench_views.py``'s seeded one (``make_figure``: 400 units, 600 s, spike times and
amplitudes as float32, 7-channel waveforms). ``view.url()`` stores it in a fresh store (timed: target under 1 s),
``sortingview-start-backend`` runs as a real process on a free port, and each repetition opens the link in a
new browser context (empty HTTP cache). Times are the page's own clock (``performance.now()``, 0 = navigation
start), read from the viewer's performance marks: ``sv:data-loaded`` (root and every view's JSON fetched),
``sv:drawn:<type>`` (a view's render finished), and the next animation frame after it (the frame on screen).
The Mountain layout shows the table and the first tab (autocorrelograms) at once; the other two tabs are opened
one after the other by clicking them, each timed from its click to its next frame.

Run: ``python bench/bench_views_viewer.py [--units 400] [--repeats 5]``.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

from bench_viewer_scale import CHROMIUM_ARGS, launch, load_line, mark_then_frame  # noqa: E402

TABS = [("Average waveforms", "AverageWaveforms"), ("Spike amplitudes", "SpikeAmplitudes")]


def open_once(browser, link: str, units: int) -> dict:
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = ctx.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(link, wait_until="commit")
    out = {"table": mark_then_frame(page, "sv:drawn:UnitsTable"),
           "acg": mark_then_frame(page, "sv:drawn:Autocorrelograms")}
    rows = page.evaluate("document.querySelectorAll('table.units tbody tr').length")
    acg = page.evaluate("(document.querySelector('[data-view-type=Autocorrelograms]') || {dataset: {}}).dataset.drawn")
    assert rows == units and acg == str(units), f"drawn {rows} rows and {acg} autocorrelograms, expected {units}"
    out["loaded"] = page.evaluate("performance.getEntriesByName('sv:data-loaded')[0].startTime") / 1000
    out["first"] = max(out["table"], out["acg"])
    for label, view_type in TABS:
        t0 = page.evaluate("performance.now()")
        page.get_by_role("tab", name=label).click()
        out[view_type] = mark_then_frame(page, f"sv:drawn:{view_type}") - t0 / 1000
    assert not errors, errors
    ctx.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--units", type=int, default=400)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    from bench_views import make_figure
    from test_browser_support import backend_process

    figure = make_figure(args.units, 7, 600.0, 5.0)
    with tempfile.TemporaryDirectory(prefix="bench-views-viewer-") as tmp:
        os.environ["KACHERY_CLOUD_DIR"] = os.path.join(tmp, "store")
        os.makedirs(os.environ["KACHERY_CLOUD_DIR"])
        with backend_process(tmp) as url:
            os.environ["SORTINGVIEW_URL"] = url
            t0 = time.perf_counter()
            link = figure.url(label="bench views")
            t_url = time.perf_counter() - t0
            runs = []
            from playwright.sync_api import sync_playwright
            with sync_playwright() as p:
                browser = launch(p)
                for i in range(args.repeats + 1):  # the first opening warms the server and OS caches: not counted
                    r = open_once(browser, link, args.units)
                    if i:
                        runs.append(r)
                browser.close()
    print(f"view.url() into an empty store: {t_url:.3f} s (target < 1 s: {'met' if t_url < 1 else 'NOT met'})")
    print(f"{args.units}-unit MountainLayout, {len(runs)} openings (median, min-max; s):")
    for key, what in [("loaded", "root + every view's JSON fetched"), ("table", "units table drawn (frame)"),
                      ("acg", f"{args.units} autocorrelograms drawn (frame)"),
                      ("first", "link -> table + autocorrelograms on screen"),
                      ("AverageWaveforms", "click tab -> average waveforms drawn"),
                      ("SpikeAmplitudes", "click tab -> spike amplitudes drawn")]:
        vals = [r[key] for r in runs]
        print(f"  {what:48s} {statistics.median(vals):.3f}  ({min(vals):.3f}-{max(vals):.3f})")
    first = statistics.median(r["first"] for r in runs)
    print(f"target: link -> drawn under 2 s: {'met' if first < 2 else 'NOT met'}")
    print(load_line())


if __name__ == "__main__":
    assert CHROMIUM_ARGS
    main()
