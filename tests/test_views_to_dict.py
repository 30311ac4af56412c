"""Every view's to_dict() gives sortingview 0.14.2's data format (keys, nesting, values), as doc/views.md lists."""
from __future__ import annotations

import numpy as np
import pytest

import sortingview.views as vv


def test_layouts_inline_child_layouts_and_name_views_by_id():
    a, b, c = vv.Markdown("a"), vv.Markdown("b"), vv.Markdown("c")
    inner = vv.Splitter(vv.LayoutItem(a, stretch=1), vv.LayoutItem(b, min_size=100, max_size=300, title="B",
                                                                   collapsible=True), direction="vertical")
    box = vv.Box([vv.LayoutItem(inner), vv.LayoutItem(c)], direction="horizontal", scrollbar=True, show_titles=True)
    assert box.to_dict() == {
        "type": "Box", "direction": "horizontal", "scrollbar": True, "showTitles": True,
        "items": [{"type": "Splitter", "direction": "vertical",
                   "items": [{"type": "View", "viewId": a.id}, {"type": "View", "viewId": b.id}],
                   "itemProperties": [{"stretch": 1},
                                      {"minSize": 100, "maxSize": 300, "title": "B", "collapsible": True}]},
                  {"type": "View", "viewId": c.id}],
        "itemProperties": [{}, {}],
    }
    assert box.is_layout and inner.is_layout and not a.is_layout
    assert box.child_views() == [inner, c]


def test_box_leaves_out_defaults():
    box = vv.Box([vv.LayoutItem(vv.Markdown("x"))], direction="vertical")
    assert set(box.to_dict()) == {"type", "direction", "items", "itemProperties"}


def test_tab_layout_and_its_tab_bar_option():
    v1, v2 = vv.Markdown("1"), vv.Markdown("2")
    tabs = vv.TabLayout([vv.TabLayoutItem(label="one", view=v1), vv.TabLayoutItem(label="two", view=v2)])
    assert tabs.to_dict() == {"type": "TabLayout", "items": [{"type": "View", "viewId": v1.id},
                                                             {"type": "View", "viewId": v2.id}],
                              "itemProperties": [{"label": "one"}, {"label": "two"}]}
    vertical = vv.TabLayout([vv.TabLayoutItem(label="one", view=v1)], tab_bar_layout="vertical")
    assert vertical.to_dict()["tabBarLayout"] == "vertical"


def test_mountain_layout_type_is_mountain_with_control_properties():
    table, ac = vv.SortingSelection(), vv.SortingCuration()
    m = vv.MountainLayout(items=[vv.MountainLayoutItem(label="Units", view=table, is_control=True, control_height=300),
                                 vv.MountainLayoutItem(label="ACGs", view=ac)])
    assert m.to_dict() == {"type": "Mountain",
                           "items": [{"type": "View", "viewId": table.id}, {"type": "View", "viewId": ac.id}],
                           "itemProperties": [{"label": "Units", "isControl": True, "controlHeight": 300},
                                              {"label": "ACGs", "isControl": False}]}


def test_units_table_with_similarity_scores():
    t = vv.UnitsTable(columns=[vv.UnitsTableColumn(key="snr", label="SNR", dtype="float")],
                      rows=[vv.UnitsTableRow(unit_id=3, values={"snr": 4.5})],
                      similarity_scores=[vv.UnitSimilarityScore(unit_id1=3, unit_id2=4, similarity=0.25)])
    assert t.to_dict() == {"type": "UnitsTable", "columns": [{"key": "snr", "label": "SNR", "dtype": "float"}],
                           "rows": [{"unitId": 3, "values": {"snr": 4.5}}],
                           "similarityScores": [{"unitId1": 3, "unitId2": 4, "similarity": 0.25}]}
    assert "similarityScores" not in vv.UnitsTable(columns=[], rows=[]).to_dict()


def test_unit_similarity_matrix():
    m = vv.UnitSimilarityMatrix(unit_ids=[1, 2], similarity_scores=[vv.UnitSimilarityScore(1, 2, 0.5)])
    assert m.to_dict() == {"type": "UnitSimilarityMatrix", "unitIds": [1, 2],
                           "similarityScores": [{"unitId1": 1, "unitId2": 2, "similarity": 0.5}]}


def test_correlograms_keep_arrays_as_given():
    edges, counts = np.linspace(-0.025, 0.025, 51, dtype=np.float32), np.arange(50, dtype=np.int32)
    ac = vv.Autocorrelograms([vv.AutocorrelogramItem(unit_id=1, bin_edges_sec=edges, bin_counts=counts)]).to_dict()
    assert ac["type"] == "Autocorrelograms" and list(ac) == ["type", "autocorrelograms"]
    assert ac["autocorrelograms"][0]["unitId"] == 1
    assert ac["autocorrelograms"][0]["binEdgesSec"] is edges and ac["autocorrelograms"][0]["binCounts"] is counts
    cc = vv.CrossCorrelograms([vv.CrossCorrelogramItem(unit_id1=1, unit_id2=2, bin_edges_sec=edges,
                                                       bin_counts=counts)], hide_unit_selector=True).to_dict()
    assert cc["type"] == "CrossCorrelograms" and cc["hideUnitSelector"] is True
    assert set(cc["crossCorrelograms"][0]) == {"unitId1", "unitId2", "binEdgesSec", "binCounts"}
    assert vv.CrossCorrelograms([]).to_dict()["hideUnitSelector"] is False


def test_average_waveforms_std_dev_percentiles_and_probe():
    w = np.zeros((2, 40), dtype=np.float32)
    item = vv.AverageWaveformItem(unit_id=1, channel_ids=[0, 1], waveform=w, waveform_std_dev=w + 1)
    assert set(item.to_dict()) == {"unitId", "channelIds", "waveform", "waveformStdDev"}
    pct = vv.AverageWaveformItem(unit_id=1, channel_ids=[0, 1], waveform=w, waveform_percentiles=[w, w, w, w])
    assert len(pct.to_dict()["waveformPercentiles"]) == 4 and "waveformStdDev" not in pct.to_dict()
    view = vv.AverageWaveforms([item], channel_locations={"0": [0, 0], "1": [0, 20]}, show_reference_probe=True)
    d = view.to_dict()
    assert d["type"] == "AverageWaveforms" and d["channelLocations"] == {"0": [0, 0], "1": [0, 20]}
    assert d["showReferenceProbe"] is True
    assert set(vv.AverageWaveforms([item]).to_dict()) == {"type", "averageWaveforms"}


def test_average_waveform_spread_arguments_are_checked():
    w = np.zeros((2, 40), dtype=np.float32)
    with pytest.raises(vv.ViewError, match="not both"):
        vv.AverageWaveformItem(1, [0, 1], w, waveform_std_dev=w, waveform_percentiles=[w, w])
    with pytest.raises(vv.ViewError, match="even length"):
        vv.AverageWaveformItem(1, [0, 1], w, waveform_percentiles=[w, w, w])


def test_spike_amplitudes_and_raster_plot():
    t, a = np.array([0.5, 1.5], dtype=np.float32), np.array([-50, -60], dtype=np.float32)
    sa = vv.SpikeAmplitudes(start_time_sec=0, end_time_sec=10, plots=[vv.SpikeAmplitudesItem(3, t, a)]).to_dict()
    assert sa == {"type": "SpikeAmplitudes", "startTimeSec": 0, "endTimeSec": 10, "hideUnitSelector": False,
                  "units": [{"unitId": 3, "spikeTimesSec": t, "spikeAmplitudes": a}]}
    rp = vv.RasterPlot(start_time_sec=0, end_time_sec=10, plots=[vv.RasterPlotItem(3, t)]).to_dict()
    assert rp == {"type": "RasterPlot", "startTimeSec": 0, "endTimeSec": 10,
                  "plots": [{"unitId": 3, "spikeTimesSec": t}]}


def test_unit_and_spike_locations():
    locs = {"0": [0.0, 0.0], "1": [0.0, 20.0]}
    ul = vv.UnitLocations([vv.UnitLocationsItem(unit_id=1, x=1.5, y=10.0)], channel_locations=locs).to_dict()
    assert ul == {"type": "UnitLocations", "units": [{"unitId": 1, "x": 1.5, "y": 10.0}], "channelLocations": locs,
                  "disableAutoRotate": False}
    x = np.array([1.0], dtype=np.float32)
    sl = vv.SpikeLocations([vv.SpikeLocationsItem(1, x, x, x)], x_range=np.array([-5, 5]), y_range=(0, 30),
                           hide_unit_selector=True, channel_locations=locs, disable_auto_rotate=True).to_dict()
    assert sl["xRange"] == [-5, 5] and sl["yRange"] == [0, 30] and isinstance(sl["xRange"], list)
    assert sl["hideUnitSelector"] is True and sl["disableAutoRotate"] is True and sl["type"] == "SpikeLocations"
    assert set(sl["units"][0]) == {"unitId", "spikeTimesSec", "xLocations", "yLocations"}


def test_unit_metrics_graph_and_confusion_matrix():
    g = vv.UnitMetricsGraph(metrics=[vv.UnitMetricsGraphMetric(key="snr", label="SNR", dtype="float")],
                            units=[vv.UnitMetricsGraphUnit(unit_id=1, values={"snr": 3.0})]).to_dict()
    assert g == {"type": "UnitMetricsGraph", "units": [{"unitId": 1, "values": {"snr": 3.0}}],
                 "metrics": [{"key": "snr", "label": "SNR", "dtype": "float"}]}
    c = vv.ConfusionMatrix(sorting1_unit_ids=[1], sorting2_unit_ids=["a"],
                           unit_event_counts=[vv.UnitEventCount(1, 10)],
                           matching_unit_event_counts=[vv.MatchingUnitEventCount(1, "a", 7)]).to_dict()
    assert c == {"type": "ConfusionMatrix", "sorting1UnitIds": [1], "sorting2UnitIds": ["a"],
                 "unitEventCounts": [{"unitId": 1, "count": 10}],
                 "matchingUnitEventCounts": [{"unitId1": 1, "unitId2": "a", "count": 7}]}


def test_sorting_views_and_controls():
    locs = {"0": [0, 0]}
    assert vv.ElectrodeGeometry(channel_locations=locs).to_dict() == {"type": "ElectrodeGeometry",
                                                                      "channelLocations": locs}
    assert vv.SortingCuration().to_dict() == {"type": "SortingCuration"}
    assert vv.SortingSelection().to_dict() == {"type": "SortingSelection"}
    assert vv.SortingCuration2().to_dict() == {"type": "SortingCuration2"}
    assert vv.SortingCuration2(label_choices=["noise", "mua"]).to_dict() == {"type": "SortingCuration2",
                                                                             "labelChoices": ["noise", "mua"]}


def test_sorting_summary_is_type_summary_with_float32_locations():
    s = vv.SortingSummary(recording_description="r", sorting_description="s", unit_ids=[1, 2], channel_ids=[0, 1],
                          sampling_frequency=30000, num_frames=300000, num_segments=1,
                          channel_locations=np.array([[0, 0], [0, 20]], dtype=np.float64), noise_level=np.float64(4))
    d = s.to_dict()
    assert d["type"] == "Summary" and d["recordingDescription"] == "r" and d["sortingDescription"] == "s"
    assert d["samplingFrequency"] == 30000.0 and isinstance(d["samplingFrequency"], float)
    assert d["channelLocations"].dtype == np.float32 and d["channelLocations"].shape == (2, 2)
    assert d["noiseLevel"] == 4.0 and type(d["noiseLevel"]) is float
    assert (d["unitIds"], d["channelIds"], d["numFrames"], d["numSegments"]) == ([1, 2], [0, 1], 300000, 1)


def test_document_and_image_views(tmp_path):
    assert vv.Markdown("# hi").to_dict() == {"type": "Markdown", "source": "# hi"}
    png = tmp_path / "x.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\nfake")
    assert vv.Image(image_path=str(png)).to_dict()["url"].startswith("data:image/png;base64,")
    assert vv.Image(url="https://example.org/a.png").to_dict() == {"type": "Image", "url": "https://example.org/a.png"}
    with pytest.raises(vv.ViewError, match="not both"):
        vv.Image(url="x", image_path=str(png))

    class Fig:
        def to_dict(self):
            return {"data": [{"x": [1, 2]}]}

    assert vv.PlotlyFigure(fig=Fig()).to_dict() == {"type": "PlotlyFigure", "fig": {"data": [{"x": [1, 2]}]}}


def test_unit_images_saves_each_figure_as_jpeg():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(1, 1))
    item = vv.UnitImagesItem(unit_id=2, figure=fig, dpi=20)
    plt.close(fig)
    d = vv.UnitImages([item], item_width=100, item_height=80).to_dict()
    assert d["type"] == "UnitImages" and d["itemWidth"] == 100 and d["itemHeight"] == 80
    assert d["items"][0]["unitId"] == 2 and d["items"][0]["url"].startswith("data:image/jpeg;base64,")


def test_timeseries_graph_series_and_float64_time_offset():
    g = vv.TimeseriesGraph(y_range=[0, 1], hide_x_gridlines=True)
    g.add_line_series(name="a", t=np.array([100.0, 101.0]), y=np.array([1, 2], dtype=np.float32), color="red", width=2)
    g.add_interval_series(name="b", t_start=np.array([100.5]), t_end=np.array([100.7]), color="blue")
    d = g.to_dict()
    assert d["timeOffset"] == 100.0 and d["yRange"] == [0, 1]
    assert d["gridlineOpts"] == {"hideX": True, "hideY": False}
    assert d["datasets"][0]["data"]["t"].dtype == np.float32 and d["datasets"][0]["data"]["t"][1] == 1.0
    assert d["series"][0] == {"type": "line", "dataset": "a", "encoding": {"t": "t", "y": "y"},
                              "attributes": {"color": "red", "width": 2}, "title": "a"}
    assert d["series"][1]["type"] == "interval" and list(d["datasets"][1]["data"]["y"]) == [0, 1]
    with pytest.raises(vv.ViewError, match="float64 datatype for y"):
        g.add_marker_series(name="c", t=np.array([1.0]), y=np.array([1.0]), color="k")


def test_position_plot_and_ephys_traces():
    p = vv.PositionPlot(timestamps=np.array([10.0, 10.5, 11.0]), positions=np.array([1.0, 2.0, 3.0]),
                        dimension_labels=["x"]).to_dict()
    assert p["type"] == "PositionPlot" and p["timeOffset"] == 10.0 and p["positions"].shape == (3, 1)
    assert p["timestamps"].dtype == np.float32 and list(p["timestamps"]) == [0.0, 0.5, 1.0]
    e = vv.EphysTraces(format="spikeinterface.binary", uri="sha1://" + "a" * 40, sorting_uri="sha1://" + "b" * 40)
    assert e.to_dict() == {"type": "EphysTraces", "format": "spikeinterface.binary", "uri": "sha1://" + "a" * 40,
                           "sortingUri": "sha1://" + "b" * 40}


@pytest.mark.parametrize("make", [
    lambda: vv.TiledImage(tile_size=256, layers=[]),
    lambda: vv.TiledImageLayer("a", np.zeros((2, 2), np.uint8)),
    lambda: vv.franklab.TrackPositionAnimationV1(),
    lambda: vv.franklab.DecodedLinearPositionData(),
])
def test_views_we_do_not_provide_say_so_when_built(make):
    with pytest.raises(NotImplementedError, match="not available"):
        make()
