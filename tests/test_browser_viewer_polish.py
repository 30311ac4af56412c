"""QA polish of the workspace viewer in Chromium: a sorting with no units says so in the table and every tab
(instead of "Loading units…" for ever)."""
from __future__ import annotations

import os

import numpy as np
import pytest
from conftest import CHROMIUM, skip_or_fail
from test_browser_support import backend_process, checked_page, chromium_browser, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]
NO_UNITS = "This sorting has no units."


@pytest.fixture(scope="module")
def empty_sorting_link(tmp_path_factory):
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
        with backend_process(str(tmp)) as url:
            yield W.spikesortingview(recording_id=rid, sorting_id=sid, label="no units", base_url=url)


def test_a_sorting_without_units_says_so_in_the_table_and_every_tab(empty_sorting_link):
    with chromium_browser(CHROMIUM) as browser, checked_page(browser) as page:
        page.goto(empty_sorting_link)
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
