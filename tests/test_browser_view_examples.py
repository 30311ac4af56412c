"""The examples of examples/views, run as a user would, print links that render fully in Chromium.

Each script builds its figure with ``sortingview.views`` and prints ``view.url()`` pointing at a real
`sortingview-start-backend` (``SORTINGVIEW_URL``); the page must mount every view of the figure with content,
without a "not supported" box, a data error, or a script or console error.
"""
from __future__ import annotations

import os
import runpy
import sys

import pytest
from conftest import CHROMIUM
from test_browser_support import CANVAS_INK, checked_page, chromium_browser, module_backend, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]
EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples", "views")
TIMEOUT = 30_000
# the spike-sorting views and layouts (markdown, position and timeseries views belong to another issue)
SCRIPTS = ["raster_plot.py", "unit_locations.py", "spike_locations.py", "unit_similarity_matrix.py",
           "confusion_matrix.py", "unit_metrics_graph.py", "electrode_geometry.py", "unit_images.py",
           "sorting_summary.py", "units_table.py", "autocorrelograms.py", "cross_correlograms.py",
           "average_waveforms.py", "spike_amplitudes.py", "sorting_curation.py", "sorting_selection.py",
           "box_layout.py", "splitter_layout.py", "tab_layout.py", "mountain_layout.py", "spikesortingview.py"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not os.path.isdir(EXAMPLES):
        pytest.skip("examples/views is not in this checkout")
    with module_backend(tmp_path_factory.mktemp("view-examples"), set_url=True) as url:
        yield url


@pytest.fixture(scope="module")
def browser(server):
    with chromium_browser(CHROMIUM) as b:
        yield b


@pytest.fixture
def page(browser):
    """A page that fails the test on a script error or a console error."""
    with checked_page(browser, width=1500, height=900, console=True) as pg:
        yield pg


def run_example(script: str, capsys, monkeypatch) -> str:
    monkeypatch.syspath_prepend(EXAMPLES)
    monkeypatch.setattr(sys, "argv", [script])
    runpy.run_path(os.path.join(EXAMPLES, script), run_name="__main__")
    return capsys.readouterr().out.strip().splitlines()[-1]


# every view of the figure is mounted (visible ones with content): tab panes that are hidden count once shown
MOUNTED = """() => {
  const views = [...document.querySelectorAll('.sv-view')];
  return views.length > 0 && views.every(v => v.dataset.viewType && (v.children.length > 0 || !v.offsetParent));
}"""


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_link_renders(server, page, capsys, monkeypatch, script):
    if not os.path.exists(os.path.join(EXAMPLES, script)):
        pytest.skip(f"examples/views/{script} is not in this checkout")
    url = run_example(script, capsys, monkeypatch)
    assert url.startswith(server), url
    page.goto(url)
    page.wait_for_function(MOUNTED, timeout=TIMEOUT)
    page.wait_for_timeout(200)  # views that draw in a second animation frame (nothing to await)
    for tab in page.query_selector_all(".sv-tab"):  # show every tab once so its view draws
        tab.click()
        page.wait_for_function(MOUNTED, timeout=TIMEOUT)
    problems = page.eval_on_selector_all(".task-error, .unsupported, .data-error", "es => es.map(e => e.textContent)")
    assert not problems, problems
    inks = page.eval_on_selector_all(".sv-view canvas:not(.drag-select)", f"cs => cs.map({CANVAS_INK}).map(r => r.ink)")
    texts = page.eval_on_selector_all(".sv-view[data-view-type]", "vs => vs.map(v => v.innerText.trim().length)")
    assert any(i > 0 for i in inks) or any(n > 0 for n in texts), "nothing drawn"
    screenshot(page, f"example-{script.removesuffix('.py')}.png")
