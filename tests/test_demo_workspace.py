"""`--demo`: a seeded demo workspace created once per store, with a demo user who may curate it, holding a
simulated sorter output with the defects a neuroscientist curates and the ground truth it came from."""
from __future__ import annotations

import os
import shutil
import subprocess
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from test_browser_support import write_inline_config

from sortingview import store
from sortingview.server.auth import UserStore, users_file
from sortingview.server.demo import DEMO_USER, GT_LABEL, SORTER_LABEL, ensure_demo_workspace


@pytest.mark.slow
def test_demo_is_created_once_and_the_command_prints_its_link(store_dir, tmp_path, monkeypatch, capfd):
    from sortingview.workspace import list_workspaces, load_workspace

    monkeypatch.delenv("SORTINGVIEW_URL", raising=False)
    url = ensure_demo_workspace()
    err = capfd.readouterr().err
    assert "sign in to the viewer with this token" in err and "26 units to curate" in err
    assert url.startswith("http://127.0.0.1:15310/f?v=spikesortingview-1&d=sha1://")
    data = store.load_json(parse_qs(urlparse(url).query)["d"][0])
    W = load_workspace(data["workspaceUri"])
    assert data["unitIds"] == list(range(1, 27)) and data["samplingFrequency"] == 30000.0
    assert DEMO_USER in W.get_sorting_curation_authorized_users(data["sortingId"])
    assert [u.user_id for u in UserStore(users_file()).list_users()] == [DEMO_USER]
    assert [m["name"] for m in data["externalUnitMetrics"]] == ["gtAccuracy", "gtUnit"]
    assert [s["sortingLabel"] for s in W.sorting_records()] == [SORTER_LABEL, GT_LABEL]
    # the traces are int16 on disk in the store directory, linked (not copied)
    traces = os.path.join(str(store_dir), "sortingview", "demo")
    assert any(name.endswith(".int16.bin") for name in os.listdir(traces))

    assert ensure_demo_workspace() == url
    assert "token" not in capfd.readouterr().err  # the demo user exists already: no new token
    assert list_workspaces() == [W.uri]

    exe = shutil.which("sortingview-start-backend")
    cfg = write_inline_config(str(tmp_path / "handlers.yaml"))
    r = subprocess.run([exe, "--demo", "--burst", "--config", cfg], capture_output=True, text=True, timeout=120,
                       env=os.environ.copy())
    assert r.returncode == 0, r.stderr
    assert url in r.stdout
    assert list_workspaces() == [W.uri]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo in a store of its own, with the plan it was built from (recomputed: it is seeded)."""
    from sortingview.server import demo_data
    from sortingview.workspace import load_workspace

    tmp = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as mp:
        (tmp / "store").mkdir()
        mp.setenv("KACHERY_CLOUD_DIR", str(tmp / "store"))
        url = ensure_demo_workspace(base_url="http://127.0.0.1:9")
        data = store.load_json(parse_qs(urlparse(url).query)["d"][0])
        W = load_workspace(data["workspaceUri"])
        gid = next(s["sortingId"] for s in W.sorting_records() if s["sortingLabel"] == GT_LABEL)
        plan = demo_data.simulated_sorter_output(demo_data.ground_truth()[1])
        yield {"tmp": tmp, "data": data, "W": W, "sid": data["sortingId"], "gid": gid, "plan": plan}


def _uri(W, sorting_id: str) -> str:
    return W.get_sorting_record(sorting_id)["sortingUri"]


def _metrics(demo) -> dict:
    import sortingview as sv

    W = demo["W"]
    rec = W.get_recording_record(demo["data"]["recordingId"])["recordingUri"]
    res = sv.run_task("sortingview.unit_metrics.1", {"recording": rec, "sorting": _uri(W, demo["sid"])}, inline=True)
    return {m["name"]: m["data"] for m in res["metrics"]}


@pytest.mark.slow
def test_the_stored_sortings_are_the_seeded_plan_and_the_ground_truth(demo):
    from sortingview.server import demo_data

    W, plan = demo["W"], demo["plan"]
    sorting, gt = W.get_sorting_extractor(demo["sid"]), W.get_sorting_extractor(demo["gid"])
    assert [int(u) for u in sorting.unit_ids] == list(range(1, 27)) == sorted(plan.trains)
    for u in sorting.unit_ids:
        np.testing.assert_array_equal(sorting.get_unit_spike_train(u), plan.trains[int(u)])
    truth = demo_data.ground_truth()[1]
    assert list(gt.unit_ids) == list(truth.unit_ids)
    for u in truth.unit_ids:
        np.testing.assert_array_equal(gt.get_unit_spike_train(u), truth.get_unit_spike_train(u))
    assert W.get_sorting_record(demo["gid"])["recordingId"] == demo["data"]["recordingId"]
    # sorter ids are not the ground-truth order
    clean = plan.units_with_role("clean")
    assert [plan.sources[u][0] for u in clean] != sorted((plan.sources[u][0] for u in clean), key=int)
    assert sorted(plan.roles.values()).count("clean") == 19


@pytest.mark.slow
def test_the_sorter_output_has_the_defects_a_curator_fixes(demo):
    plan, gt = demo["plan"], demo["W"].get_sorting_extractor(demo["gid"])
    m = _metrics(demo)
    a, b = plan.units_with_role("split")
    assert plan.sources[a] == plan.sources[b]
    union = np.sort(np.concatenate([plan.trains[a], plan.trains[b]]))
    np.testing.assert_array_equal(union, gt.get_unit_spike_train(plan.sources[a][0]))
    assert m["snr"][str(a)] == pytest.approx(m["snr"][str(b)], rel=0.1)  # the same waveform

    (mua,) = plan.units_with_role("contaminated")
    clean = plan.units_with_role("clean")
    assert m["isiViolationFraction"][str(mua)] > 0.005 and m["isiViolationsRatio"][str(mua)] > 0.1
    assert all(m["isiViolationFraction"][str(u)] == 0 for u in clean + [a, b])  # 4-ms refractory truth

    (noise,) = plan.units_with_role("noise")
    snr = {int(k): v for k, v in m["snr"].items()}
    assert min(snr, key=snr.get) == noise and snr[noise] < 1.0

    missing = plan.units_with_role("missing spikes")
    assert len(missing) == 3
    for u in missing:
        assert 0 < m["numEvents"][str(u)] <= 0.7 * len(gt.get_unit_spike_train(plan.sources[u][0]))
    assert sorted(m["presenceRatio"][str(u)] for u in missing) == [0.5, 1.0, 1.0]  # one drifted out at 50 s


@pytest.mark.slow
def test_ground_truth_accuracy_column_and_comparison(demo):
    import sortingview as sv

    plan, W = demo["plan"], demo["W"]
    ext = {m["name"]: m for m in demo["data"]["externalUnitMetrics"]}
    acc, best = ext["gtAccuracy"]["data"], ext["gtUnit"]["data"]
    assert set(acc) == set(best) == {str(u) for u in plan.trains} and ext["gtAccuracy"]["label"] == "GT accuracy"
    for u, role in plan.roles.items():
        if role == "clean":
            assert acc[str(u)] == 1.0 and best[str(u)] == plan.sources[u][0]
        elif role == "split":
            assert 0.4 < acc[str(u)] < 0.6 and best[str(u)] == plan.sources[u][0]
        elif role == "noise":
            assert acc[str(u)] < 0.05 and best[str(u)] is None
        else:
            assert 0.3 < acc[str(u)] < 0.9
    res = sv.run_task("sortingview.compare_sortings.1", {"sorting": _uri(W, demo["sid"]),
                                                         "groundTruthSorting": _uri(W, demo["gid"])}, inline=True)
    by_gt = {r["unitId"]: r for r in res["groundTruthUnits"]}
    for u in plan.units_with_role("clean"):
        assert by_gt[plan.sources[u][0]]["bestMatch"] == u and by_gt[plan.sources[u][0]]["accuracy"] == 1.0
    (split, _) = plan.units_with_role("split")
    assert by_gt[plan.sources[split][0]]["recall"] < 0.6  # half its spikes went to the other half


@pytest.mark.slow
@pytest.mark.browser
def test_the_demo_link_opens_in_the_viewer(demo, chromium_path):
    from playwright.sync_api import sync_playwright
    from test_browser_support import backend_process, launch_chromium, screenshot

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KACHERY_CLOUD_DIR", str(demo["tmp"] / "store"))
        with backend_process(str(demo["tmp"])) as url, sync_playwright() as p:
            link = ensure_demo_workspace(base_url=url)
            assert link.startswith(url + "/f?")
            browser = launch_chromium(p, chromium_path)
            page = browser.new_page(viewport={"width": 1440, "height": 860})
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(link)
            page.wait_for_selector("#acg-view[data-drawn='26']", timeout=120_000)  # cold numba caches on CI
            page.wait_for_function("() => [...document.querySelectorAll('table.units th')]"
                                   ".some(th => /GT accuracy/.test(th.textContent))", timeout=60_000)
            screenshot(page, "demo-workspace.png")
            # every view of the workspace viewer draws for two selected units, with no error box anywhere
            # the table redraws as metrics and peak channels arrive: let it settle, click by selector (re-resolved)
            page.wait_for_selector("#statusbar .pending[data-count='0']", timeout=120_000)
            page.click("table.units tbody tr[data-unit] >> nth=0 >> td.unit")
            page.click("table.units tbody tr[data-unit] >> nth=1 >> td.unit", modifiers=["Control"])
            for tab, drawn in [("waveforms", "#waveform-view[data-drawn='2']"),
                               ("crosscorrelograms", "#ccg-view[data-drawn='4']"),
                               ("amplitudes", "#amp-view[data-drawn='2']"),
                               ("traces", "#traces-view canvas.traces[data-drawn]"),
                               ("features", "#features-view[data-drawn]")]:
                page.click(f".tab[data-view={tab}]")
                page.wait_for_selector(drawn, timeout=120_000)
            page.wait_for_selector("#statusbar .pending[data-count='0']", timeout=120_000)
            visible_errors = [e.inner_text() for e in page.query_selector_all(".task-error") if e.is_visible()]
            screenshot(page, "demo-workspace-features.png")
            browser.close()
            assert not errors, f"JavaScript errors in the page: {errors}"
            assert not visible_errors, f"error boxes in the demo: {visible_errors}"
