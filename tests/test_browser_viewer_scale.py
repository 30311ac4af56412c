"""The viewer's drawing at scale, in Chromium (no timings: those are in bench/): many spikes are drawn as a
density image and as exact dots once zoomed in; a grid of many autocorrelograms draws the cells on screen and
the others when they are scrolled to."""
from __future__ import annotations

import numpy as np
import pytest
import views_figure_data as F
from test_browser_support import CANVAS_INK, checked_page
from test_server_support import running_server


@pytest.fixture
def server(store_dir):
    with running_server(inline=True) as srv:
        yield srv


def box_figure(view: dict) -> str:
    return F.store_figure([view], {"type": "Box", "direction": "vertical", "items": [F.leaf(0)]})


def many_spikes(units: int, per_unit: int, duration: float = 600.0) -> dict:
    rng = np.random.default_rng(5)
    items = []
    for u in range(1, units + 1):
        t = rng.uniform(0, duration, per_unit)  # the last unit's times unsorted: counted one by one
        items.append({"unitId": u, "spikeTimesSec": F.arr(t if u == units else np.sort(t)),
                      "spikeAmplitudes": F.arr(rng.normal(-40 * u, 5, per_unit))})
    return {"type": "SpikeAmplitudes", "startTimeSec": 0, "endTimeSec": duration, "units": items}


def amplitudes_state(page) -> dict:
    return page.eval_on_selector("canvas.amplitudes", """(c) => ({mode: c.dataset.mode,
        points: Number(c.dataset.points), window: JSON.parse(c.dataset.window)})""")


def test_many_spikes_density_then_exact_points_when_zoomed(server, browser):
    units, per_unit = 3, 100_000
    root = box_figure(many_spikes(units, per_unit))
    with checked_page(browser) as page:
        page.goto(F.figure_url(server.url, root, "many spikes"))
        page.wait_for_selector("canvas.amplitudes")
        s = amplitudes_state(page)
        assert s["mode"] == "density" and s["points"] == units * per_unit and s["window"] == [0, 600]
        assert page.eval_on_selector("canvas.amplitudes", CANVAS_INK)["ink"] > 2000  # the three bands are drawn
        box = page.locator("canvas.amplitudes").bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        for _ in range(30):
            if amplitudes_state(page)["mode"] == "points":
                break
            page.mouse.wheel(0, -300)
        s = amplitudes_state(page)
        t0, t1 = s["window"]
        assert s["mode"] == "points" and 0 < t0 < 300 < t1 < 600
        # exact: the count of spikes in the window is the numpy count of the data
        rng = np.random.default_rng(5)
        expected = 0
        for _ in range(units):
            t = rng.uniform(0, 600, per_unit).astype(np.float32)
            rng.normal(0, 5, per_unit)
            t = t.astype(np.float64)
            expected += int(np.count_nonzero((t >= t0) & (t <= t1)))
        assert abs(s["points"] - expected) <= 2, (s["points"], expected)
        assert page.eval_on_selector("canvas.amplitudes", CANVAS_INK)["ink"] > 500
        page.dblclick("canvas.amplitudes")
        s = amplitudes_state(page)
        assert s["mode"] == "density" and s["window"] == [0, 600]


def test_autocorrelogram_grid_draws_cells_when_scrolled_to(server, browser):
    units = list(range(1, 601))
    root = box_figure(F.autocorrelograms(units))
    with checked_page(browser) as page:
        page.goto(F.figure_url(server.url, root, "many correlograms"))
        page.wait_for_selector("[data-view-type=Autocorrelograms][data-drawn='600']")
        ink = "(cs) => cs.map((c) => c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some((v) => v))"
        drawn = page.eval_on_selector_all("canvas.acg", ink)
        assert len(drawn) == 600 and drawn[0] and not drawn[-1]  # the first cells drawn, the last ones not yet
        last = page.locator(".plot-cell[data-unit='600']")
        last.scroll_into_view_if_needed()
        page.wait_for_function("() => { const c = document.querySelector(\".plot-cell[data-unit='600'] canvas\");"
                               " return c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some(Boolean); }")
        assert last.locator("canvas").get_attribute("title").startswith("Unit 600: ")
