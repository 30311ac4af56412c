"""The viewer in real headless Chromium, against a real `sortingview-start-backend` process.

One seeded workspace and one backend serve the whole module. Screenshots of the main views are saved
under test-artifacts/.
"""
from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest
from conftest import CHROMIUM, skip_or_fail
from test_browser_support import (
    CANVAS_INK,
    INLINE_SCRIPT_RUNS,
    checked_page,
    chromium_browser,
    screenshot,
    seeded_view,
    serve_with_csp,
)
from test_server_support import http

from sortingview import store

pytestmark = [pytest.mark.browser, pytest.mark.slow]
NUM_UNITS = 6


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """A store with a workspace (seeded recording + sorting), two users, and a running backend."""
    import os

    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        skip_or_fail(f"Chromium not found at {CHROMIUM}; install it with `apt-get install -y chromium`")
    with seeded_view(tmp_path_factory.mktemp("browser"), workspace_label="browser test", label="browser test view",
                     seed=11, num_units=NUM_UNITS, authorized=("alice",), users=("alice", "mallory")) as e:
        yield e


@pytest.fixture(scope="module")
def browser(env):
    with chromium_browser(CHROMIUM) as b:
        yield b


@pytest.fixture
def page(browser, chromium_path):
    with checked_page(browser) as pg:
        yield pg


def open_view(page, link: str):
    page.goto(link)
    page.wait_for_selector(f"#acg-view[data-drawn='{NUM_UNITS}']", timeout=60_000)
    page.wait_for_function("() => document.querySelectorAll('table.units td.num').length > 0 && "
                           "[...document.querySelectorAll('table.units th')].some(th => /SNR/.test(th.textContent))",
                           timeout=60_000)


def column_values(page, header: str) -> list[str]:
    return page.evaluate("""(header) => {
      const ths = [...document.querySelectorAll('table.units thead th')];
      const i = ths.findIndex(th => th.textContent.trim().replace(/ [▲▼]$/, '') === header);
      return [...document.querySelectorAll('table.units tbody tr')].map(tr => tr.children[i].textContent.trim());
    }""", header)


def selected_units(page) -> list[str]:
    return page.eval_on_selector_all("table.units tbody tr.selected", "rows => rows.map(r => r.dataset.unit)")


def test_table_lists_units_with_metrics_and_sorts(env, page):
    open_view(page, env["link"])
    rows = page.eval_on_selector_all("table.units tbody tr", "rows => rows.map(r => r.dataset.unit)")
    assert sorted(rows) == sorted(str(u) for u in env["ds"].unit_ids)
    counts = {u: int(v) for u, v in zip(rows, column_values(page, "Num. events"), strict=True)}
    assert counts == {str(u): n for u, n in env["ds"].spike_counts.items()}
    page.click("table.units th:has-text('Num. events')")
    ascending = [int(v) for v in column_values(page, "Num. events")]
    assert ascending == sorted(ascending)
    page.click("table.units th:has-text('Num. events')")
    descending = [int(v) for v in column_values(page, "Num. events")]
    assert descending == sorted(ascending, reverse=True)
    page.click("table.units th:has-text('SNR')")
    snr = [float(v) for v in column_values(page, "SNR")]
    assert snr == sorted(snr)
    # the autocorrelograms follow the table's order
    rows = page.eval_on_selector_all("table.units tbody tr", "rows => rows.map(r => r.dataset.unit)")
    assert page.eval_on_selector_all("#acg-view .plot-cell", "cells => cells.map(c => c.dataset.unit)") == rows
    screenshot(page, "viewer-table-autocorrelograms.png")


def test_click_shift_click_ctrl_click_and_select_all(env, page):
    open_view(page, env["link"])
    order = page.eval_on_selector_all("table.units tbody tr", "rows => rows.map(r => r.dataset.unit)")
    page.click(f"tr[data-unit='{order[1]}'] td.unit")
    assert selected_units(page) == [order[1]]
    page.click(f"tr[data-unit='{order[3]}'] td.unit", modifiers=["Shift"])
    assert selected_units(page) == order[1:4]
    page.click(f"tr[data-unit='{order[2]}'] td.unit", modifiers=["Control"])
    assert selected_units(page) == [order[1], order[3]]
    page.click("#select-all")
    assert selected_units(page) == order
    page.click("#select-all")
    assert selected_units(page) == []
    page.click(f"tr[data-unit='{order[0]}'] td.unit")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("j")
    assert selected_units(page) == [order[2]]
    # the URL carries the selection, so the link reproduces the view
    s = json.loads(parse_qs(page.evaluate("() => location.search").lstrip("?"))["s"][0])  # (page.url: later)
    assert [str(u) for u in s["units"]] == [order[2]]


def test_autocorrelograms_are_drawn_for_all_then_selected_units(env, page):
    open_view(page, env["link"])
    canvases = page.query_selector_all("#acg-view canvas.acg")
    assert len(canvases) == NUM_UNITS
    for c in canvases:
        ink = c.evaluate(CANVAS_INK)
        assert ink["blue"] > 200, f"an autocorrelogram has almost no bars: {ink}"
    order = page.eval_on_selector_all("table.units tbody tr", "rows => rows.map(r => r.dataset.unit)")
    page.click(f"tr[data-unit='{order[0]}'] td.unit")
    page.click(f"tr[data-unit='{order[1]}'] td.unit", modifiers=["Control"])
    page.select_option("#acg-mode", "selected")
    page.wait_for_selector("#acg-view[data-drawn='2']")
    shown = page.eval_on_selector_all("#acg-view .plot-cell", "cells => cells.map(c => c.dataset.unit)")
    assert sorted(shown) == sorted(order[:2])


def test_waveforms_are_drawn_on_the_probe_for_selected_units(env, page):
    open_view(page, env["link"])
    order = page.eval_on_selector_all("table.units tbody tr", "rows => rows.map(r => r.dataset.unit)")
    page.click(f"tr[data-unit='{order[0]}'] td.unit")
    page.click(f"tr[data-unit='{order[2]}'] td.unit", modifiers=["Control"])
    page.click(".tab[data-view=waveforms]")
    page.wait_for_selector("#waveform-view[data-drawn='2']", timeout=60_000)
    for c in page.query_selector_all("#waveform-view canvas.waveform"):
        ink = c.evaluate(CANVAS_INK)
        assert ink["ink"] > 1500, f"a waveform panel is nearly empty: {ink}"
    # the peak channel column is filled from the same waveforms and names a channel of the recording
    peaks = column_values(page, "Peak ch.")
    assert all(p in {str(c) for c in env["ds"].channel_ids} for p in peaks)
    screenshot(page, "viewer-waveforms.png")
    # overlay: both units in one panel, each in its own colour
    page.check("#overlay")
    page.wait_for_selector("#waveform-view .waveform-cell[data-unit=overlay]")
    panels = page.query_selector_all("#waveform-view canvas.waveform")
    assert len(panels) == 1 and panels[0].evaluate(CANVAS_INK)["ink"] > 2000
    legend = page.inner_text("#waveform-view .legend")
    assert f"unit {order[0]}" in legend and f"unit {order[2]}" in legend
    screenshot(page, "viewer-waveforms-overlay.png")


def test_a_shared_link_reproduces_selection_and_view(env, page):
    units = [str(u) for u in env["ds"].unit_ids[:2]]
    link = env["W"].spikesortingview(recording_id=env["rid"], sorting_id=env["sid"], label="shared",
                                     base_url=env["url"], selected_unit_ids=env["ds"].unit_ids[:2], view="waveforms")
    page.goto(link)
    page.wait_for_selector("#waveform-view[data-drawn='2']", timeout=60_000)
    assert sorted(selected_units(page)) == sorted(units)
    assert page.get_attribute(".tab[data-view=waveforms]", "class").split().count("active") == 1


def sign_in(page, token: str):
    page.click("#signin-btn")
    page.fill("#token-input", token)
    page.click("#signin-form button[type=submit]")
    page.wait_for_function("() => !document.querySelector('#signin-dialog').open")


def test_read_only_without_sign_in_and_server_refuses_writes(env, page):
    open_view(page, env["link"])
    page.wait_for_selector("#curation .who.readonly")
    order = page.eval_on_selector_all("table.units tbody tr", "rows => rows.map(r => r.dataset.unit)")
    page.click(f"tr[data-unit='{order[0]}'] td.unit")
    assert page.is_disabled("#curation button[data-label=accept]")
    # whatever the client does, the server refuses: no token 401, a user not authorized 403
    body = {"workspace": env["W"].uri, "sortingId": env["sid"],
            "action": {"type": "ADD_UNIT_LABEL", "unitId": env["ds"].unit_ids[0], "label": "accept"}}
    status, r = http(f"{env['url']}/api/curation", body=body)
    assert status == 401 and "sign in" in r["error"]
    status, r = http(f"{env['url']}/api/curation", body=body,
                     headers={"Authorization": f"Bearer {env['tokens']['mallory']}"})
    assert status == 403 and "mallory" in r["error"]
    sign_in(page, env["tokens"]["mallory"])
    page.wait_for_selector("#curation .who.readonly:has-text('not authorized')")
    assert page.is_disabled("#curation button[data-label=accept]")
    assert env["W"].get_sorting_curation(env["sid"])["labelsByUnit"] == {}
    screenshot(page, "viewer-read-only.png")


def test_curation_by_an_authorized_user_survives_reload(env, page):
    W, sid = env["W"], env["sid"]
    open_view(page, env["link"])
    sign_in(page, env["tokens"]["alice"])
    page.wait_for_selector("#curation .who.can")
    order = page.eval_on_selector_all("table.units tbody tr", "rows => rows.map(r => r.dataset.unit)")
    page.click(f"tr[data-unit='{order[0]}'] td.unit")
    page.keyboard.press("1")  # label choice 1 = accept
    page.wait_for_selector(f"tr[data-unit='{order[0]}'] .label-chip:has-text('accept')")
    page.click(f"tr[data-unit='{order[1]}'] td.unit")
    page.click(f"tr[data-unit='{order[2]}'] td.unit", modifiers=["Control"])
    page.click("#merge")
    page.wait_for_selector(f"tr[data-unit='{order[1]}'].merged")
    # the merged unit gets its own autocorrelogram, computed from the union of the members' spike trains
    group = "+".join(sorted(order[1:3], key=int))
    merged = page.wait_for_selector(f"#acg-view .merged-acg[data-group='{group}'] canvas", timeout=60_000)
    assert merged.evaluate(CANVAS_INK)["ink"] > 500
    page.reload()
    open_view(page, page.url)
    page.wait_for_selector(f"tr[data-unit='{order[0]}'] .label-chip:has-text('accept')")
    assert "merged" in page.get_attribute(f"tr[data-unit='{order[2]}']", "class")
    history = page.inner_text("#curation ol.history")
    assert "alice" in history and "merge units" in history
    screenshot(page, "viewer-curation.png")
    cur = W.get_sorting_curation(sid)
    assert cur["labelsByUnit"] == {order[0]: ["accept"]}
    assert [sorted(map(str, g)) for g in cur["mergeGroups"]] == [sorted(order[1:3])]
    authors = {h["userId"] for h in W.get_sorting_curation_history(sid)}
    assert authors == {"alice"}
    # undo through the viewer too, so the module's other tests see a clean curation
    page.click(f"tr[data-unit='{order[1]}'] td.unit")
    page.click("#unmerge")
    page.wait_for_selector(f"tr[data-unit='{order[1]}']:not(.merged)")
    page.click(f"tr[data-unit='{order[0]}'] td.unit")
    page.keyboard.press("Shift+Digit1")  # shift+1 as 1 (the original's key in views figures)
    page.wait_for_function(f"() => !document.querySelector(\"tr[data-unit='{order[0]}'] .label-chip\")")
    # a custom label becomes a label choice (a button), then goes on the selected unit
    page.fill("#custom-label", "bursty")
    page.press("#custom-label", "Enter")
    page.wait_for_selector(f"tr[data-unit='{order[0]}'] .label-chip:has-text('bursty')")
    assert "bursty" in W.get_label_choices(sid)
    page.click("#curation button[data-label=bursty]")
    page.wait_for_function(f"() => !document.querySelector(\"tr[data-unit='{order[0]}'] .label-chip\")")
    assert W.get_sorting_curation(sid) == {"labelsByUnit": {}, "mergeGroups": [], "isClosed": False}


def test_a_task_error_is_shown_in_the_view_that_needed_it(env, page):
    # figure data whose recording is not a recording object: the recording tasks fail, the sorting ones work
    good = store.load_json(env["link"].split("d=")[1].split("&")[0])
    bad = dict(good, recordingUri=store.store_json({"format": "nonsense", "data": {}}))
    uri = store.store_json(bad)
    page.goto(f"{env['url']}/f?v=spikesortingview-1&d={uri}&label=broken")
    page.wait_for_selector(f"#acg-view[data-drawn='{NUM_UNITS}']", timeout=60_000)
    page.wait_for_selector("#units-errors .task-error", timeout=60_000)
    assert "nonsense" in page.inner_text("#units-errors .task-error")
    page.click(".tab[data-view=waveforms]")
    page.wait_for_selector("#waveform-view .task-error", timeout=60_000)
    screenshot(page, "viewer-task-error.png")


def test_status_bar_and_backend_id_setting(env, page):
    open_view(page, env["link"])
    page.wait_for_selector("#statusbar .dot.up")
    assert "backend alive" in page.inner_text("#statusbar")
    page.click("#settings-btn")
    page.fill("#backend-input", "lab-gpu-1")
    page.click("#settings-form button[type=submit]")
    # the only backend running has no backend id, so none serves this one; the status bar says so
    page.wait_for_selector("#statusbar .dot.down", timeout=15_000)
    text = page.inner_text("#statusbar")
    assert "no backend for this backend id" in text and "backend id: lab-gpu-1" in text
    page.reload()
    page.wait_for_selector("#statusbar:has-text('backend id: lab-gpu-1')")  # kept in local storage
    page.click("#settings-btn")
    page.fill("#backend-input", "")
    page.click("#settings-form button[type=submit]")
    page.wait_for_selector("#statusbar .dot.up", timeout=15_000)
    page.keyboard.press("?")
    assert page.is_visible("#help-dialog") and "merge the selected units" in page.inner_text("#help-dialog")


def test_labels_are_shown_as_text_never_as_html(env, page):
    open_view(page, env["link"])
    sign_in(page, env["tokens"]["alice"])
    page.wait_for_selector("#curation .who.can")
    unit = str(env["ds"].unit_ids[-1])
    page.click(f"tr[data-unit='{unit}'] td.unit")
    evil = "<img src=x onerror=window.__pwned=1>"
    page.fill("#custom-label", evil)
    page.press("#custom-label", "Enter")
    chip = page.wait_for_selector(f"tr[data-unit='{unit}'] .label-chip")
    assert chip.text_content() == evil
    page.wait_for_selector(f"#curation ol.history li:has-text('{evil}')")  # the history, as text too
    assert page.query_selector("table.units img, #curation img") is None
    assert page.evaluate("() => window.__pwned") is None
    page.click("#curation button.label-btn.on")  # take it off again
    page.wait_for_function(f"() => !document.querySelector(\"tr[data-unit='{unit}'] .label-chip\")")


def test_pending_tasks_show_in_the_status_bar(env, page):
    W, sid = env["W"], env["sid"]
    open_view(page, env["link"])
    sign_in(page, env["tokens"]["alice"])
    page.click("#settings-btn")
    page.fill("#backend-input", "nobody-serves-this")
    page.click("#settings-form button[type=submit]")
    page.wait_for_selector("#statusbar .dot.down", timeout=15_000)
    u3, u4 = (str(u) for u in env["ds"].unit_ids[3:5])
    page.click(f"tr[data-unit='{u3}'] td.unit")
    page.click(f"tr[data-unit='{u4}'] td.unit", modifiers=["Control"])
    page.keyboard.press("m")
    # the merged unit's autocorrelogram is a new calculation, queued for a backend id nobody serves
    page.wait_for_selector("#statusbar .pending:has-text('merged autocorrelograms')", timeout=15_000)
    assert int(page.get_attribute("#statusbar .pending", "data-count")) >= 1
    screenshot(page, "viewer-pending-task.png")
    page.keyboard.press("u")
    page.wait_for_selector(f"tr[data-unit='{u3}']:not(.merged)")
    assert W.get_sorting_curation(sid)["mergeGroups"] == []


def test_changes_by_others_appear_without_reload(env, page):
    W, sid = env["W"], env["sid"]
    unit = env["ds"].unit_ids[2]
    open_view(page, env["link"])
    page.wait_for_selector("#curation .who.readonly")
    # a script (the workspace owner) labels a unit: the open viewer follows the curation feed
    W.apply_curation_action(sid, {"type": "ADD_UNIT_LABEL", "unitId": unit, "label": "noise"})
    page.wait_for_selector(f"tr[data-unit='{unit}'] .label-chip:has-text('noise')", timeout=30_000)
    assert "noise" in page.inner_text("#curation ol.history")
    W.apply_curation_action(sid, {"type": "REMOVE_UNIT_LABEL", "unitId": unit, "label": "noise"})
    page.wait_for_selector(f"tr[data-unit='{unit}'] td.labels:not(:has(.label-chip))", timeout=30_000)


def test_viewer_runs_under_a_strict_csp(env, browser):
    with checked_page(browser) as page:
        serve_with_csp(page)
        open_view(page, env["link"])
        page.click("#help-btn")  # was an inline onclick, which script-src 'self' refuses
        page.wait_for_function("() => document.querySelector('#help-dialog').open")
        page.click("#help-close")
        page.click(".tab[data-view=waveforms]")
        page.wait_for_selector("#waveform-view canvas.waveform")
        assert page.evaluate("() => window.__cspViolations") == []
        # the policy is in force: an inline script added to the page does not run, and is reported
        assert page.evaluate(INLINE_SCRIPT_RUNS) is False
        page.wait_for_function("() => window.__cspViolations.some((v) => v.startsWith('script-src'))")


def test_the_status_bar_shows_a_running_sorter_and_its_log(env, page):
    """A sorting job held by a worker (claimed here as a sorting worker would) shows in the status bar with the
    last line of its log, read by the real server from the log file the sorter writes; log text is escaped."""
    import os

    from sortingview.backend.channel import TaskRequest, open_channel
    from sortingview.serialize import task_job_id
    from sortingview.tasks.sorting import TASK_NAME, sorting_log_path, sorting_task_input

    chan = open_channel()
    task_input = sorting_task_input(env["W"].get_recording_record(env["rid"])["recordingUri"], "simple")
    job_id = task_job_id(TASK_NAME, task_input)
    # for a backend id no running backend serves: the module's backend (every handler inline) would otherwise
    # claim it first now and then
    holder = "status-bar-test"
    chan.submit(TaskRequest(job_id, TASK_NAME, "calculation", "sorting", task_input, backend_id=holder))
    [job] = chan.claim("test/sorting1", {"sorting": 1}, backend_id=holder)
    log = sorting_log_path(task_input)
    os.makedirs(os.path.dirname(log), exist_ok=True)
    with open(log, "w") as f:
        f.write("detect peaks\nclustering <b>42%</b>\n")
    try:
        open_view(page, env["link"])
        page.wait_for_selector("#statusbar .sorters", timeout=15_000)
        text = page.inner_text("#statusbar .sorters")
        assert text.startswith("1 sorter running") and text.endswith("clustering <b>42%</b>"), text
        assert page.eval_on_selector("#statusbar .sorters", "e => e.querySelector('b') === null")  # shown as text
        assert "detect peaks" in page.get_attribute("#statusbar .sorters", "title")
    finally:
        chan.fail(job.worker, job.job_id, "test over")
        os.remove(log)
