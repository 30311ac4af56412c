"""SpikeInterface's sortingview widgets run against sortingview.views and print links to our server.

Each widget (``backend="sortingview"``) builds views of ``sortingview.views`` and calls ``view.url()``; the
test follows the printed link's ``d=`` URI into the store and checks the figure root and each view's data.
"""
from __future__ import annotations

import warnings
from urllib.parse import parse_qs, urlparse

import pytest

from sortingview import store
from sortingview.serialize import decode_value

si = pytest.importorskip("spikeinterface.core")
sw = pytest.importorskip("spikeinterface.widgets")

EXTENSIONS = ["random_spikes", "waveforms", "templates", "noise_levels", "correlograms", "spike_amplitudes",
              "unit_locations", "spike_locations", "template_similarity", "quality_metrics", "template_metrics"]
NUM_UNITS = 4


@pytest.fixture(scope="module")
def analyzer():
    import spikeinterface.metrics  # noqa: F401  (registers quality_metrics / template_metrics)
    import spikeinterface.postprocessing  # noqa: F401

    rec, srt = si.generate_ground_truth_recording(durations=[8.0], num_units=NUM_UNITS, num_channels=6, seed=3)
    an = si.create_sorting_analyzer(srt, rec, format="memory", sparse=False)
    an.compute(EXTENSIONS, verbose=False)
    return an


WIDGETS = [
    ("plot_sorting_summary", {"curation": True},
     {"UnitsTable", "SortingCuration2", "UnitLocations", "AverageWaveforms", "SpikeAmplitudes", "CrossCorrelograms"}),
    ("plot_autocorrelograms", {}, {"Autocorrelograms"}),
    ("plot_crosscorrelograms", {}, {"CrossCorrelograms"}),
    ("plot_amplitudes", {}, {"SpikeAmplitudes"}),
    ("plot_unit_locations", {}, {"UnitsTable", "UnitLocations"}),
    ("plot_spike_locations", {}, {"UnitsTable", "SpikeLocations"}),
    ("plot_unit_templates", {}, {"UnitsTable", "AverageWaveforms"}),
    ("plot_template_similarity", {}, {"UnitSimilarityMatrix"}),
    ("plot_quality_metrics", {}, {"UnitsTable", "UnitMetricsGraph"}),
    ("plot_template_metrics", {}, {"UnitsTable", "UnitMetricsGraph"}),
]


def _views_of(url: str) -> dict:
    root = store.load_json(parse_qs(urlparse(url).query)["d"][0])
    assert root["type"] == "MainLayout" and root["layout"]["type"] in ("Box", "Splitter")
    return {v["type"]: decode_value(store.load_json(v["dataUri"])) for v in root["views"]}


@pytest.mark.parametrize("name, kwargs, expected", WIDGETS, ids=[w[0] for w in WIDGETS])
def test_widget_prints_a_link_to_a_stored_figure(analyzer, store_dir, capsys, name, kwargs, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # SpikeInterface's "sortingview backend is deprecated"
        widget = getattr(sw, name)(analyzer, backend="sortingview", **kwargs)
    printed = capsys.readouterr().out.strip().splitlines()
    assert widget.url in printed
    assert widget.url.startswith("http://") and "/f?v=sortingview-views-1&d=sha1://" in widget.url
    views = _views_of(widget.url)
    assert set(views) == expected
    for data in views.values():
        unit_ids = _unit_ids(data)
        if unit_ids is not None:
            assert len(set(map(str, unit_ids))) == NUM_UNITS, data["type"]


def _unit_ids(data: dict):
    for key, field in (("rows", "unitId"), ("autocorrelograms", "unitId"), ("units", "unitId"),
                       ("averageWaveforms", "unitId"), ("crossCorrelograms", "unitId1")):
        if key in data:
            return [item[field] for item in data[key]]
    return data.get("unitIds")


def test_sorting_summary_data_matches_the_analyzer(analyzer, store_dir, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        widget = sw.plot_sorting_summary(analyzer, backend="sortingview", curation=True,
                                         label_choices=["good", "noise"])
    views = _views_of(widget.url)
    assert views["SortingCuration2"]["labelChoices"] == ["good", "noise"]
    amplitudes = {u["unitId"]: u for u in views["SpikeAmplitudes"]["units"]}
    unit0 = analyzer.unit_ids[0]
    train = analyzer.sorting.get_unit_spike_train(unit0)
    assert len(amplitudes[str(unit0)]["spikeTimesSec"]) == len(train)
    similarity = views["UnitsTable"]["similarityScores"]
    assert len(similarity) == NUM_UNITS ** 2 and all(isinstance(s["similarity"], float) for s in similarity)
