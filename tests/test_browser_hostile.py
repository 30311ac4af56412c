"""Issue 10 item 6: a workspace whose unit ids, labels, metric names, workspace, recording, sorting and figure
labels are HTML, opened in the workspace viewer (Chromium, a real backend): every value renders as text,
nothing runs (window.__pwned stays undefined), and the text is visible."""
from __future__ import annotations

import pytest
from test_browser_support import backend_process, checked_page, chromium_browser, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]
HOSTILE = "<img src=x onerror=window.__pwned=1>"
IDS = [HOSTILE, "u2", "<b>u3</b>"]


@pytest.fixture
def hostile_view(store_dir, tmp_path):
    from datasets import make_dataset
    from spikeinterface.core import NpzSortingExtractor, NumpySorting

    from sortingview.server.auth import UserStore, users_file
    from sortingview.workspace import create_workspace

    ds = make_dataset(tmp_path, seed=5, num_channels=4, durations=4.0, num_units=3)
    gt = ds.gt_sorting
    trains = {new: gt.get_unit_spike_train(old) for new, old in zip(IDS, gt.unit_ids, strict=True)}
    path = str(tmp_path / "hostile.npz")
    NpzSortingExtractor.write_sorting(NumpySorting.from_unit_dict(trains, ds.sampling_frequency), path)
    W = create_workspace(label=f"workspace {HOSTILE}")
    rid = W.add_recording(label=f"recording {HOSTILE}", recording=ds.recording)
    sid = W.add_sorting(recording_id=rid, label=f"sorting {HOSTILE}", sorting=NpzSortingExtractor(path))
    W.set_unit_metrics_for_sorting(sid, [{"name": HOSTILE, "label": HOSTILE, "tooltip": HOSTILE,
                                          "data": {u: (HOSTILE if i == 0 else float(i)) for i, u in enumerate(IDS)}}])
    W.set_sorting_curation_authorized_users(sid, ["alice"])
    token = UserStore(users_file()).add_user("alice")
    with backend_process(str(tmp_path)) as url:
        yield {"link": W.spikesortingview(recording_id=rid, sorting_id=sid, label=HOSTILE, base_url=url),
               "token": token, "W": W, "sid": sid}


def test_hostile_names_render_as_text_in_the_workspace_viewer(hostile_view, chromium_path):
    with chromium_browser(chromium_path) as browser, checked_page(browser) as page:
        page.goto(hostile_view["link"])
        page.wait_for_selector("#acg-view[data-drawn='3']", timeout=60_000)
        page.click("#signin-btn")
        page.fill("#token-input", hostile_view["token"])
        page.click("#signin-form button[type=submit]")
        page.wait_for_selector("#curation .who.can")
        page.locator("tr[data-unit='u2'] td.unit").click()
        page.locator(f"tr[data-unit='{HOSTILE}'] td.unit").click(modifiers=["Control"])
        page.fill("#custom-label", HOSTILE)
        page.press("#custom-label", "Enter")
        page.wait_for_selector(f"tr[data-unit='u2'] .label-chip:has-text('{HOSTILE}')")
        page.click("#merge")
        page.wait_for_selector("tr[data-unit='u2'].merged")
        page.click(".tab[data-view=waveforms]")
        page.wait_for_selector("#waveform-view canvas.waveform", timeout=60_000)
        page.click(".tab[data-view=amplitudes]")
        page.wait_for_selector("#amp-view canvas.amplitudes", timeout=60_000)
        assert page.evaluate("() => window.__pwned") is None
        assert page.locator("img, b:text('u3')").count() == 0
        body = page.evaluate("() => document.body.textContent")
        # figure title, recording/sorting line, metric header, metric cell, unit ids (table, curation summary,
        # history, merge tag, amplitudes legend), the label (chips, button, history)
        assert body.count(HOSTILE) >= 10, body
        assert page.title() == HOSTILE and page.is_visible(f"#fig-title:text('{HOSTILE}')")
        assert "<b>u3</b>" in page.inner_text("table.units")
        assert "null" not in page.inner_text("#curation")
        # a long unit id keeps the other columns in view (cut with an ellipsis, the full id in its tooltip)
        assert page.locator(f"tr[data-unit='{HOSTILE}'] td.unit").bounding_box()["width"] <= 260
        assert page.is_visible("table.units th:has-text('Num. events')")
        screenshot(page, "viewer-hostile.png")
    curation = hostile_view["W"].get_sorting_curation(hostile_view["sid"])
    assert curation["labelsByUnit"] == {HOSTILE: [HOSTILE], "u2": [HOSTILE]}
