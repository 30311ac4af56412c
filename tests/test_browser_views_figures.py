"""Views figures (sortingview.views, 0.14.2 formats) in Chromium: every view type of the registry draws in
each layout, selection is shared between views, bad data and unknown types say so, hostile values stay text.

The figures are plain dicts stored in the test's store (tests/views_figure_data.py); the server is a real
waitress server in a thread (no backend: a views figure needs no tasks)."""
from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest
import views_figure_data as F
from test_browser_support import CANVAS_INK, checked_page, screenshot
from test_server_support import running_server

UNITS = [1, 2, 3, 5, 8, 13, 21]
HOSTILE = "<img src=x onerror=window.__pwned=1>"


def all_views(units=UNITS):
    return [F.units_table(units), F.autocorrelograms(units), F.cross_correlograms(units), F.average_waveforms(units),
            F.spike_amplitudes(units), {"type": "SortingCuration2", "labelChoices": ["good", "bad"]},
            {"type": "SortingSelection"}, {"type": "SortingCuration"}]


LABELS = ["Units", "Autocorrelograms", "Cross-correlograms", "Waveforms", "Amplitudes", "Curation", "Selection",
          "Curation (old)"]


@pytest.fixture
def server(store_dir):
    with running_server(inline=True) as srv:
        yield srv


def open_figure(page, url):
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.goto(url)
    page.wait_for_selector(".sv-view[data-view-type]")
    return console_errors


def link_state(page) -> dict:
    """The link's &s= state as the page has it now (page.url follows history.replaceState only later)."""
    return json.loads(parse_qs(page.evaluate("() => location.search").lstrip("?"))["s"][0])


def visible_ink(page, selector):
    return [c.evaluate(CANVAS_INK)["ink"] for c in page.query_selector_all(selector) if c.is_visible()]


def test_every_view_type_draws_in_a_mountain_layout(server, browser):
    views = all_views()
    root = F.store_figure(views, F.mountain(views, LABELS, {5, 6, 7}))
    with checked_page(browser) as page:
        errors = open_figure(page, F.figure_url(server.url, root, "all views"))
        page.wait_for_selector("table.units tbody tr")
        assert page.locator("table.units tbody tr").count() == len(UNITS)
        page.click("tr[data-unit='2'] td.unit")
        page.click("tr[data-unit='5'] td.unit", modifiers=["Shift"])  # 2, 3, 5
        for tab, selector in [("Autocorrelograms", "canvas.acg"), ("Cross-correlograms", "canvas.ccg"),
                              ("Waveforms", "canvas.waveform"), ("Amplitudes", "canvas.amplitudes")]:
            page.click(f".sv-tab:has-text('{tab}')")
            page.wait_for_selector(f"{selector} >> visible=true")
            inks = visible_ink(page, selector)
            assert inks and all(ink > 300 for ink in inks), (tab, inks)
        assert len(visible_ink(page, "canvas.amplitudes")) == 1
        # a click in the amplitudes sets the figure's time range (kept in the link's state)
        box = page.locator("canvas.amplitudes").bounding_box()
        page.mouse.click(box["x"] + 58 + (box["width"] - 70) / 2, box["y"] + box["height"] / 2)
        t0, t1 = link_state(page)["timeRange"]
        assert 25 < t0 < t1 < 35 and abs((t1 - t0) - 0.1) < 1e-6
        page.click(".sv-tab:has-text('Cross-correlograms')")
        assert page.locator(".sv-view[data-view-type=CrossCorrelograms] canvas.ccg").count() == 9
        page.click(".sv-tab:has-text('Waveforms')")
        assert page.get_attribute(".sv-view[data-view-type=AverageWaveforms]", "data-drawn") == "3"
        # the control panel holds the curation and selection views
        assert page.locator(".sv-controls .curation-view").count() == 2
        assert "3 of 7 units selected" in page.inner_text(".sv-controls .selection-view")
        assert page.locator(".task-error").count() == 0
        screenshot(page, "views-figure-mountain.png")
    assert not errors, errors


def test_box_splitter_and_tab_layouts(server, browser):
    views = all_views()[:4]
    layout = {"type": "Splitter", "direction": "horizontal", "items": [
        F.leaf(0),
        {"type": "Box", "direction": "vertical", "showTitles": True, "items": [
            F.leaf(1),
            {"type": "TabLayout", "items": [F.leaf(2), F.leaf(3)],
             "itemProperties": [{"label": "CCG"}, {"label": "WF"}]}],
         "itemProperties": [{"title": "ACGs", "minSize": 200, "maxSize": 300}, {"title": "More", "stretch": 2}]}],
        "itemProperties": [{"minSize": 300}, {}]}
    root = F.store_figure(views, layout)
    with checked_page(browser) as page:
        errors = open_figure(page, F.figure_url(server.url, root, "layouts"))
        page.wait_for_selector("canvas.acg")
        assert page.locator(".sv-title").all_inner_texts() == ["ACGs", "More"]
        acg_box = page.locator(".sv-titled").first.bounding_box()
        assert 200 <= acg_box["height"] <= 300 + 30  # maxSize of the item, plus its title line
        page.click("tr[data-unit='3'] td.unit")
        page.click("tr[data-unit='8'] td.unit", modifiers=["Control"])
        page.click(".sv-tab:has-text('WF')")
        page.wait_for_selector(".sv-view[data-view-type=AverageWaveforms][data-drawn='2']")
        assert page.locator(".sv-view[data-view-type=CrossCorrelograms] >> visible=true").count() == 0
        page.click(".sv-tab:has-text('CCG')")
        page.wait_for_selector(".sv-view[data-view-type=CrossCorrelograms][data-drawn='4']")
        # the splitter moves
        handle = page.locator(".sv-handle").bounding_box()
        before = page.locator(".sv-splitter > .sv-item").first.bounding_box()["width"]
        page.mouse.move(handle["x"] + 2, handle["y"] + 100)
        page.mouse.down()
        page.mouse.move(handle["x"] + 150, handle["y"] + 100)
        page.mouse.up()
        after = page.locator(".sv-splitter > .sv-item").first.bounding_box()["width"]
        assert after > before + 100
        screenshot(page, "views-figure-layouts.png")
    assert not errors, errors


def test_selection_is_shared_across_views(server, browser):
    views = all_views()
    root = F.store_figure(views, {"type": "Box", "direction": "horizontal", "items": [F.leaf(0), F.leaf(1), F.leaf(6)],
                                "itemProperties": [{"stretch": 1}, {"stretch": 2}, {"maxSize": 250}]})
    with checked_page(browser) as page:
        open_figure(page, F.figure_url(server.url, root, "selection"))
        page.wait_for_selector("canvas.acg")

        def selected(selector):
            return page.eval_on_selector_all(selector, "els => els.map(e => e.dataset.unit)")

        page.click("tr[data-unit='3'] td.unit")
        assert selected(".plot-cell.selected") == ["3"]
        assert selected(".unit-chip.selected") == ["3"]
        page.click(".plot-cell[data-unit='8']", modifiers=["Shift"])  # a range, clicked in the correlograms
        assert selected("tr.selected") == ["3", "5", "8"]
        page.click(".unit-chip[data-unit='21']", modifiers=["Control"])  # toggled in the selection view
        assert selected(".plot-cell.selected") == ["3", "5", "8", "21"]
        page.keyboard.press("ArrowDown")  # from the last clicked unit, 21, the last: stays
        page.click("tr[data-unit='1'] td.unit")
        page.keyboard.press("ArrowDown")
        assert selected("tr.selected") == ["2"]
        page.keyboard.press("Control+a")
        assert len(selected("tr.selected")) == len(UNITS)
        page.keyboard.press("Escape")
        assert selected("tr.selected") == []
        page.click("#select-all")
        assert len(selected(".plot-cell.selected")) == len(UNITS)
        page.click(".selection-view .select-none")
        page.click("tr[data-unit='13'] td.unit")
        state = link_state(page)
        assert state["selectedUnitIds"] == [13]
        # sorting the table reorders the correlograms
        page.click("table.units th:has-text('Num. events')")
        table_order = selected("tbody tr")
        assert selected(".plot-cell") == table_order
        # restrict every view to the selected units (SortingSelection), and lift the restriction
        page.click("tr[data-unit='2'] td.unit", modifiers=["Control"])
        page.click(".selection-view button.restrict")
        assert sorted(selected("tbody tr")) == ["13", "2"] and sorted(selected(".plot-cell")) == ["13", "2"]
        state = link_state(page)
        assert sorted(state["visibleUnitIds"]) == [2, 13]
        # the selection and the restriction of the link are restored on load
        page.goto(page.evaluate("() => location.href"))
        page.wait_for_selector("tr.selected[data-unit='13']")
        assert sorted(selected("tbody tr")) == ["13", "2"]
        page.click(".selection-view button.unrestrict")
        assert len(selected("tbody tr")) == len(UNITS)


def test_bad_data_and_unknown_types_say_which(server, browser):
    bad_wf = F.average_waveforms([1, 2])
    bad_wf["averageWaveforms"][1]["channelIds"] = [0, 1]  # the waveform has 4 channels
    views = [F.units_table([1, 2]), bad_wf, {"type": "RasterPlotOfTheFuture"}, {"type": "Autocorrelograms"}]
    root = F.store_figure(views, {"type": "Box", "direction": "vertical", "items": [F.leaf(i) for i in range(4)] + [
        {"type": "Weird"}], "itemProperties": [{}] * 5})
    with checked_page(browser) as page:
        open_figure(page, F.figure_url(server.url, root, "bad data"))
        page.wait_for_selector("table.units")
        texts = page.locator(".task-error").all_inner_texts()
        assert any("averageWaveforms[1].waveform must be an array (channels x samples)" in t for t in texts), texts
        assert any("view type RasterPlotOfTheFuture is not supported" in t for t in texts), texts
        assert any("Autocorrelograms data: autocorrelograms must be a list" in t for t in texts), texts
        assert any("layout type Weird is not supported" in t for t in texts), texts
        assert page.locator("table.units tbody tr").count() == 2  # the good view still draws
        # a figure root that is not a MainLayout
        page.goto(F.figure_url(server.url, _not_a_figure(), "nope"))
        page.wait_for_selector(".task-error:has-text('Cannot load this figure')")


def _not_a_figure() -> str:
    from sortingview.store import store_json
    return store_json({"type": "NotAFigure"})


def test_hostile_ids_labels_and_names_render_as_text(server, browser):
    units = [HOSTILE, "u2", 7]
    table = F.units_table(units)
    table["columns"].append({"key": "x", "label": HOSTILE, "dtype": "float"})
    for r in table["rows"]:
        r["values"]["x"] = HOSTILE
    views = [table, F.autocorrelograms(units), F.average_waveforms(units),
             {"type": "SortingCuration2", "labelChoices": [HOSTILE, "ok"]}, {"type": "SortingSelection"},
             {"type": HOSTILE}]
    layout = F.mountain(views, [HOSTILE, "ACG", "WF", "Curation", "Selection", "Bad"], {3, 4})
    root = F.store_figure(views, layout)
    from sortingview.store import store_json
    curation = store_json({"labelsByUnit": {"u2": [HOSTILE]}, "mergeGroups": [[HOSTILE, 7]]})
    with checked_page(browser) as page:
        open_figure(page, F.figure_url(server.url, root, HOSTILE, {"sortingCuration": curation}))
        page.wait_for_selector("table.units tbody tr")
        page.click(".sv-tab:has-text('ACG')")
        page.wait_for_selector("canvas.acg >> visible=true")
        page.click(".sv-tab:has-text('WF')")
        page.wait_for_selector("canvas.waveform >> visible=true")
        assert page.evaluate("() => window.__pwned") is None
        assert page.locator("img").count() == 0
        body = page.evaluate("() => document.body.textContent")  # hidden tabs too
        # title, tab, column header, cells, unit ids (table, selection), merge tag, label chip, label choice
        assert body.count(HOSTILE) >= 10, body
        assert page.title() == HOSTILE
        assert page.locator(f"tr[data-unit='{HOSTILE}'] td.unit").count() == 1
        page.click(".sv-tab:has-text('Bad')")  # views are mounted when first shown
        page.wait_for_selector(f".task-error:has-text('view type {HOSTILE} is not supported')")
        screenshot(page, "views-figure-hostile.png")


def test_units_table_similarity_follows_the_current_unit(server, browser):
    table = F.units_table([1, 2, 3])
    table["similarityScores"] = [{"unitId1": 1, "unitId2": 2, "similarity": 0.8},
                                 {"unitId1": 1, "unitId2": 3, "similarity": 0.1},
                                 {"unitId1": 2, "unitId2": 3, "similarity": 0.45}]
    root = F.store_figure([table], {"type": "Box", "direction": "horizontal", "items": [F.leaf(0)],
                                    "itemProperties": [{}]})
    with checked_page(browser) as page:
        open_figure(page, F.figure_url(server.url, root, "similarity"))
        page.wait_for_selector("table.units th:has-text('Similarity')")

        def similarity():
            return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('table.units tbody tr')]
                .map((tr) => [tr.dataset.unit, tr.children[2].textContent]))""")

        assert similarity() == {"1": "–", "2": "–", "3": "–"}
        page.click("tr[data-unit='2'] td.unit")
        assert similarity() == {"1": "0.80", "2": "1.00", "3": "0.45"}
        page.click("table.units th:has-text('Similarity')")
        page.click("table.units th:has-text('Similarity')")  # descending: the current unit first
        assert page.eval_on_selector_all("tbody tr", "rs => rs.map(r => r.dataset.unit)") == ["2", "1", "3"]
