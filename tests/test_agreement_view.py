"""The SortingAgreement view: its data and what Chromium shows equal SpikeInterface's compare_two_sorters and
compare_multiple_sorters, a click on a matched pair selects both units, hostile labels stay text, and
``sortingview agreement`` prints the view's link."""
from __future__ import annotations

import os
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from conftest import CHROMIUM, skip_or_fail

import sortingview as sv
from sortingview.store import load_json
from sortingview.views import SortingAgreement, ViewError, url_from_url_dict

HOSTILE = '<img src=x onerror="document.title=\'pwned\'">'


def _sortings(seed: int = 5):
    """A workspace with a generated recording, its ground truth, a perturbed copy (unit dropped, unit thinned,
    two units merged, spikes jittered, a noise unit) and a second perturbed copy with a hostile label."""
    import spikeinterface.core as sc

    rec, gt = sc.generate_ground_truth_recording(durations=[8.0], num_channels=4, num_units=6, seed=seed)
    rng = np.random.default_rng(seed)
    t = {u: gt.get_unit_spike_train(u) for u in gt.unit_ids}
    u = list(gt.unit_ids)
    jitter = np.clip(t[u[4]] + rng.integers(-12, 13, len(t[u[4]])), 0, rec.get_num_frames() - 1)
    first = sc.NumpySorting.from_unit_dict([{
        1: np.delete(t[u[0]], np.arange(0, len(t[u[0]]), 4)),        # three quarters of unit 0
        2: t[u[1]], 3: np.unique(np.concatenate([t[u[2]], t[u[3]]])),  # unit 1; units 2 and 3 merged
        4: np.unique(jitter),                                           # unit 4 jittered by up to 0.5 ms
        5: np.sort(rng.choice(rec.get_num_frames(), 60, replace=False)),  # noise; unit 5 missed
    }], sampling_frequency=rec.get_sampling_frequency())
    second = sc.NumpySorting.from_unit_dict([{
        "x": t[u[0]][::2], "y": t[u[1]], "z": t[u[5]]}], sampling_frequency=rec.get_sampling_frequency())
    W = sv.create_workspace(label="agreement")
    rid = W.add_recording(label="generated", recording=sv.copy_recording_extractor(rec, progress=False))
    ids = [W.add_sorting(recording_id=rid, label=lab, sorting=sv.copy_sorting_extractor(s))
           for lab, s in (("ground truth", gt), ("perturbed", first), (HOSTILE, second))]
    return W, ids, [gt, first, second]


def _expected_pair(s1, s2) -> list[tuple]:
    """SpikeInterface's matched pairs (Hungarian) with their agreement scores, as strings shown by the view."""
    from spikeinterface.comparison import compare_two_sorters

    comp = compare_two_sorters(s1, s2, delta_time=0.4, match_score=0.5)
    out = []
    for a in s1.get_unit_ids():
        b = comp.hungarian_match_12[a]
        if str(b) not in ("-1", ""):
            out.append((str(a), str(b), f"{comp.agreement_scores.at[a, b]:.3f}"))
    return out


def _views(link: str) -> dict:
    fig = load_json(parse_qs(urlparse(link).query)["d"][0])
    return {v["type"]: load_json(v["dataUri"]) for v in fig["views"]}


def test_the_agreement_view_holds_spikeinterface_scores_and_the_cli_prints_its_link(store_dir, monkeypatch):
    from click.testing import CliRunner
    from spikeinterface.comparison import compare_multiple_sorters

    from sortingview.cli import main as cli_main

    W, ids, sortings = _sortings()
    views = _views(W.get_sorting_agreement_view(ids, base_url="http://127.0.0.1:1"))
    data = views["SortingAgreement"]
    assert [s["unitPrefix"] for s in data["sortings"]] == ["A:", "B:", "C:"]
    assert [s["label"] for s in data["sortings"]] == ["ground truth", "perturbed", HOSTILE]
    for p in data["pairs"]:
        shown = [(str(m["unitId1"]), str(m["unitId2"]), f"{m['agreement']:.3f}") for m in p["matches"]]
        assert shown == _expected_pair(sortings[p["sorting1"]], sortings[p["sorting2"]])
    gt_vs_first = data["pairs"][0]
    assert len(gt_vs_first["matches"]) == 4 and len(gt_vs_first["onlyIn1"]) == 2 and gt_vs_first["onlyIn2"] == [5]
    multi = compare_multiple_sorters(sortings, ["0", "1", "2"], delta_time=0.4, match_score=0.5, verbose=False)
    counts = multi.get_agreement_sorting(minimum_agreement_count=1).get_property("agreement_number")
    assert sorted(g["numSortings"] for g in data["groups"]) == sorted(int(k) for k in counts)
    rows = {r["unitId"]: r["values"] for r in views["UnitsTable"]["rows"]}
    assert len(rows) == sum(len(s.get_unit_ids()) for s in sortings)
    assert rows["B:5"]["numMatched"] == 0 and "bestAgreement" not in rows["B:5"]
    assert rows["B:2"]["numMatched"] == 2 and rows["B:2"]["bestAgreement"] == 1.0

    monkeypatch.setenv("SORTINGVIEW_URL", "http://127.0.0.1:9")
    res = CliRunner().invoke(cli_main, ["agreement", "--workspace", W.uri, ids[0], ids[1]])
    assert res.exit_code == 0, res.output
    link = [x for x in res.output.splitlines() if x.startswith("agreement view: ")]
    assert len(link) == 1 and link[0].split(": ", 1)[1].startswith("http://127.0.0.1:9/f?v=sortingview-views-1&d=")
    assert len(_views(link[0].split(": ", 1)[1])["SortingAgreement"]["sortings"]) == 2


def test_the_view_class_refuses_what_it_cannot_show(store_dir):
    agreement = {"unitIds": [[1], [2]], "pairs": [], "foundByOneOnly": [[1], [2]]}
    with pytest.raises(ViewError, match="one label and one unit prefix per sorting"):
        SortingAgreement(agreement=agreement, labels=["only one"])
    with pytest.raises(ViewError, match="result of sortingview.sorting_agreement.1"):
        SortingAgreement(agreement={"pairs": []}, labels=["a", "b"])
    v = SortingAgreement(agreement=agreement, labels=["a", "b"], unit_prefixes=["", "other-"])
    assert v.to_dict()["sortings"][1] == {"label": "b", "unitPrefix": "other-", "unitIds": [2]}


def _table(page, cls: str) -> list[list[str]]:
    return page.eval_on_selector_all(f"table.{cls} tbody tr",
                                     "rs => rs.map(r => [...r.cells].map(c => c.textContent))")


def test_chromium_shows_spikeinterface_agreement_and_selects_matched_pairs(store_dir, tmp_path):
    from test_browser_support import backend_process, checked_page, chromium_browser, screenshot

    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        skip_or_fail(f"Chromium not found at {CHROMIUM}; install it with `apt-get install -y chromium`")
    W, ids, sortings = _sortings(seed=6)
    view = "[data-view-type='SortingAgreement']"
    with backend_process(str(tmp_path)) as url, chromium_browser(CHROMIUM) as browser, checked_page(browser) as page:
        page.goto(W.get_sorting_agreement_view(ids, base_url=url))
        page.wait_for_selector(f"{view} table.sv-agreement-matches tbody tr", timeout=30_000)
        shown = _table(page, "sv-agreement-matches")  # sorted by agreement, highest first
        assert sorted(map(tuple, shown)) == sorted(_expected_pair(sortings[0], sortings[1]))
        assert [float(r[2]) for r in shown] == sorted((float(r[2]) for r in shown), reverse=True)
        page.click(f"{view} table.sv-agreement-matches th[data-col='0']")  # sort by the first sorting's unit
        by_unit = [r[0] for r in _table(page, "sv-agreement-matches")]
        assert by_unit == sorted(by_unit, key=lambda x: (len(x), x)) and len(by_unit) == 4
        assert page.inner_text(f"{view} .sv-agreement-only2 button") == "5"

        first = _table(page, "sv-agreement-matches")[0]
        page.click(f"{view} table.sv-agreement-matches tbody tr >> nth=0")
        rows = "[data-view-type='UnitsTable'] tr.selected"
        page.wait_for_function(f"document.querySelectorAll(\"{rows}\").length === 2")
        selected = page.eval_on_selector_all(rows, "rs => rs.map(r => r.dataset.unit)")
        assert sorted(selected) == sorted([f"A:{first[0]}", f"B:{first[1]}"])
        page.wait_for_selector(f"{view} table.sv-agreement-matches tbody tr.selected")

        page.select_option(f"{view} select.sv-agreement-pair", "2")  # perturbed ~ hostile label
        page.wait_for_selector(f"{view} h3:has-text('perturbed ~ ')")
        shown = _table(page, "sv-agreement-matches")
        assert sorted(map(tuple, shown)) == sorted(_expected_pair(sortings[1], sortings[2]))
        assert HOSTILE in page.inner_text(f"{view} h3 >> nth=0") and page.title() != "pwned"
        assert not page.query_selector_all(f"{view} img")

        groups = _table(page, "sv-agreement-groups")
        data = _views(page.url)["SortingAgreement"]
        assert len(groups) == len(data["groups"])
        assert sorted(int(r[-1]) for r in groups) == sorted(g["numSortings"] for g in data["groups"])
        assert not page.query_selector_all(".task-error, .view-error")
        screenshot(page, "sorting-agreement.png")

        bad = {"unitIds": [[1], [2]], "foundByOneOnly": [[], []], "pairs": [
            {"sorting1": 0, "sorting2": 1, "matches": [{"unitId1": 1, "unitId2": 2, "agreement": "high"}],
             "onlyIn1": [], "onlyIn2": []}]}
        page.goto(url_from_url_dict(SortingAgreement(agreement=bad, labels=["a", "b"]).url_dict(label="bad"),
                                    base_url=url))
        page.wait_for_selector(f"{view} .task-error", timeout=30_000)
        assert "pairs[0].matches[0].agreement must be a number" in page.inner_text(f"{view} .task-error")
