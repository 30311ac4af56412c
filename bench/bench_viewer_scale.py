"""The viewer at Neuropixels scale in headless Chromium (issue 13 item 3, viewer part), three parts:

* ``table``: the workspace viewer of a 1,000-unit sorting (``tests/datasets.make_dataset``, seeded): link ->
  units table (a row per unit with its metrics) and every autocorrelogram drawn, with the viewer's tasks
  cached (precomputed inline, the viewer's own job ids; median over openings in new browser contexts) and
  uncached (a fresh store, the backend computes them: time to first view). Target: cached under 1.5 s.
* ``amplitudes``: a SpikeAmplitudes views figure of 2,000,000 spikes (40 units x 50,000, numpy data):
  link -> drawn, and the draw alone (``sv:drawn`` minus ``sv:data-loaded``); then zoomed in (wheel) until
  exact points are drawn. Target: drawn under 1 s.
* ``traces``: the workspace viewer's traces of a 384-channel recording: frames per second while a script
  pans (drag) and zooms (wheel) for a few seconds, from ``requestAnimationFrame`` timestamps in the page
  (while moving, frames show the last exact drawing moved and stretched), and the duration of the exact
  drawings of all 384 channels that follow when the window settles (``sv:traces-exact`` measures).
  Target: at least 30 frames per second.

Times are the page's clock (``performance.now()``, 0 = navigation start) and the viewer's performance marks.
``sortingview-start-backend`` runs as a real process on a free port with a temporary store.

Run: ``python bench/bench_viewer_scale.py [--parts table,amplitudes,traces] [--units 1000] [--repeats 3]``.
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
# frame intervals while pan/zoom events are dispatched, one per animation frame, for `ms` milliseconds
FPS_JS = """async ([ms, mode]) => {
  const canvas = document.querySelector('canvas.traces');
  const r = canvas.getBoundingClientRect();
  const x = r.left + r.width / 2, y = r.top + r.height / 2;
  const stamps = [];
  const t0 = performance.now();
  let i = 0;
  const pointer = (type, px) => canvas.dispatchEvent(new PointerEvent(type,
    {clientX: px, clientY: y, pointerId: 1, bubbles: true}));
  const wheel = (dy) => canvas.dispatchEvent(new WheelEvent('wheel',
    {clientX: x, clientY: y, deltaY: dy, bubbles: true, cancelable: true}));
  if (mode === 'drag') pointer('pointerdown', x);
  await new Promise((done) => {
    const step = (t) => {
      stamps.push(t);
      if (t - t0 > ms) { done(); return; }
      i++;
      if (mode === 'drag') pointer('pointermove', x - 3 * (i % 100));
      else wheel((Math.floor(i / 10) % 2) ? 100 : -100);
      requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  });
  if (mode === 'drag') pointer('pointerup', x);
  const gaps = stamps.slice(1).map((t, j) => t - stamps[j]);
  return {frames: gaps.length, seconds: (stamps[stamps.length - 1] - stamps[0]) / 1000, gaps};
}"""


def launch(p):
    return p.chromium.launch(executable_path=os.environ.get("SORTINGVIEW_CHROMIUM", "/usr/bin/chromium"),
                             args=CHROMIUM_ARGS)


def load_line() -> str:
    return "load average (shared 2-core machine): " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def mark_then_frame(page, name: str, timeout: float = 120_000) -> float:
    """Seconds since navigation start of the first animation frame after the performance mark ``name``."""
    js = "(n) => performance.getEntriesByName(n).length ? performance.now() : false"
    return page.wait_for_function(js, arg=name, polling="raf", timeout=timeout).json_value() / 1000


def new_page(browser):
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = ctx.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    return ctx, page, errors


def workspace(tmp: str, *, units: int, channels: int, duration: float, precompute: bool, seed: int):
    from datasets import make_dataset

    from sortingview.backend.precompute import viewer_requests
    from sortingview.tasks import run_task_inline
    from sortingview.workspace import create_workspace

    ds = make_dataset(tmp, seed=seed, num_channels=channels, durations=duration, num_units=units)
    W = create_workspace(label="bench viewer scale")
    rid = W.add_recording(label="rec", recording=ds.recording)
    sid = W.add_sorting(recording_id=rid, label=f"{units} units", sorting=ds.sorting)
    if precompute:
        t0 = time.perf_counter()
        for name, task_input in viewer_requests(W, sid):
            run_task_inline(name, task_input)
        print(f"  viewer tasks precomputed in {time.perf_counter() - t0:.1f} s", flush=True)
    return W, rid, sid


def fresh_store(tmp: str, name: str) -> None:
    os.environ["KACHERY_CLOUD_DIR"] = os.path.join(tmp, name)
    os.makedirs(os.environ["KACHERY_CLOUD_DIR"])


def open_table(browser, link: str, units: int) -> float:
    ctx, page, errors = new_page(browser)
    page.goto(link, wait_until="commit")
    ms = page.wait_for_function(READY_JS, arg=units, polling="raf", timeout=600_000).json_value()
    assert not errors, errors
    ctx.close()
    return ms / 1000


def part_table(p, tmp: str, args) -> None:
    from test_browser_support import backend_process

    fresh_store(tmp, "store-table")
    t0 = time.perf_counter()
    W, rid, sid = workspace(tmp, units=args.units, channels=32, duration=120.0, precompute=True, seed=1000)
    print(f"table: {args.units} units x 32 channels x 120 s, made in {time.perf_counter() - t0:.1f} s", flush=True)
    with backend_process(tmp) as url:
        link = W.spikesortingview(recording_id=rid, sorting_id=sid, label="bench", base_url=url)
        browser = launch(p)
        times = [open_table(browser, link, args.units) for _ in range(args.repeats + 1)][1:]
        browser.close()
    med = statistics.median(times)
    print(f"  cached: link -> table + {args.units} autocorrelograms drawn: median {med:.3f} s "
          f"({min(times):.3f}-{max(times):.3f}, {len(times)} openings; "
          f"target < 1.5 s: {'met' if med < 1.5 else 'NOT met'})")
    fresh_store(tmp, "store-uncached")
    W, rid, sid = workspace(os.path.join(tmp, "u"), units=args.units, channels=32, duration=120.0, precompute=False,
                            seed=1001)
    with backend_process(tmp) as url:
        link = W.spikesortingview(recording_id=rid, sorting_id=sid, label="bench", base_url=url)
        browser = launch(p)
        first = open_table(browser, link, args.units)
        browser.close()
    print(f"  uncached (a new sorting, the backend computes metrics and correlograms): time to first view "
          f"{first:.3f} s", flush=True)


def amplitudes_figure(units: int, per_unit: int, duration: float = 1800.0):
    import numpy as np

    import sortingview.views as vv

    rng = np.random.default_rng(2000)
    plots = [vv.SpikeAmplitudesItem(u, np.sort(rng.random(per_unit) * duration).astype(np.float32),
                                    rng.normal(-60 - 3 * u, 8, per_unit).astype(np.float32))
             for u in range(1, units + 1)]
    return vv.SpikeAmplitudes(start_time_sec=0, end_time_sec=duration, plots=plots)


def part_amplitudes(p, tmp: str, args) -> None:
    from test_browser_support import backend_process

    fresh_store(tmp, "store-amps")
    view = amplitudes_figure(40, args.spikes // 40)
    with backend_process(tmp) as url:
        os.environ["SORTINGVIEW_URL"] = url
        t0 = time.perf_counter()
        link = view.url(label="bench amplitudes")
        print(f"amplitudes: {args.spikes} spikes, view.url() {time.perf_counter() - t0:.2f} s", flush=True)
        browser = launch(p)
        runs = []
        for i in range(args.repeats + 1):
            ctx, page, errors = new_page(browser)
            page.goto(link, wait_until="commit")
            drawn = mark_then_frame(page, "sv:drawn:SpikeAmplitudes")
            marks = page.evaluate("""() => Object.fromEntries(['sv:data-loaded', 'sv:drawn:SpikeAmplitudes']
                .map((n) => [n, performance.getEntriesByName(n)[0].startTime / 1000]))""")
            zoom = zoom_to_points(page)
            assert not errors, errors
            ctx.close()
            if i:
                runs.append((marks["sv:data-loaded"], drawn, drawn - marks["sv:data-loaded"], zoom))
        browser.close()
    for j, what in enumerate(["link -> data fetched", "link -> drawn (frame)", "data fetched -> drawn",
                              "zoomed to exact points: wheel -> drawn"]):
        vals = [r[j] for r in runs]
        print(f"  {what:40s} median {statistics.median(vals):.3f} s ({min(vals):.3f}-{max(vals):.3f})")


def zoom_to_points(page) -> float:
    """Wheel-zoom the amplitudes in until it draws exact points; seconds of the last wheel step to its frame."""
    box = page.locator("canvas.amplitudes").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(40):
        if page.evaluate("document.querySelector('canvas.amplitudes').dataset.mode") == "points":
            break
        t0 = page.evaluate("performance.now()")
        page.mouse.wheel(0, -400)
        t1 = page.wait_for_function("(t) => { const m = performance.getEntriesByName('sv:amplitudes-drawn').pop();"
                                    " return m && m.startTime > t ? performance.now() : false; }", arg=t0,
                                    polling="raf").json_value()
    assert page.evaluate("document.querySelector('canvas.amplitudes').dataset.mode") == "points"
    return (t1 - t0) / 1000


def part_traces(p, tmp: str, args) -> None:
    from test_browser_support import backend_process

    fresh_store(tmp, "store-traces")
    t0 = time.perf_counter()
    W, rid, sid = workspace(os.path.join(tmp, "t"), units=20, channels=384, duration=20.0, precompute=False, seed=384)
    print(f"traces: 384 channels x 20 s, made in {time.perf_counter() - t0:.1f} s", flush=True)
    with backend_process(tmp) as url:
        link = W.spikesortingview(recording_id=rid, sorting_id=sid, label="bench", base_url=url)
        browser = launch(p)
        ctx, page, errors = new_page(browser)
        page.goto(link + "&s=" + '{"view":"traces"}'.replace('"', "%22"))
        page.wait_for_function("() => { const c = document.querySelector('canvas.traces');"
                               " return !!c && c.dataset.drawn === '384'; }", timeout=300_000)
        results = {}
        for mode in ("drag", "wheel"):
            for _ in range(args.repeats):
                r = page.evaluate(FPS_JS, [3000, mode])
                results.setdefault(mode, []).append(r["frames"] / r["seconds"])
        worst = page.evaluate(FPS_JS, [3000, "drag"])
        page.wait_for_timeout(1000)  # the exact drawing once the window settles
        exact = page.evaluate("() => performance.getEntriesByName('sv:traces-exact').map((m) => m.duration)")
        assert not errors, errors
        ctx.close()
        browser.close()
    for mode, fps in results.items():
        med = statistics.median(fps)
        print(f"  {mode:5s}: {med:.1f} frames/s median ({min(fps):.1f}-{max(fps):.1f}, {len(fps)} runs of 3 s; "
              f"target >= 30: {'met' if med >= 30 else 'NOT met'})")
    print(f"  drag frame gaps: median {statistics.median(worst['gaps']):.1f} ms, max {max(worst['gaps']):.1f} ms")
    print(f"  exact drawing of 384 channels (after the window settles; {len(exact)} drawings): median "
          f"{statistics.median(exact):.1f} ms, max {max(exact):.1f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--parts", default="table,amplitudes,traces")
    ap.add_argument("--units", type=int, default=1000)
    ap.add_argument("--spikes", type=int, default=2_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    parts = {"table": part_table, "amplitudes": part_amplitudes, "traces": part_traces}
    with tempfile.TemporaryDirectory(prefix="bench-viewer-scale-") as tmp, sync_playwright() as p:
        for name in args.parts.split(","):
            parts[name](p, tmp, args)
            print(load_line(), flush=True)


if __name__ == "__main__":
    main()
