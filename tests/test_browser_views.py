"""The viewer's on-demand views (cross-correlograms, amplitudes, traces, features) in real headless Chromium.

Against a real `sortingview-start-backend` process, like tests/test_browser_viewer.py; one seeded workspace and
one backend serve the module. Screenshots of each view are saved under test-artifacts/.
"""
from __future__ import annotations

import json
import os
from urllib.parse import parse_qs, quote

import numpy as np
import pytest
from conftest import CHROMIUM, skip_or_fail
from test_browser_support import CANVAS_INK, checked_page, chromium_browser, screenshot, seeded_view

from sortingview import store

pytestmark = [pytest.mark.browser, pytest.mark.slow]
NUM_UNITS = 10
NUM_CHANNELS = 8


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        skip_or_fail(f"Chromium not found at {CHROMIUM}; install it with `apt-get install -y chromium`")
    with seeded_view(tmp_path_factory.mktemp("browser-views"), workspace_label="browser views test",
                     label="views test", seed=7, num_units=NUM_UNITS, num_channels=NUM_CHANNELS) as e:
        yield e


@pytest.fixture(scope="module")
def browser(env):
    with chromium_browser(CHROMIUM) as b:
        yield b


@pytest.fixture
def page(browser):
    with checked_page(browser) as pg:
        yield pg


def open_with_state(page, link: str, **s) -> None:
    """Open a link whose shared state (&s=) selects units and opens a view, as a copied link would."""
    page.goto(f"{link}&s={quote(json.dumps(s))}")
    page.wait_for_selector("table.units tbody tr", timeout=60_000)


def settle(page) -> None:
    """Wait until no task is pending: views redraw (new canvases) as results arrive."""
    page.wait_for_selector("#statusbar .pending[data-count='0']", timeout=60_000)


def unit_strs(env, n: int) -> list[str]:
    return [str(u) for u in env["ds"].unit_ids[:n]]


def url_state(page) -> dict:
    """The link's &s= state as the page has it now: ``page.url`` follows ``history.replaceState`` only later,
    so reading it right after a key press could still give the state before (an intermittent failure)."""
    return json.loads(parse_qs(page.evaluate("() => location.search").lstrip("?"))["s"][0])


def test_cross_correlograms_matrix_of_selected_units(env, page):
    units = unit_strs(env, 3)
    open_with_state(page, env["link"], units=units, view="crosscorrelograms")
    page.wait_for_selector("#ccg-view[data-drawn='9']", timeout=60_000)
    settle(page)
    pairs = page.eval_on_selector_all("#ccg-view canvas.ccg", "cs => cs.map(c => c.dataset.pair)")
    assert sorted(pairs) == sorted(f"{a}|{b}" for a in units for b in units)
    for c in page.query_selector_all("#ccg-view canvas.ccg"):
        assert c.evaluate(CANVAS_INK)["ink"] > 300, "a cross-correlogram cell is nearly empty"
    assert page.get_attribute(".tab[data-view=crosscorrelograms]", "class").split().count("active") == 1
    screenshot(page, "views-crosscorrelograms.png")
    # more units than the matrix shows: capped, with a note saying so
    page.click("#select-all")
    page.wait_for_selector("#ccg-view[data-drawn='64']", timeout=60_000)
    assert f"first 8 of {NUM_UNITS} selected units" in page.inner_text("#ccg-view .note")
    screenshot(page, "views-crosscorrelograms-8.png")


def test_cross_correlogram_counts_match_the_sorting(env, page):
    """The drawn matrix holds the task's counts: check one off-diagonal pair against a numpy count."""
    units = unit_strs(env, 2)
    open_with_state(page, env["link"], units=units, view="crosscorrelograms")
    page.wait_for_selector("#ccg-view[data-drawn='4']", timeout=60_000)
    srt = env["ds"].sorting
    t1 = srt.get_unit_spike_train(env["ds"].unit_ids[0]).astype(np.int64)
    t2 = srt.get_unit_spike_train(env["ds"].unit_ids[1]).astype(np.int64)
    lags = (t2[None, :] - t1[:, None]).ravel()
    expected = int(np.count_nonzero((lags >= -750) & (lags < 750)))  # +-25 ms at 30 kHz
    title = page.get_attribute(f"#ccg-view canvas.ccg[data-pair='{units[0]}|{units[1]}']", "data-total")
    assert int(title) == expected


def test_spike_amplitudes_scatter(env, page):
    units = unit_strs(env, 2)
    open_with_state(page, env["link"], units=units, view="amplitudes")
    page.wait_for_selector("#amp-view[data-drawn='2']", timeout=60_000)
    settle(page)  # the plot is redrawn when the recording's duration arrives
    canvas = page.query_selector("#amp-view canvas.amplitudes")
    expected = sum(env["ds"].spike_counts[u] for u in env["ds"].unit_ids[:2])
    assert int(canvas.get_attribute("data-points")) == expected
    ink = canvas.evaluate(CANVAS_INK)
    assert ink["blue"] > 100, f"the first unit's (blue) spikes are not drawn: {ink}"
    legend = page.inner_text("#amp-view .legend")
    assert all(f"unit {u}" in legend for u in units)
    screenshot(page, "views-amplitudes.png")
    # a click in the scatter opens the raw traces around that time
    box = canvas.bounding_box()
    canvas.click(position={"x": 58 + (box["width"] - 70) / 2, "y": box["height"] / 2})
    page.wait_for_selector("#traces-view canvas.traces[data-drawn]", timeout=60_000)
    t0, t1 = url_state(page)["t"]
    assert url_state(page)["view"] == "traces" and abs((t0 + t1) / 2 - 4.0) < 0.05 and abs(t1 - t0 - 0.1) < 1e-3


def test_traces_pan_zoom_and_spike_marks(env, page):
    units = unit_strs(env, 2)
    open_with_state(page, env["link"], units=units, view="traces", t=[2.0, 3.0])
    page.wait_for_selector(f"#traces-view canvas.traces[data-drawn='{NUM_CHANNELS}']", timeout=60_000)
    ds = env["ds"]
    fs = ds.sampling_frequency

    def expected_marks(t0: float, t1: float) -> int:
        trains = [ds.sorting.get_unit_spike_train(u) / fs for u in ds.unit_ids[:2]]
        return sum(int(np.count_nonzero((t >= t0) & (t <= t1))) for t in trains)

    canvas = "#traces-view canvas.traces"
    page.wait_for_function(f"() => +document.querySelector('{canvas}').dataset.spikes === {expected_marks(2, 3)}",
                           timeout=60_000)
    # 30,000 frames in a few hundred pixels: min/max bins, aligned on multiples of the factor, covering the window
    ds_factor = wait_for_window(page, canvas, 2.0, 3.0, fs)
    assert ds_factor > 1
    assert page.query_selector(canvas).evaluate(CANVAS_INK)["ink"] > 20_000
    screenshot(page, "views-traces.png")
    # zoom in five times with the button: 1/32 of the window around its middle, at a finer downsampling
    for _ in range(5):
        page.click("#traces-view button[data-act=in]")
    assert wait_for_window(page, canvas, 2.484375, 2.515625, fs) < ds_factor
    assert url_state(page)["t"] == [2.4844, 2.5156]
    screenshot(page, "views-traces-zoomed.png")
    # pan forward by one window, then zoom out with the mouse wheel over the plot
    page.click("#traces-view button[data-act=fwd]")
    wait_for_window(page, canvas, 2.515625, 2.546875, fs)
    box = page.query_selector(canvas).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(12):
        page.mouse.wheel(0, 120)
    page.wait_for_function("() => { const t = JSON.parse(new URL(location.href).searchParams.get('s')).t;"
                           " return t[1] - t[0] > 0.25; }", timeout=30_000)
    t0, t1 = url_state(page)["t"]
    page.wait_for_function(f"() => +document.querySelector('{canvas}').dataset.spikes === "
                           f"{expected_marks(t0, t1)}", timeout=30_000)
    # a smaller window: the plot is redrawn to fit
    width = page.query_selector(canvas).bounding_box()["width"]
    page.set_viewport_size({"width": 1100, "height": 700})
    page.wait_for_function(f"() => document.querySelector('{canvas}').getBoundingClientRect().width < {width - 100}",
                           timeout=10_000)


def wait_for_window(page, canvas: str, t0: float, t1: float, fs: float) -> int:
    """Wait until the drawn traces are those of [t0, t1] s (bins aligned on the factor); return the factor."""
    f0, f1 = int(np.floor(t0 * fs)), int(np.ceil(t1 * fs))
    page.wait_for_function(f"""() => {{
      const c = document.querySelector('{canvas}');
      if (!c.dataset.window) return false;
      const [w0, w1] = JSON.parse(c.dataset.window), ds = +c.dataset.dsFactor;
      return w0 <= {f0} && {f0} < w0 + ds && {f1} <= w1 && w1 < {f1} + ds;
    }}""", timeout=30_000)
    return int(page.get_attribute(canvas, "data-ds-factor"))


def test_pca_features_of_one_unit_and_pair_view_of_two(env, page):
    u = unit_strs(env, 2)
    open_with_state(page, env["link"], units=u[:1], view="features")
    page.wait_for_selector("#features-view[data-drawn='3']", timeout=60_000)
    settle(page)
    panels = page.query_selector_all("#features-view canvas.features")
    assert len(panels) == 3
    expected = min(500, env["ds"].spike_counts[env["ds"].unit_ids[0]])
    for c in panels:
        assert int(c.get_attribute("data-points")) <= expected
        assert int(c.get_attribute("data-points")) >= expected - 2  # spikes at the recording's edges are left out
        assert c.evaluate(CANVAS_INK)["blue"] > 20  # the unit's points, in its colour (blue: the first unit)
    screenshot(page, "views-features-unit.png")
    page.click(f"tr[data-unit='{u[1]}'] td.unit", modifiers=["Control"])
    page.wait_for_selector("#features-view[data-drawn='2']", timeout=60_000)
    settle(page)
    scatter = page.query_selector("#features-view canvas.features")
    n = sum(min(500, env["ds"].spike_counts[x]) for x in env["ds"].unit_ids[:2])
    assert n - 4 <= int(scatter.get_attribute("data-points")) <= n
    assert scatter.evaluate(CANVAS_INK)["ink"] > 1000
    assert page.query_selector("#features-view canvas.features-hist").evaluate(CANVAS_INK)["ink"] > 1000
    legend = page.inner_text("#features-view .legend")
    assert f"unit {u[0]}" in legend and f"unit {u[1]}" in legend
    screenshot(page, "views-features-pair.png")


def test_tab_switching_keeps_the_view_in_the_shared_state(env, page):
    open_with_state(page, env["link"], units=unit_strs(env, 1))
    for view in ("crosscorrelograms", "amplitudes", "traces", "features", "autocorrelograms"):
        page.click(f".tab[data-view={view}]")
        assert url_state(page)["view"] == view
        assert page.is_visible({"crosscorrelograms": "#ccg-view", "amplitudes": "#amp-view",
                                "traces": "#traces-view", "features": "#features-view",
                                "autocorrelograms": "#acg-view"}[view])
    # and by keyboard
    for key, view in (("x", "crosscorrelograms"), ("a", "amplitudes"), ("t", "traces"), ("f", "features")):
        page.keyboard.press(key)
        assert url_state(page)["view"] == view
    # a link copied now opens the same tab again
    page.goto(page.url)
    page.wait_for_selector("#features-view[data-drawn='3']", timeout=60_000)
    assert page.get_attribute(".tab[data-view=features]", "class").split().count("active") == 1


def test_task_errors_are_shown_in_the_new_views(env, page):
    # the recording is not a recording object: its tasks fail, the sorting-only cross-correlograms still work
    good = store.load_json(env["link"].split("d=")[1].split("&")[0])
    bad = dict(good, recordingUri=store.store_json({"format": "nonsense", "data": {}}))
    link = f"{env['url']}/f?v=spikesortingview-1&d={store.store_json(bad)}&label=broken"
    units = unit_strs(env, 2)
    open_with_state(page, link, units=units, view="amplitudes")
    page.wait_for_selector(f"#amp-view .task-error:has-text('units {units[0]}, {units[1]}')", timeout=60_000)
    boxes = page.query_selector_all("#amp-view .task-error")
    assert len(boxes) == 1, "the same failure of both units is shown once"
    assert "nonsense" in boxes[0].inner_text() and f"units {units[0]}, {units[1]}" in boxes[0].inner_text()
    screenshot(page, "views-task-error.png")
    page.click(".tab[data-view=features]")
    page.wait_for_selector("#features-view .task-error", timeout=60_000)
    page.click(".tab[data-view=traces]")
    page.wait_for_selector("#traces-view .task-error", timeout=60_000)
    page.click(".tab[data-view=crosscorrelograms]")
    page.wait_for_selector("#ccg-view[data-drawn='4']", timeout=60_000)
    assert page.query_selector("#ccg-view .task-error") is None
    page.wait_for_selector("#statusbar .error:has-text('failed')")


def test_apply_merges_draws_a_merge_group_as_one_unit(env, page):
    W, sid, ds = env["W"], env["sid"], env["ds"]
    u = ds.unit_ids[:3]
    W.apply_curation_action(sid, {"type": "MERGE_UNITS", "unitIds": [u[0], u[1]]})
    try:
        group = "+".join(str(x) for x in W.get_sorting_curation(sid)["mergeGroups"][0])
        open_with_state(page, env["link"], units=[str(x) for x in u], view="amplitudes", merges=True)
        page.wait_for_selector("#amp-view[data-drawn='2']", timeout=60_000)
        settle(page)
        legend = page.inner_text("#amp-view .legend")
        assert f"unit {group} ({ds.spike_counts[u[0]] + ds.spike_counts[u[1]]} spikes" in legend
        points = int(page.get_attribute("#amp-view canvas.amplitudes", "data-points"))
        assert points == sum(ds.spike_counts[x] for x in u)
        page.click(".tab[data-view=crosscorrelograms]")
        page.wait_for_selector("#ccg-view[data-drawn='4']", timeout=60_000)
        assert page.query_selector(f"#ccg-view canvas.ccg[data-pair='{group}|{group}']") is not None
        screenshot(page, "views-crosscorrelograms-merged.png")
        # untick: the members are drawn apart again, and the link says so
        page.uncheck("#apply-merges")
        page.wait_for_selector("#ccg-view[data-drawn='9']", timeout=60_000)
        assert "merges" not in url_state(page)
    finally:
        W.apply_curation_action(sid, {"type": "UNMERGE_UNITS", "unitIds": [u[0], u[1]]})


def test_spike_amplitudes_honour_the_figures_subsample_rate(env, page):
    """W.spikesortingview(_spike_amplitudes_subsample_max_firing_rate=R) draws at most R x duration spikes a unit."""
    W, sid, rid = env["W"], env["sid"], env["rid"]
    link = W.spikesortingview(recording_id=rid, sorting_id=sid, label="subsampled", base_url=env["url"],
                              _spike_amplitudes_subsample_max_firing_rate=1.0)
    bodies = []
    page.on("request", lambda r: bodies.append(r.post_data_json) if r.method == "POST" and "/api/task" in r.url
            else None)
    units = unit_strs(env, 2)
    open_with_state(page, link, units=units, view="amplitudes")
    page.wait_for_selector("#amp-view[data-drawn='2']", timeout=60_000)
    asked = [b["taskInput"] for b in bodies if b and b.get("taskName") == "sortingview.spike_amplitudes.2"]
    assert asked and all(a.get("maxSpikesPerUnit") == 8 for a in asked), asked  # 1 Hz x 8 s
    points = int(page.get_attribute("#amp-view canvas[data-points]", "data-points"))
    assert 0 < points <= 16
