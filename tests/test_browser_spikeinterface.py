"""SpikeInterface's sortingview widgets render fully in our viewer, in real headless Chromium.

The installed SpikeInterface builds each figure through ``sortingview.views`` (``backend="sortingview"``) and
prints a link to a real `sortingview-start-backend`; the test opens the link and checks that every view of the
figure is drawn: no "not supported" box, no data error, no script or console error, every canvas view with
ink on its canvas, the units table with one row per unit.
"""
from __future__ import annotations

import json
import warnings
from urllib.parse import quote

import pytest
from conftest import CHROMIUM
from test_browser_support import CANVAS_INK, checked_page, chromium_browser, module_backend, screenshot

si = pytest.importorskip("spikeinterface.core")
sw = pytest.importorskip("spikeinterface.widgets")

pytestmark = [pytest.mark.browser, pytest.mark.slow]
EXTENSIONS = ["random_spikes", "waveforms", "templates", "noise_levels", "correlograms", "spike_amplitudes",
              "unit_locations", "spike_locations", "template_similarity", "quality_metrics", "template_metrics"]
NUM_UNITS = 4
TIMEOUT = 30_000
# view types drawn on a canvas, with the class of their main canvas
CANVAS_VIEWS = {"Autocorrelograms": "canvas", "CrossCorrelograms": "canvas", "AverageWaveforms": "canvas",
                "SpikeAmplitudes": "canvas", "UnitLocations": "canvas.unit-locations",
                "SpikeLocations": "canvas.spike-locations", "UnitSimilarityMatrix": "canvas.unit-matrix",
                "UnitMetricsGraph": "canvas.metric-histogram"}
WIDGETS = [("plot_sorting_summary", {"curation": True}), ("plot_autocorrelograms", {}),
           ("plot_crosscorrelograms", {}), ("plot_amplitudes", {}), ("plot_unit_locations", {}),
           ("plot_spike_locations", {}), ("plot_unit_templates", {}), ("plot_template_similarity", {}),
           ("plot_quality_metrics", {}), ("plot_template_metrics", {})]
WIDGET_IDS = ["plot_sorting_summary", "plot_autocorrelograms", "plot_crosscorrelograms", "plot_amplitudes",
              "plot_unit_locations", "plot_spike_locations", "plot_unit_templates", "plot_template_similarity",
              "plot_quality_metrics", "plot_template_metrics"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with module_backend(tmp_path_factory.mktemp("si-widgets"), set_url=True) as url:
        yield url


@pytest.fixture(scope="module")
def analyzer(server):
    import spikeinterface.metrics  # noqa: F401  (registers quality_metrics / template_metrics)
    import spikeinterface.postprocessing  # noqa: F401

    rec, srt = si.generate_ground_truth_recording(durations=[8.0], num_units=NUM_UNITS, num_channels=6, seed=3)
    an = si.create_sorting_analyzer(srt, rec, format="memory", sparse=False)
    an.compute(EXTENSIONS, verbose=False)
    return an


@pytest.fixture(scope="module")
def browser(server):
    with chromium_browser(CHROMIUM) as b:
        yield b


@pytest.fixture
def page(browser):
    """A page that fails the test on a script error or a console error."""
    with checked_page(browser, width=1600, height=900, console=True) as pg:
        yield pg


def widget_url(analyzer, name: str, kwargs: dict) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # SpikeInterface's "sortingview backend is deprecated"
        return getattr(sw, name)(analyzer, backend="sortingview", **kwargs).url


# every leaf of the layout holds a mounted view with content (the host sets data-view-type when it mounts)
ALL_DRAWN = """() => {
  const leaves = [...document.querySelectorAll('.sv-view')];
  return leaves.length > 0 && leaves.every(l => l.dataset.viewType && l.children.length > 0);
}"""


def drawn_views(page) -> dict[str, dict]:
    """Per view type: its problem boxes and the ink of its canvases."""
    return page.evaluate("""(ink) => {
      const inkOf = eval(ink);
      const out = {};
      for (const v of document.querySelectorAll('.sv-view[data-view-type]')) {
        out[v.dataset.viewType] = {
          problems: [...v.querySelectorAll('.task-error, .unsupported, .data-error')].map(e => e.textContent),
          canvases: [...v.querySelectorAll('canvas:not(.drag-select)')].map(c => inkOf(c).ink),
          rows: v.querySelectorAll('tr[data-unit]').length,
        };
      }
      return out;
    }""", CANVAS_INK)


@pytest.mark.parametrize("name, kwargs", WIDGETS, ids=WIDGET_IDS)
def test_widget_link_renders_fully(server, analyzer, page, name, kwargs):
    url = widget_url(analyzer, name, kwargs)
    assert url.startswith(server) and "&s=" not in url
    # every unit selected (as a user would), so the views that show the selected units draw them too
    page.goto(f"{url}&s={quote(json.dumps({'units': [str(u) for u in analyzer.unit_ids]}))}")
    page.wait_for_function(ALL_DRAWN, timeout=TIMEOUT)
    page.wait_for_timeout(300)  # let views that draw in a second animation frame finish (nothing to await)
    views = drawn_views(page)
    screenshot(page, f"si-{name}.png")
    assert views, "no view was mounted"
    for view_type, info in views.items():
        assert not info["problems"], f"{view_type}: {info['problems']}"
        if view_type in CANVAS_VIEWS:
            assert info["canvases"] and max(info["canvases"]) > 200, f"{view_type} drew nothing: {info}"
        if view_type == "UnitsTable":
            assert info["rows"] == NUM_UNITS
