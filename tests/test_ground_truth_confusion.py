"""The confusion-matrix view of a sorting against its recording's ground truth: its data equal
SpikeInterface's comparison, and its link draws the ConfusionMatrix in Chromium."""
from __future__ import annotations

import os
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from conftest import CHROMIUM, skip_or_fail

import sortingview as sv
from sortingview.errors import WorkspaceError
from sortingview.store import load_json


def _pair(seed: int = 2):
    """A workspace with a generated recording, its ground truth and a sorting that drops, merges and invents
    units (so the matrix has partial and off-diagonal matches); the ids and SpikeInterface's sortings."""
    import spikeinterface.core as sc

    rec, gt = sc.generate_ground_truth_recording(durations=[6.0], num_channels=4, num_units=4, seed=seed)
    trains = {u: gt.get_unit_spike_train(u) for u in gt.unit_ids}
    u0, u1, u2 = gt.unit_ids[:3]
    rng = np.random.default_rng(seed)
    tested = sc.NumpySorting.from_unit_dict([{
        10: np.delete(trains[u0], np.arange(0, len(trains[u0]), 3)),         # two thirds of unit 0
        11: np.unique(np.concatenate([trains[u1], trains[u2]])),             # units 1 and 2 merged
        12: np.sort(rng.choice(rec.get_num_frames(), 40, replace=False)),    # noise
    }], sampling_frequency=rec.get_sampling_frequency())
    W = sv.create_workspace(label="confusion")
    rid = W.add_recording(label="generated", recording=sv.copy_recording_extractor(rec, progress=False))
    gid = W.add_sorting(recording_id=rid, label="ground truth", sorting=sv.copy_sorting_extractor(gt),
                        ground_truth=True)
    sid = W.add_sorting(recording_id=rid, label="tested", sorting=sv.copy_sorting_extractor(tested))
    return W, gid, sid, gt, tested


def _views(link: str) -> dict:
    fig = load_json(parse_qs(urlparse(link).query)["d"][0])
    return {v["type"]: load_json(v["dataUri"]) for v in fig["views"]}


def test_the_confusion_view_holds_spikeinterface_counts(store_dir):
    from spikeinterface.comparison import compare_sorter_to_ground_truth

    W, gid, sid, gt, tested = _pair()
    link = W.get_ground_truth_confusion_view(sid, base_url="http://127.0.0.1:1")
    assert link.startswith("http://127.0.0.1:1/f?v=sortingview-views-1&d=sha1://")
    views = _views(link)
    cm = views["ConfusionMatrix"]
    comp = compare_sorter_to_ground_truth(gt, tested, delta_time=0.4, match_score=0.5)
    assert cm["sorting1UnitIds"] == [f"GT{u}" for u in gt.unit_ids]
    assert cm["sorting2UnitIds"] == ["S10", "S11", "S12"]
    counts = {c["unitId"]: c["count"] for c in cm["unitEventCounts"]}
    assert counts == {**{f"GT{u}": int(n) for u, n in comp.event_counts1.items()},
                      **{f"S{u}": int(n) for u, n in comp.event_counts2.items()}}
    matching = {(c["unitId1"], c["unitId2"]): c["count"] for c in cm["matchingUnitEventCounts"]}
    expected = {(f"GT{g}", f"S{s}"): int(comp.match_event_count.loc[g, s])
                for g in gt.unit_ids for s in tested.unit_ids if comp.match_event_count.loc[g, s] > 0}
    assert matching == expected and len(expected) >= 3
    u0, u1, u2 = gt.unit_ids[:3]
    assert matching[(f"GT{u1}", "S11")] > 0 and matching[(f"GT{u2}", "S11")] > 0  # the merge is visible
    rows = {r["unitId"]: r["values"] for r in views["UnitsTable"]["rows"]}
    assert rows["S10"]["bestMatch"] == f"GT{u0}" and rows[f"GT{u0}"]["numEvents"] == counts[f"GT{u0}"]

    with pytest.raises(WorkspaceError, match="no ground truth to compare with"):
        W.get_ground_truth_confusion_view(gid)


def test_ground_truth_table_prints_the_confusion_link(store_dir, monkeypatch):
    from click.testing import CliRunner

    from sortingview.cli import main as cli_main

    W, _, sid, _, _ = _pair(seed=3)
    monkeypatch.setenv("SORTINGVIEW_URL", "http://127.0.0.1:9")
    res = CliRunner().invoke(cli_main, ["ground-truth", "table", "--workspace", W.uri, "--recording",
                                        W.get_sorting_record(sid)["recordingId"]])
    assert res.exit_code == 0, res.output
    line = [x for x in res.output.splitlines() if x.startswith(f"confusion matrix of {sid} with the ground truth: ")]
    assert len(line) == 1
    link = line[0].split(": ", 1)[1]
    assert link.startswith("http://127.0.0.1:9/f?v=sortingview-views-1&d=sha1://")
    assert _views(link)["ConfusionMatrix"]["sorting2UnitIds"] == ["S10", "S11", "S12"]


def test_the_confusion_link_draws_in_chromium(store_dir, tmp_path):
    from test_browser_support import CANVAS_INK, backend_process, checked_page, chromium_browser, screenshot

    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        skip_or_fail(f"Chromium not found at {CHROMIUM}; install it with `apt-get install -y chromium`")
    W, _, sid, gt, _ = _pair(seed=4)
    with backend_process(str(tmp_path)) as url, chromium_browser(CHROMIUM) as browser, checked_page(browser) as page:
        page.goto(W.get_ground_truth_confusion_view(sid, base_url=url))
        canvas = "[data-view-type='ConfusionMatrix'] canvas.unit-matrix"
        page.wait_for_selector(canvas, timeout=30_000)
        page.wait_for_selector("[data-view-type='UnitsTable'] tr[data-unit='S11']", timeout=30_000)
        assert page.eval_on_selector(canvas, CANVAS_INK)["ink"] > 5000
        assert not page.query_selector_all(".task-error")
        screenshot(page, "ground-truth-confusion.png")


def test_the_benchmark_page_links_each_sorting_to_its_confusion_matrix(store_dir):
    from spikeinterface.core import NumpySorting
    from test_browser_support import CANVAS_INK, checked_page, chromium_browser
    from test_server_support import http, running_server

    from sortingview.extractors import copy_sorting_extractor, load_sorting
    from sortingview.workspace.benchmark_sets import create_benchmark

    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        skip_or_fail(f"Chromium not found at {CHROMIUM}; install it with `apt-get install -y chromium`")
    W = create_benchmark("bmc", snr_levels=(8.0,), drift=(False,), duration=4.0, num_channels=4, num_units=3,
                         progress=False)
    rid = W.recording_ids[0]
    gt = load_sorting(W.get_sorting_record(W.get_ground_truth(rid))["sortingUri"])
    halves = NumpySorting.from_unit_dict([{u: gt.get_unit_spike_train(u)[::2] for u in gt.get_unit_ids()}],
                                         gt.get_sampling_frequency())
    sid = W.add_sorting(recording_id=rid, label="halves", sorting=copy_sorting_extractor(halves))
    with running_server(inline=True) as srv, chromium_browser(CHROMIUM) as browser, checked_page(browser) as pg:
        status, data = http(f"{srv.url}/api/benchmark?w=bmc")
        assert status == 200 and set(data["confusionLinks"]) == {sid}
        assert http(f"{srv.url}/benchmark/confusion?w=bmc&sorting=S-nosuch")[0] == 404
        assert http(f"{srv.url}/benchmark/confusion?w=bmc")[0] == 400
        pg.goto(f"{srv.url}/benchmark?w=bmc")
        pg.wait_for_selector("body[data-ready='1']", timeout=120_000)
        pg.click("a.bm-confusion")
        canvas = "[data-view-type='ConfusionMatrix'] canvas.unit-matrix"
        pg.wait_for_selector(canvas, timeout=60_000)
        assert "/f?v=sortingview-views-1" in pg.url
        assert pg.eval_on_selector(canvas, CANVAS_INK)["ink"] > 5000
        rows = pg.eval_on_selector_all("[data-view-type='UnitsTable'] tr[data-unit]",
                                       "rs => rs.map(r => r.dataset.unit)")
        assert sorted(rows) == sorted([f"GT{u}" for u in gt.get_unit_ids()] + [f"S{u}" for u in gt.get_unit_ids()])
