"""QA polish of views figures in Chromium: no "-0" in table cells, headers wrap only between words (or after
"_"), Summary numbers to a few significant digits, and a Mountain layout without control views has no empty
control panel."""
from __future__ import annotations

import pytest
import view_figures as VF
import views_figure_data as F
from test_browser_support import checked_page, screenshot
from test_server_support import running_server

pytestmark = [pytest.mark.browser]

# for each header, the characters just before each of its rendered line starts
LINE_BREAKS = """(th) => {
  const text = th.textContent;
  const tops = [];
  const range = document.createRange();
  const walker = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    for (let i = 0; i < node.length; i++) {
      range.setStart(node, i); range.setEnd(node, i + 1);
      const r = range.getClientRects()[0];
      tops.push(r ? Math.round(r.top) : null);
    }
  }
  const before = [];
  for (let i = 1; i < tops.length; i++) {
    if (tops[i] !== null && tops[i - 1] !== null && tops[i] > tops[i - 1]) before.push(text[i - 1]);
  }
  return {text, before};
}"""


@pytest.fixture
def server(store_dir):
    with running_server(inline=True) as srv:
        yield srv


def one_view_url(server, view, layout=None):
    root = F.store_figure([view], layout or {"type": "Box", "direction": "horizontal", "items": [F.leaf(0)],
                                             "itemProperties": [{}]})
    return F.figure_url(server.url, root, "polish")


def test_cells_never_show_negative_zero_and_headers_wrap_between_words(server, browser):
    cols = [{"key": "d", "label": "num_spikes_per_second_of_unit", "dtype": "float"},
            {"key": "z", "label": "Mean drift / s", "dtype": "float"}]
    rows = [{"unitId": u, "values": {"d": d, "z": z}} for u, d, z in [(1, -0.3, -0.04), (2, 120.0, 2.0), (3, 5.5, 3.5)]]
    with checked_page(browser) as page:
        page.set_viewport_size({"width": 500, "height": 500})
        page.goto(one_view_url(server, {"type": "UnitsTable", "columns": cols, "rows": rows}))
        page.wait_for_selector("table.units tbody tr")
        cells = page.eval_on_selector_all("table.units tbody td.num", "els => els.map(e => e.textContent)")
        breaks = page.eval_on_selector_all("table.units th[data-col]", f"els => els.map({LINE_BREAKS})")
        screenshot(page, "polish-headers.png")
    assert cells and not any(c.startswith("-0") and float(c) == 0 for c in cells), cells
    assert cells[:2] == ["0", "-0.04"], cells  # -0.3 to no decimals (the column's largest is 120) is 0
    long = next(b for b in breaks if b["text"].startswith("num_spikes"))
    assert long["before"], f"the long header should wrap (it is wider than a column): {breaks}"
    for b in breaks:
        assert all(ch in " _" for ch in b["before"]), f"{b['text']!r} wraps inside a word: {b['before']}"


def test_summary_numbers_have_a_few_significant_digits(server, browser):
    data = VF.sorting_summary()
    data.update(numFrames=600000, samplingFrequency=30000.0, noiseLevel=7.123456789012345)
    with checked_page(browser) as page:
        page.goto(one_view_url(server, data))
        page.wait_for_selector(".sv-summary td.value")
        rows = dict(page.eval_on_selector_all(".sv-summary tr",
                                              "els => els.map(e => [...e.children].map(t => t.textContent))"))
    assert rows["Duration (minutes)"] == "0.3333", rows
    assert rows["Noise level"] == "7.123", rows
    assert rows["Sampling frequency"] == "30000", rows
    assert rows["Num. samples"] == "600000", rows


def test_a_mountain_without_control_views_gives_the_tabs_the_whole_width(server, browser):
    views = [F.autocorrelograms([1, 2]), F.cross_correlograms([1, 2])]
    with checked_page(browser) as page:
        page.goto(one_view_url(server, views[0], layout=None))  # warm-up: the server serves figures
        root = F.store_figure(views, F.mountain(views, ["ACG", "CCG"], controls=set()))
        page.goto(F.figure_url(server.url, root, "mountain"))
        page.wait_for_selector(".sv-mountain .sv-tab")
        assert page.locator(".sv-controls").count() == 0
        mountain = page.locator(".sv-mountain").bounding_box()
        tabs = page.locator(".sv-mountain .sv-tabs").bounding_box()
    assert tabs["x"] - mountain["x"] < 20 and tabs["width"] > 0.9 * mountain["width"], (mountain, tabs)
