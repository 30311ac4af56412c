"""The viewer's papercuts (issue 9), each shown in Chromium on a views figure drawn by the same modules as the
workspace viewer: waveform bands stay in their cell, one number format per column, wide tables scroll with the
unit column kept, a merged unit's title never covers its pair count, a favicon, and a strict CSP."""
from __future__ import annotations

import numpy as np
import pytest
import views_figure_data as F
from test_browser_support import INLINE_SCRIPT_RUNS, checked_page, screenshot, serve_with_csp
from test_server_support import http, running_server

pytestmark = [pytest.mark.browser]

# pixels of a canvas outside its data-area rectangle that are coloured (not grey text or axes)
COLOURED_OUTSIDE_AREA = """(c) => {
  const [l, t, right, bottom] = JSON.parse(c.dataset.area).map((v) => v * devicePixelRatio);
  const {data} = c.getContext('2d').getImageData(0, 0, c.width, c.height);
  let outside = 0, inside = 0;
  for (let y = 0; y < c.height; y++) for (let x = 0; x < c.width; x++) {
    const i = (y * c.width + x) * 4;
    const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
    const coloured = data[i + 3] > 0 && Math.max(r, g, b) - Math.min(r, g, b) > 40;
    if (!coloured) continue;
    if (x < l - 1 || x > right + 1 || y < t - 1 || y > bottom + 1) outside++; else inside++;
  }
  return {outside, inside};
}"""


@pytest.fixture
def server(store_dir):
    with running_server(inline=True) as srv:
        yield srv


def one_view_url(server, view, label="papercut", layout_props=None):
    root = F.store_figure([view], {"type": "Box", "direction": "horizontal", "items": [F.leaf(0)],
                                   "itemProperties": [layout_props or {}]})
    return F.figure_url(server.url, root, label)


def test_waveform_bands_of_a_noisy_unit_stay_in_the_cell(server, browser):
    view = F.average_waveforms([1, 2], num_channels=4)
    sd = np.full((4, 60), 400.0)  # ten times the spike: the band would cover the whole card
    view["averageWaveforms"][0]["waveformStdDev"] = F.arr(sd)
    with checked_page(browser) as page:
        page.goto(one_view_url(server, view))
        page.wait_for_selector("canvas.waveform")
        counts = [c.evaluate(COLOURED_OUTSIDE_AREA) for c in page.query_selector_all("canvas.waveform")]
        screenshot(page, "papercut-waveform-band.png")
    assert all(c["outside"] == 0 and c["inside"] > 1000 for c in counts), counts


def test_one_number_format_per_column(server, browser):
    view = {"type": "UnitsTable", "columns": [{"key": k, "label": k, "dtype": "float"} for k in ("a", "b", "c", "n")],
            "rows": [{"unitId": u, "values": {"a": a, "b": b, "c": c, "n": n}} for u, a, b, c, n in
                     [(1, 8, 1, 2.26e-4, 12), (2, 14.73, 0.5, 0.005, 7), (3, 3.2, 0.25, 0.0031, 1500)]]}
    with checked_page(browser) as page:
        page.goto(one_view_url(server, view))
        page.wait_for_selector("table.units tbody tr")
        columns = page.evaluate("""() => [...Array(4).keys()].map((j) =>
            [...document.querySelectorAll('table.units tbody tr')].map((tr) => tr.children[2 + j].textContent))""")
    assert columns == [["8.0", "14.7", "3.2"], ["1.00", "0.50", "0.25"], ["0.00023", "0.00500", "0.00310"],
                       ["12", "7", "1500"]]


def test_wide_tables_scroll_sideways_keeping_the_unit_column(server, browser):
    cols = [{"key": f"metric{i}", "label": f"Metric number {i}", "dtype": "float"} for i in range(24)]
    rows = [{"unitId": u, "values": {c["key"]: u * 1.5 + i for i, c in enumerate(cols)}} for u in range(1, 6)]
    view = {"type": "UnitsTable", "columns": cols, "rows": rows}
    with checked_page(browser) as page:
        page.set_viewport_size({"width": 700, "height": 500})
        page.goto(one_view_url(server, view))
        page.wait_for_selector("table.units tbody tr")
        pane = page.locator(".sv-view")
        assert pane.evaluate("(e) => e.scrollWidth > e.clientWidth + 200")
        unit_x = page.locator("tr[data-unit='3'] td.unit").bounding_box()["x"]
        pane.evaluate("(e) => { e.scrollLeft = e.scrollWidth; }")
        last = page.locator("table.units th[data-col='metric23']").bounding_box()
        assert last["x"] + last["width"] <= 700
        # the checkbox and unit id columns stay at the left edge, side by side (the pane's padding scrolls away)
        pane_x = pane.bounding_box()["x"]
        unit = page.locator("tr[data-unit='3'] td.unit").bounding_box()
        sel = page.locator("tr[data-unit='3'] td.sel").bounding_box()
        assert pane_x <= sel["x"] <= pane_x + 8 and abs(sel["x"] + sel["width"] - unit["x"]) <= 1, (pane_x, sel, unit)
        assert unit["x"] <= unit_x
        page.click("tr[data-unit='3'] td.unit")  # still clickable where it stays
        assert page.locator("tr.selected").get_attribute("data-unit") == "3"
        screenshot(page, "papercut-wide-table.png")


def test_merged_unit_title_does_not_cover_the_pair_count(server, browser):
    units = [100001, 100002, 100003]
    view = F.autocorrelograms(units)
    edges = np.linspace(-0.025, 0.025, 51)
    view["mergedAutocorrelograms"] = [{"unitIds": units, "binEdgesSec": F.arr(edges),
                                       "binCounts": F.arr(np.full(50, 2500), "int32")}]
    with checked_page(browser) as page:
        page.goto(one_view_url(server, view))
        cell = page.wait_for_selector(".merged-acg canvas.acg")
        right, left = int(cell.get_attribute("data-title-right")), int(cell.get_attribute("data-count-left"))
        assert "Merged 100001+100002+100003" in cell.get_attribute("title")
        plain = page.query_selector(".plot-cell:not(.merged-acg) canvas.acg")
        assert int(plain.get_attribute("data-title-right")) < int(plain.get_attribute("data-count-left"))
    assert right < left, (right, left)


def test_favicon_is_served_and_linked(server, browser):
    for path in ("/viewer/favicon.svg", "/favicon.ico"):
        status, body = http(f"{server.url}{path}")
        assert status == 200 and body.startswith(b"<svg"), path
    view = F.units_table([1, 2])
    with checked_page(browser) as page:
        page.goto(one_view_url(server, view))
        href = page.get_attribute("link[rel=icon]", "href")
        assert href == "/viewer/favicon.svg"
        assert page.evaluate("(h) => fetch(h).then((r) => r.status)", href) == 200
    index = http(f"{server.url}/viewer/index.html")[1].decode()
    assert 'href="/viewer/favicon.svg"' in index


def test_views_figure_runs_under_a_strict_csp(server, browser):
    views = [F.units_table([1, 2, 3]), F.autocorrelograms([1, 2, 3]), F.average_waveforms([1, 2, 3]),
             {"type": "SortingCuration2"}, {"type": "SortingSelection"}]
    root = F.store_figure(views, F.mountain(views, ["Units", "ACG", "WF", "Curation", "Selection"], {3, 4}))
    with checked_page(browser) as page:
        serve_with_csp(page)
        page.goto(F.figure_url(server.url, root, "csp"))
        page.wait_for_selector("table.units tbody tr")
        page.click(".sv-tab:has-text('ACG')")
        page.wait_for_selector("canvas.acg >> visible=true")
        page.click("#help-btn")
        page.wait_for_function("() => document.querySelector('#help-dialog').open")
        assert page.evaluate("() => window.__cspViolations") == []
        # the policy is in force: an inline script added to the page does not run, and is reported
        assert page.evaluate(INLINE_SCRIPT_RUNS) is False
        page.wait_for_function("() => window.__cspViolations.some((v) => v.startsWith('script-src'))")
