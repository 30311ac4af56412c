"""The views of sortingview.views beyond the workspace viewer's (RasterPlot, UnitLocations, SpikeLocations,
UnitSimilarityMatrix, ConfusionMatrix, UnitMetricsGraph, ElectrodeGeometry, UnitImages, SortingSummary) in
real headless Chromium against a real `sortingview-start-backend`.

Each figure is written by hand in the original's 0.14.2 data formats (tests/view_figures.py): a Box with a
UnitsTable beside the view. For every type: it draws (ink on its canvas, or its content), without script or
console errors and without an error box; the selection is shared with the units table both ways (types with
unit selection); malformed data shows the in-page message that names the bad field.
"""
from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from conftest import CHROMIUM
from test_browser_support import CANVAS_INK, checked_page, chromium_browser, module_backend, screenshot, serve_with_csp
from view_figures import BUILDERS, UNIT_IDS, store_figure

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT = 30_000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with module_backend(tmp_path_factory.mktemp("view-types")) as url:
        yield url


@pytest.fixture(scope="module")
def browser(server):
    with chromium_browser(CHROMIUM) as b:
        yield b


@pytest.fixture
def page(browser):
    """A page that fails the test on a script error or a console error."""
    with checked_page(browser, width=1400, height=800, console=True) as pg:
        yield pg


def view_sel(view_type: str) -> str:
    return f"[data-view-type='{view_type}']"


def open_figure(page, server, data: dict, *, with_table: bool = True) -> str:
    link = store_figure(server, [data], label=f"{data['type']} test", with_table=with_table)
    page.goto(link)
    page.wait_for_selector(f"{view_sel(data['type'])} > *", timeout=TIMEOUT)
    if with_table:
        page.wait_for_selector(f"{view_sel('UnitsTable')} tr[data-unit]", timeout=TIMEOUT)
    return link


def main_canvas_ink(page, view_type: str, cls: str) -> int:
    return page.eval_on_selector(f"{view_sel(view_type)} canvas.{cls}", CANVAS_INK)["ink"]


def canvas_image(page, view_type: str, cls: str) -> str:
    return page.eval_on_selector(f"{view_sel(view_type)} canvas.{cls}", "c => c.toDataURL()")


def table_selection(page) -> list[str]:
    rows = f"{view_sel('UnitsTable')} tr[data-unit].selected"
    return page.eval_on_selector_all(rows, "rs => rs.map(r => r.dataset.unit)")


def wait_redrawn(page, canvas_sel: str, before: str) -> None:
    """Wait until the canvas at `canvas_sel` (possibly a new one) shows another image than `before`."""
    page.wait_for_function("([sel, before]) => document.querySelector(sel).toDataURL() !== before",
                           arg=[canvas_sel, before])


def wait_table_selected(page, n: int) -> None:
    rows = f"{view_sel('UnitsTable')} tr.selected"
    page.wait_for_function("([sel, n]) => document.querySelectorAll(sel).length === n", arg=[rows, n])


def click_table_row(page, unit) -> None:
    page.click(f"{view_sel('UnitsTable')} tr[data-unit='{unit}'] td:last-child")


def assert_no_error_box(page) -> None:
    boxes = page.eval_on_selector_all(".task-error", "bs => bs.map(b => b.textContent)")
    assert not boxes, f"error boxes in the figure: {boxes}"


# --- each type draws -------------------------------------------------------------------------------------
CANVAS_OF = {
    "RasterPlot": ("raster-plot", 2000), "UnitLocations": ("unit-locations", 2000),
    "SpikeLocations": ("spike-locations", 2000), "UnitSimilarityMatrix": ("unit-matrix", 20000),
    "ConfusionMatrix": ("unit-matrix", 20000), "ElectrodeGeometry": ("electrode-geometry", 2000),
}


@pytest.mark.parametrize("view_type", sorted(CANVAS_OF))
def test_canvas_view_draws(server, page, view_type):
    open_figure(page, server, BUILDERS[view_type]())
    cls, min_ink = CANVAS_OF[view_type]
    ink = main_canvas_ink(page, view_type, cls)
    assert ink > min_ink, f"{view_type} drew only {ink} pixels"
    assert_no_error_box(page)
    screenshot(page, f"view-type-{view_type}.png")


@pytest.mark.parametrize("view_type", sorted(set(BUILDERS) - {"UnitImages"}))
def test_draws_under_a_strict_content_security_policy(server, page, view_type):
    """No inline style attribute, no inline script, nothing fetched from elsewhere. (UnitImages needs img-src
    data:, its images being embedded in the figure data.)"""
    serve_with_csp(page)
    open_figure(page, server, BUILDERS[view_type]())
    assert_no_error_box(page)
    assert page.evaluate("() => window.__cspViolations") == []


def test_unit_metrics_graph_draws_histograms_then_a_matrix(server, page):
    open_figure(page, server, BUILDERS["UnitMetricsGraph"]())
    sel = view_sel("UnitMetricsGraph")
    hists = page.query_selector_all(f"{sel} canvas.metric-histogram")
    assert len(hists) == 2 and all(h.evaluate(CANVAS_INK)["ink"] > 500 for h in hists)
    page.click(f"{sel} tr[data-metric='firing_rate']")
    page.click(f"{sel} tr[data-metric='snr']")
    page.wait_for_selector(f"{sel} canvas.metric-scatter")
    assert len(page.query_selector_all(f"{sel} canvas.metric-scatter")) == 2
    assert len(page.query_selector_all(f"{sel} canvas.metric-histogram")) == 2
    assert page.eval_on_selector(f"{sel} canvas.metric-scatter", CANVAS_INK)["ink"] > 300
    assert_no_error_box(page)
    screenshot(page, "view-type-UnitMetricsGraph.png")


def test_unit_images_show_every_unit(server, page):
    open_figure(page, server, BUILDERS["UnitImages"]())
    sel = view_sel("UnitImages")
    boxes = page.eval_on_selector_all(f"{sel} .sv-image-box", "bs => bs.map(b => b.dataset.unit)")
    assert boxes == [str(u) for u in UNIT_IDS]
    page.wait_for_function("sel => [...document.querySelectorAll(sel)].every(i => i.complete && i.naturalWidth === 8)",
                           arg=f"{sel} img")
    assert page.inner_text(f"{sel} .sv-image-box[data-unit='3'] .sv-image-label") == "Unit 3"
    assert_no_error_box(page)
    screenshot(page, "view-type-UnitImages.png")


def test_sorting_summary_table(server, page):
    open_figure(page, server, BUILDERS["Summary"](), with_table=False)
    text = page.inner_text(view_sel("Summary"))
    assert "seeded recording <b>8 channels</b>" in text, "the description must be shown as text, not HTML"
    assert "1, 2, 3, 4, 5, 6" in text and "30000" in text and "1800000" in text
    assert "Duration (minutes)\t1" in text
    assert page.query_selector(f"{view_sel('Summary')} b") is None
    assert_no_error_box(page)
    screenshot(page, "view-type-Summary.png")


# --- selection shared with the units table -------------------------------------------------------------
def test_raster_plot_selection_both_ways(server, page):
    open_figure(page, server, BUILDERS["RasterPlot"]())
    before = canvas_image(page, "RasterPlot", "raster-plot")
    click_table_row(page, 2)
    wait_redrawn(page, f"{view_sel('RasterPlot')} canvas.raster-plot", before)
    # a click on the row of the fifth unit (plots drawn bottom-up, 10 px top and 40 px bottom margins)
    box = page.query_selector(f"{view_sel('RasterPlot')} canvas.raster-plot").bounding_box()
    n = len(UNIT_IDS)
    y = box["height"] - 40 - (4 + 0.5) / n * (box["height"] - 50)
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + y)
    wait_table_selected(page, 1)
    assert table_selection(page) == ["5"]


def test_raster_plot_zoom_and_pan_stay_within_the_data(server, page):
    open_figure(page, server, BUILDERS["RasterPlot"]())
    sel = view_sel("RasterPlot")
    canvas_sel = f"{sel} canvas.raster-plot"

    def shown_range() -> str:
        return page.inner_text(f"{sel} .sv-toolbar .tool-text")

    assert shown_range() == "0.000 – 60.000 s"
    page.click(f"{sel} button[data-act='zoom in']")
    page.wait_for_function("([sel, t]) => document.querySelector(sel).innerText === t",
                           arg=[f"{sel} .sv-toolbar .tool-text", "6.923 – 53.077 s"])
    page.click(f"{sel} button[data-act='pan right']")  # by a fifth, but no further than the end of the data
    page.wait_for_function("([sel, t]) => document.querySelector(sel).innerText === t",
                           arg=[f"{sel} .sv-toolbar .tool-text", "13.846 – 60.000 s"])
    before = canvas_image(page, "RasterPlot", "raster-plot")
    box = page.query_selector(canvas_sel).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -200)  # the wheel zooms in around the pointer
    wait_redrawn(page, canvas_sel, before)
    lo, hi = (float(v) for v in shown_range().replace(" s", "").split(" – "))
    assert 13.846 < lo < hi < 60 and hi - lo < 46.16


@pytest.mark.parametrize("view_type,cls", [("UnitLocations", "unit-locations"), ("SpikeLocations", "spike-locations")])
def test_locations_selection_both_ways(server, page, view_type, cls):
    open_figure(page, server, BUILDERS[view_type]())
    before = canvas_image(page, view_type, cls)
    click_table_row(page, 3)
    wait_redrawn(page, f"{view_sel(view_type)} canvas.{cls}", before)
    # dragging a rectangle over the whole plot selects every unit
    box = page.query_selector(f"{view_sel(view_type)} canvas.{cls}").bounding_box()
    page.mouse.move(box["x"] + 2, box["y"] + 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=3)
    page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] - 2, steps=3)
    page.mouse.up()
    wait_table_selected(page, len(UNIT_IDS))


ZOOMABLE = [("UnitLocations", "unit-locations"), ("ElectrodeGeometry", "electrode-geometry"),
            ("UnitSimilarityMatrix", "unit-matrix")]


@pytest.mark.parametrize("view_type,cls", ZOOMABLE)
def test_shift_wheel_zooms_and_zooming_out_snaps_back(server, page, view_type, cls):
    open_figure(page, server, BUILDERS[view_type](), with_table=False)
    canvas_sel = f"{view_sel(view_type)} canvas.{cls}"
    before = canvas_image(page, view_type, cls)
    box = page.query_selector(canvas_sel).bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.4)
    page.mouse.wheel(0, -100)  # without shift: no zoom
    assert canvas_image(page, view_type, cls) == before
    page.keyboard.down("Shift")
    page.mouse.wheel(0, -100)
    wait_redrawn(page, canvas_sel, before)
    page.mouse.wheel(0, 100)
    page.keyboard.up("Shift")
    page.wait_for_function("([sel, before]) => document.querySelector(sel).toDataURL() === before",
                           arg=[canvas_sel, before])


def test_spike_locations_unit_selector_follows_the_table(server, page):
    open_figure(page, server, BUILDERS["SpikeLocations"]())
    sel = view_sel("SpikeLocations")
    click_table_row(page, 4)
    page.wait_for_selector(f"{sel} .sv-unit-choice[data-unit='4'] input:checked")
    page.click(f"{sel} .sv-unit-choice[data-unit='6'] input")
    wait_table_selected(page, 2)
    assert sorted(table_selection(page)) == ["4", "6"]
    # locked: the list keeps units 4 and 6 checked (and cannot be changed) while the table selects another
    page.click(f"{sel} .sv-lock input")
    click_table_row(page, 1)
    wait_table_selected(page, 1)
    checked = page.eval_on_selector_all(f"{sel} .sv-unit-choice input:checked",
                                        "is => is.map(i => i.closest('label').dataset.unit)")
    assert checked == ["4", "6"]
    assert page.eval_on_selector(f"{sel} .sv-unit-choice[data-unit='2'] input", "i => i.disabled")
    page.click(f"{sel} .sv-lock input")  # unlocked: the list follows the selection again
    page.wait_for_selector(f"{sel} .sv-unit-choice[data-unit='1'] input:checked")


@pytest.mark.parametrize("view_type", ["UnitSimilarityMatrix", "ConfusionMatrix"])
def test_matrix_selection_both_ways(server, page, view_type):
    open_figure(page, server, BUILDERS[view_type]())
    before = canvas_image(page, view_type, "unit-matrix")
    click_table_row(page, 2)
    wait_redrawn(page, f"{view_sel(view_type)} canvas.unit-matrix", before)
    # the cell of column 2 (unit 3), row 5 (unit 6): both units selected
    box = page.query_selector(f"{view_sel(view_type)} canvas.unit-matrix").bounding_box()
    size = min(box["width"], box["height"])
    x0 = box["x"] + (box["width"] - size) / 2
    y0 = box["y"] + (box["height"] - size) / 2
    n = len(UNIT_IDS)
    page.mouse.move(x0 + 2.5 * size / n, y0 + 5.5 * size / n)
    assert page.inner_text(f"{view_sel(view_type)} .hover-info").startswith("Units 3/6")
    page.mouse.down()
    page.mouse.up()
    wait_table_selected(page, 2)
    assert sorted(table_selection(page)) == ["3", "6"]


def test_similarity_matrix_selects_similar_units(server, page):
    data = BUILDERS["UnitSimilarityMatrix"]()
    open_figure(page, server, data)
    click_table_row(page, 1)
    page.click(f"{view_sel('UnitSimilarityMatrix')} button.select-similar")
    scores = {s["unitId2"]: s["similarity"] for s in data["similarityScores"]
              if s["unitId1"] == 1 and s["unitId2"] != 1}
    expected = ["1"] + [str(u) for u in sorted(scores, key=lambda u: -scores[u])[:4]]
    wait_table_selected(page, 5)
    assert sorted(table_selection(page)) == sorted(expected)


def test_a_unit_restriction_in_the_link_limits_the_matrix_and_the_unit_list(server, page):
    """As the original: UnitSimilarityMatrix and the SpikeLocations unit list show only the visible units."""
    link = store_figure(server, [BUILDERS["UnitSimilarityMatrix"](), BUILDERS["SpikeLocations"]()], label="restricted")
    page.goto(f"{link}&s={quote(json.dumps({'visibleUnitIds': [2, 4, 5]}))}")
    sel = view_sel("SpikeLocations")
    page.wait_for_selector(f"{sel} .sv-unit-choice", timeout=TIMEOUT)
    assert page.eval_on_selector_all(f"{sel} .sv-unit-choice", "ls => ls.map(l => l.dataset.unit)") == ["2", "4", "5"]
    box = page.query_selector(f"{view_sel('UnitSimilarityMatrix')} canvas.unit-matrix").bounding_box()
    size = min(box["width"], box["height"])
    x0 = box["x"] + (box["width"] - size) / 2
    y0 = box["y"] + (box["height"] - size) / 2
    page.mouse.move(x0 + 2.5 * size / 3, y0 + 0.5 * size / 3)  # the last column, first row of a 3 x 3 matrix
    assert page.inner_text(f"{view_sel('UnitSimilarityMatrix')} .hover-info").startswith("Units 5/2")


def test_unit_metrics_graph_selection_both_ways(server, page):
    data = BUILDERS["UnitMetricsGraph"]()
    open_figure(page, server, data)
    sel = view_sel("UnitMetricsGraph")
    before = page.eval_on_selector(f"{sel} canvas.metric-histogram", "c => c.toDataURL()")
    click_table_row(page, 2)
    wait_redrawn(page, f"{sel} canvas.metric-histogram", before)
    # dragging over the whole first histogram (firing rate) selects every unit
    box = page.query_selector(f"{sel} canvas.metric-histogram").bounding_box()
    page.mouse.move(box["x"] + 1, box["y"] + 10)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 50, steps=3)
    page.mouse.move(box["x"] + box["width"] - 1, box["y"] + 60, steps=3)
    page.mouse.up()
    wait_table_selected(page, len(UNIT_IDS))


def test_unit_images_selection_both_ways(server, page):
    open_figure(page, server, BUILDERS["UnitImages"]())
    sel = view_sel("UnitImages")
    click_table_row(page, 5)
    page.wait_for_selector(f"{sel} .sv-image-box.selected[data-unit='5']")
    page.click(f"{sel} .sv-image-box[data-unit='2']")
    page.wait_for_selector(f"{sel} .sv-image-box.selected[data-unit='2']")
    assert table_selection(page) == ["2"]


def test_electrode_geometry_click_selects_an_electrode(server, page):
    open_figure(page, server, BUILDERS["ElectrodeGeometry"](), with_table=False)
    canvas = page.query_selector(f"{view_sel('ElectrodeGeometry')} canvas.electrode-geometry")
    before = canvas.evaluate("c => c.toDataURL()")
    box = canvas.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    # the 16 x 60 um probe is turned to fit the landscape canvas (x' = y, y' = -x, bounding box centred at
    # (30, -8)); dots are 0.45 x 16 um, capped at 25 px, so one um is 25 / 7.2 px. Channel 2 is at (0, 20).
    s = 25 / 7.2
    page.mouse.click(cx + (20 - 30) * s, cy - (0 - -8) * s)
    assert canvas.get_attribute("data-selected") == "2"
    assert canvas.evaluate("c => c.toDataURL()") != before
    page.keyboard.down("Control")
    page.mouse.click(cx + (40 - 30) * s, cy - (-16 - -8) * s)
    page.keyboard.up("Control")
    assert canvas.get_attribute("data-selected") == "2,5"
    page.mouse.click(cx, cy)  # between the electrodes: nothing selected
    assert canvas.get_attribute("data-selected") == ""


HOSTILE = '<img src=x onerror="window.__pwned=1">'


def test_hostile_ids_and_labels_stay_text(server, page):
    ids = [HOSTILE, "u2"]
    raster = {"type": "RasterPlot", "startTimeSec": 0.0, "endTimeSec": 10.0,
              "plots": [{"unitId": u, "spikeTimesSec": [1.0, 2.0]} for u in ids]}
    metrics = {"type": "UnitMetricsGraph", "metrics": [{"key": HOSTILE, "label": HOSTILE, "dtype": "float"}],
               "units": [{"unitId": u, "values": {HOSTILE: float(i)}} for i, u in enumerate(ids)]}
    images = BUILDERS["UnitImages"]()
    images["items"] = [{"unitId": u, "url": images["items"][0]["url"]} for u in ids]
    selector = BUILDERS["SpikeLocations"]()
    selector["units"] = [dict(selector["units"][0], unitId=u) for u in ids]
    summary = dict(BUILDERS["Summary"](), sortingDescription=HOSTILE, unitIds=ids)
    table = {"type": "UnitsTable", "columns": [], "rows": [{"unitId": u, "values": {}} for u in ids]}
    link = store_figure(server, [table, raster, metrics, images, selector, summary], label="hostile", with_table=False)
    page.goto(link)
    for t in ("RasterPlot", "UnitMetricsGraph", "UnitImages", "SpikeLocations", "Summary"):
        page.wait_for_selector(f"{view_sel(t)} > *", timeout=TIMEOUT)
    assert page.query_selector("img[src='x']") is None
    assert page.evaluate("() => window.__pwned") is None
    assert f"Unit {HOSTILE}" in page.inner_text(view_sel("UnitImages"))
    assert HOSTILE in page.inner_text(view_sel("UnitMetricsGraph"))
    assert HOSTILE in page.inner_text(view_sel("Summary"))
    assert HOSTILE in page.inner_text(view_sel("SpikeLocations"))
    page.click(f"{view_sel('UnitImages')} .sv-image-box >> nth=0")  # a hostile id selects like any other
    wait_table_selected(page, 1)
    assert table_selection(page) == [HOSTILE]


# --- malformed data: the in-page message names the field ------------------------------------------------
def _break(view_type: str) -> tuple[dict, str]:
    d = BUILDERS[view_type]()
    if view_type == "RasterPlot":
        d["plots"][1]["spikeTimesSec"] = "soon"
        return d, "plots[1].spikeTimesSec"
    if view_type == "UnitLocations":
        d["units"][2]["x"] = "left"
        return d, "units[2].x"
    if view_type == "SpikeLocations":
        d["xRange"] = [0]
        return d, "xRange"
    if view_type == "UnitSimilarityMatrix":
        d["similarityScores"][3]["unitId2"] = 99
        return d, "similarityScores[3].unitId2"
    if view_type == "ConfusionMatrix":
        d["matchingUnitEventCounts"][0]["count"] = None
        return d, "matchingUnitEventCounts[0].count"
    if view_type == "UnitMetricsGraph":
        del d["metrics"][1]["dtype"]
        return d, "metrics[1].dtype"
    if view_type == "ElectrodeGeometry":
        d["channelLocations"]["3"] = ["a", "b"]
        return d, 'channelLocations["3"]'
    if view_type == "UnitImages":
        d["items"][0]["url"] = "https://example.org/unit.png"
        return d, "items[0].url"
    if view_type == "Summary":
        d["samplingFrequency"] = "30 kHz"
        return d, "samplingFrequency"
    raise AssertionError(view_type)


@pytest.mark.parametrize("view_type", sorted(BUILDERS))
def test_malformed_data_names_the_field(server, page, view_type):
    data, field = _break(view_type)
    page.goto(store_figure(server, [data], label="malformed"))
    msg = page.wait_for_selector(f"{view_sel(view_type)} .data-error", timeout=TIMEOUT).inner_text()
    assert field in msg and view_type in msg, msg
    # the other view of the figure still draws
    page.wait_for_selector(f"{view_sel('UnitsTable')} tr[data-unit]", timeout=TIMEOUT)
