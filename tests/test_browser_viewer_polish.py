"""QA polish of the workspace viewer in Chromium: a sorting with no units says so in the table and every tab
(instead of "Loading units…" for ever); the workspace's external metrics come first in the units table."""
from __future__ import annotations

import os

import numpy as np
import pytest
from conftest import CHROMIUM, skip_or_fail
from test_browser_support import backend_process, checked_page, chromium_browser, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]
NO_UNITS = "This sorting has no units."


@pytest.fixture(scope="module")
def links(tmp_path_factory):
    """figURLs of a sorting without units ("empty") and of a 2-unit sorting with external metrics ("gt")."""
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        skip_or_fail(f"Chromium not found at {CHROMIUM}; install it with `apt-get install -y chromium`")
    import spikeinterface.core as si
    from datasets import make_dataset

    import sortingview as sv
    from sortingview.workspace import create_workspace

    tmp = tmp_path_factory.mktemp("nounits")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KACHERY_CLOUD_DIR", str(tmp / "store"))
        (tmp / "store").mkdir()
        ds = make_dataset(tmp, seed=5, num_channels=4, durations=4.0, num_units=2)
        empty = si.NumpySorting.from_samples_and_labels([np.zeros(0, dtype="int64")], [np.zeros(0, dtype="int64")],
                                                        sampling_frequency=ds.recording.get_sampling_frequency())
        W = create_workspace(label="no units")
        rid = W.add_recording(label="rec", recording=ds.recording)
        sid = W.add_sorting(recording_id=rid, label="empty", sorting=sv.copy_sorting_extractor(empty))
        gid = W.add_sorting(recording_id=rid, label="gt", sorting=ds.sorting)
        units = W.get_unit_ids(gid)
        W.set_unit_metrics_for_sorting(gid, [
            {"name": "gt_accuracy", "label": "GT accuracy", "tooltip": "accuracy",
             "data": {str(u): 0.9 for u in units}},
            {"name": "gt_unit", "label": "GT unit", "tooltip": "matched unit", "data": {str(u): 1 for u in units}}])
        with backend_process(str(tmp)) as url:
            yield {"empty": W.spikesortingview(recording_id=rid, sorting_id=sid, label="no units", base_url=url),
                   "gt": W.spikesortingview(recording_id=rid, sorting_id=gid, label="gt", base_url=url)}


def test_a_sorting_without_units_says_so_in_the_table_and_every_tab(links):
    with chromium_browser(CHROMIUM) as browser, checked_page(browser) as page:
        page.goto(links["empty"])
        page.wait_for_function("(t) => document.querySelector('#units').textContent.includes(t)", arg=NO_UNITS,
                               timeout=60_000)
        texts = {}
        for view, sel in [("autocorrelograms", "#acg-view"), ("waveforms", "#waveform-view"),
                          ("crosscorrelograms", "#ccg-view"), ("amplitudes", "#amp-view"),
                          ("features", "#features-view")]:
            page.click(f".tab[data-view={view}]")
            page.wait_for_function("([s, t]) => document.querySelector(s).textContent.includes(t)",
                                   arg=[sel, NO_UNITS], timeout=30_000)
            texts[view] = page.inner_text(sel)
        screenshot(page, "viewer-no-units.png")
        assert "Loading units" not in page.inner_text("#units")
    assert all(NO_UNITS in t for t in texts.values()), texts


def test_external_metrics_come_first_and_are_visible_without_scrolling(links):
    with chromium_browser(CHROMIUM) as browser, checked_page(browser) as page:
        page.set_viewport_size({"width": 1400, "height": 800})
        page.goto(links["gt"])
        page.wait_for_function("() => [...document.querySelectorAll('table.units th')]"
                               ".some(t => /SNR/.test(t.textContent))"
                               " && document.querySelectorAll('table.units th.external').length === 2", timeout=60_000)
        heads = page.eval_on_selector_all("table.units thead th[data-col]", "els => els.map(e => e.textContent)")
        visible = page.eval_on_selector_all("table.units th.external", """els => els.map(e => {
          const pane = document.querySelector('#units').getBoundingClientRect();
          return e.getBoundingClientRect().right <= pane.right; })""")
        screenshot(page, "viewer-external-metrics.png")
    names = [h.strip().replace("\u200b", "") for h in heads]
    first_metric = next(i for i, h in enumerate(names) if h not in ("Unit", "Labels"))
    assert names[first_metric:first_metric + 2] == ["GT accuracy", "GT unit"], names
    assert visible == [True, True]
