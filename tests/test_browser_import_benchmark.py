"""Chromium: import a recording folder and sort it from the browser; the benchmark page's numbers."""
from __future__ import annotations

import math

from test_browser_support import backend_process, checked_page, chromium_browser, screenshot
from test_server_support import http, running_server


def test_import_and_sort_from_the_browser(store_dir, tmp_path, chromium_path):
    from spikeinterface.core import generate_ground_truth_recording

    from sortingview.server.auth import UserStore, users_file
    from sortingview.workspace import load_workspace

    root = tmp_path / "import"
    root.mkdir()
    rec, _ = generate_ground_truth_recording(durations=[6.0], num_channels=4, num_units=3, seed=5)
    rec.save(folder=str(root / "session1"), verbose=False)
    users = UserStore(users_file())
    alice, bob = users.add_user("alice"), users.add_user("bob")
    with backend_process(str(tmp_path), "--import-folder", str(root), "--importers", "alice") as url:
        assert http(f"{url}/api/import/list", headers={"Authorization": f"Bearer {bob}"})[0] == 403
        assert http(f"{url}/api/import/list?path=../", headers={"Authorization": f"Bearer {alice}"})[0] == 403
        with chromium_browser(chromium_path) as browser, checked_page(browser) as pg:
            pg.goto(f"{url}/import")
            pg.fill("#im-token", alice)
            pg.click("#im-signin-btn")
            pg.wait_for_selector("#im-files li[data-path=session1]")
            assert "alice" in pg.text_content("#im-user")
            pg.fill("#im-ws-label", "browser import")
            pg.click("#im-ws-create")
            pg.wait_for_selector("#im-ws-current:has-text('sortingview-workspace:')")
            pg.click("#im-files li[data-path=session1]")
            pg.click("#im-add-recording")
            pg.wait_for_selector("#im-recordings input[name=im-rec]")
            pg.select_option("#im-sorter", "simple")
            pg.fill("#im-params", "{}")
            pg.click("#im-sort")
            pg.wait_for_selector("tr.im-job")
            pg.wait_for_selector("tr.im-job[data-status=done]", timeout=300_000)
            assert pg.text_content("#im-message") == ""
            view = pg.get_attribute("tr.im-job[data-status=done] a.im-view", "href")
            pg.fill("#im-params", '{"detect_treshold": 5}')  # misspelt: refused before anything runs
            pg.click("#im-sort")
            pg.wait_for_selector("#im-message:has-text('no parameter')")
            pg.fill("#im-params", '{"detect_threshold": "high"}')  # the sorter fails and its log says why
            pg.click("#im-sort")
            pg.wait_for_selector("tr.im-job[data-status=failed]", timeout=120_000)
            assert "'detect_threshold': 'high'" in pg.text_content("tr.im-job[data-status=failed] pre.log")
            screenshot(pg, "import-and-sort.png")
            ws_uri = pg.text_content("#im-ws-current").removeprefix("Workspace: ")
    W = load_workspace(ws_uri)
    (rid,) = W.recording_ids
    labels = [W.get_sorting_record(s)["sortingLabel"] for s in W.get_sorting_ids_for_recording(rid)]
    assert labels == ["simple default"]
    (sid,) = W.get_sorting_ids_for_recording(rid)
    assert W.sorting_run_info(sid)["sorterName"] == "simple"
    assert view.startswith(f"{url}/f?v=spikesortingview-1&d=sha1://")


def test_the_benchmark_page_shows_the_benchmark_table(store_dir, chromium_path):
    from spikeinterface.core import NumpySorting

    from sortingview.extractors import copy_sorting_extractor, load_sorting
    from sortingview.workspace.benchmark_sets import create_benchmark

    W = create_benchmark("bm1", snr_levels=(8.0,), drift=(False, True), duration=6.0, num_channels=4, num_units=4,
                         progress=False)
    for rid in W.recording_ids:  # two "sorters": the ground truth with half / all of each unit's spikes
        gt = load_sorting(W.get_sorting_record(W.get_ground_truth(rid))["sortingUri"])
        for name, step in (("halves", 2), ("all", 1)):
            units = {u: gt.get_unit_spike_train(u)[::step] for u in gt.get_unit_ids()}
            s = NumpySorting.from_unit_dict([units], gt.get_sampling_frequency())
            W.add_sorting(recording_id=rid, label=name, sorting=copy_sorting_extractor(s))
    table = W.get_benchmark_table()
    with running_server(inline=True) as srv, chromium_browser(chromium_path) as browser, checked_page(browser) as pg:
        pg.goto(f"{srv.url}/benchmark?w=bm1")
        pg.wait_for_selector("body[data-ready='1']", timeout=120_000)
        cells = pg.eval_on_selector_all("#bm-matrix td[data-sorting-id]", "els => els.map(e => [e.dataset.sortingId, "
                                        "Number(e.dataset.accuracy), e.textContent, e.querySelector('a').href])")
        assert len(cells) == len(table) == 4
        by_sid = {r.sortingId: r for r in table.itertuples()}
        for sid, acc, text, href in cells:
            assert math.isclose(acc, by_sid[sid].accuracy) and text == f"{by_sid[sid].accuracy:.3f}"
            assert "/f?v=spikesortingview-1" in href
        summary = pg.eval_on_selector_all("#bm-summary tr[data-sorter]", "els => els.map(e => [e.dataset.sorter, "
                                          "e.dataset.study, [...e.querySelectorAll('td')].map(t => t.textContent)])")
        gt_rows = {s: r for s, st, r in summary if st == "(all studies)"}
        for sorter, rows in table.groupby("sorter"):
            assert gt_rows[sorter][2] == str(rows.numGtUnits.sum())
        assert float(gt_rows["halves"][3]) < float(gt_rows["all"][3])
        assert pg.eval_on_selector_all("svg.scatter", "els => els.length") == 2
        screenshot(pg, "benchmark-page.png")
        assert pg.eval_on_selector_all("circle.bm-point", "els => els.length") > 0
        # the y axis has numbers, every point is drawn whole inside its plot, name headers align with their cells
        assert pg.eval_on_selector_all("svg.scatter", "els => els.map(s => [...s.querySelectorAll('text.y-tick')]"
                                       ".map(t => t.textContent).join(','))") == ["0,0.5,1", "0,0.5,1"]
        outside = pg.eval_on_selector_all("circle.bm-point, svg.scatter text", """els => els.filter(c => {
          const p = c.getBoundingClientRect(), s = c.ownerSVGElement.getBoundingClientRect();
          return p.left < s.left || p.right > s.right - 1 || p.top < s.top || p.bottom > s.bottom; }).length""")
        assert outside == 0
        aligns = pg.eval_on_selector_all("#bm-summary th, #bm-matrix th", "els => els.map(e => [e.textContent, "
                                         "getComputedStyle(e).textAlign])")
        assert [a for t, a in aligns if t in ("sorter", "study")] == ["left", "left", "left"], aligns
        status, _ = http(f"{srv.url}/api/benchmark?w=nosuch")
        assert status == 404
        status, body = http(f"{srv.url}/api/benchmark?w=bm1&snr=high")
        assert status == 400 and "SNR thresholds" in body["error"]
