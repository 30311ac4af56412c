"""sortingview.SpikeSortingView: the 2022 helper, its data checked against the recording read directly."""
from __future__ import annotations

import json

import numpy as np
import pytest

import sortingview as sv
import sortingview.views as vv
from sortingview.SpikeSortingView import SpikeSortingView, SpikeSortingViewError

si = pytest.importorskip("spikeinterface.core")

SNIPPET = (10, 15)


@pytest.fixture(scope="module")
def recording_sorting():
    return si.generate_ground_truth_recording(durations=[12.0], num_units=5, num_channels=6, seed=7)


@pytest.fixture
def ssv(recording_sorting, store_dir):
    rec, srt = recording_sorting
    return SpikeSortingView.create(recording=rec, sorting=srt, segment_duration_sec=5, snippet_len=SNIPPET,
                                   max_num_snippets_per_segment=20, channel_neighborhood_size=3)


def test_spikesortingview_is_public_and_reopens_from_its_uri(ssv):
    assert sv.SpikeSortingView is SpikeSortingView
    again = SpikeSortingView(ssv.data_uri)
    assert again.unit_ids.tolist() == ssv.unit_ids.tolist()
    assert (ssv.num_segments, ssv.snippet_len, ssv.max_num_snippets_per_segment) == (3, SNIPPET, 20)
    assert ssv.channel_neighborhood_size == 3 and ssv.num_frames_per_segment == int(5 * ssv.sampling_frequency)


def test_spike_trains_amplitudes_and_peak_channels_match_the_recording(ssv, recording_sorting):
    rec, srt = recording_sorting
    traces = rec.get_traces(return_in_uV=rec.has_scaleable_traces()).astype(np.float32)
    for u in srt.unit_ids:
        train = srt.get_unit_spike_train(u)
        np.testing.assert_array_equal(ssv.get_unit_spike_train(unit_id=u), train)
        peak = int(np.argmax(np.abs(traces[train].mean(axis=0))))
        assert ssv.get_unit_peak_channel_id(unit_id=u) == rec.channel_ids[peak]
        np.testing.assert_array_equal(ssv.get_unit_spike_amplitudes(unit_id=u), traces[train, peak])
        assert peak in [list(rec.channel_ids).index(c) for c in ssv.get_unit_channel_neighborhood(unit_id=u)]


def test_snippets_are_sampled_per_segment_and_read_on_the_neighbourhood(ssv, recording_sorting):
    rec, srt = recording_sorting
    traces = rec.get_traces(return_in_uV=rec.has_scaleable_traces()).astype(np.float32)
    u = srt.unit_ids[1]
    frames = ssv.get_unit_subsampled_spike_train(unit_id=u)
    per_segment = np.bincount(frames // ssv.num_frames_per_segment, minlength=3)
    assert per_segment.max() <= 20 and len(frames) == 60 > 0
    channels = [list(rec.channel_ids).index(c) for c in ssv.get_unit_channel_neighborhood(unit_id=u)]
    expected = np.stack([traces[t - SNIPPET[0]: t + SNIPPET[1]][:, channels] for t in frames])
    np.testing.assert_array_equal(ssv.get_unit_subsampled_spike_snippets(unit_id=u), expected)
    view = ssv.average_waveforms_view(unit_ids=[u]).to_dict()
    item = view["averageWaveforms"][0]
    np.testing.assert_allclose(item["waveform"], expected.mean(axis=0).T, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(item["waveformStdDev"], expected.std(axis=0).T, rtol=1e-4, atol=1e-3)
    assert item["channelIds"] == [rec.channel_ids[c].item() for c in channels]
    assert set(view["channelLocations"]) == {str(c) for c in rec.channel_ids}


def test_autocorrelograms_count_every_lag_in_the_window(ssv, recording_sorting):
    _, srt = recording_sorting
    u = srt.unit_ids[0]
    fs = ssv.sampling_frequency
    t = srt.get_unit_spike_train(u).astype(np.int64)
    lags = (t[None, :] - t[:, None])[~np.eye(len(t), dtype=bool)]
    k = np.floor((lags + 25 * fs / 1000) / (fs / 1000)).astype(np.int64)
    expected = np.bincount(k[(k >= 0) & (k < 50)], minlength=50)
    item = ssv.autocorrelograms_view(unit_ids=[u]).to_dict()["autocorrelograms"][0]
    np.testing.assert_array_equal(item["binCounts"], expected)
    assert item["binEdgesSec"][0] == pytest.approx(-0.025) and len(item["binEdgesSec"]) == 51
    cc = ssv.cross_correlograms_view(unit_ids=srt.unit_ids[:2]).to_dict()["crossCorrelograms"]
    assert [(c["unitId1"], c["unitId2"]) for c in cc] == [(a, b) for a in srt.unit_ids[:2] for b in srt.unit_ids[:2]]
    np.testing.assert_array_equal(cc[0]["binCounts"], expected)


def test_units_table_raster_amplitudes_summary_and_geometry(ssv, recording_sorting):
    rec, srt = recording_sorting
    ids = list(srt.unit_ids)
    metrics = [{"name": "isi", "label": "ISI viol.", "data": {str(ids[0]): 0.5}}]
    rows = ssv.units_table_view(unit_ids=ids, unit_metrics=metrics).to_dict()["rows"]
    n0 = len(srt.get_unit_spike_train(ids[0]))
    assert rows[0]["values"]["numEvents"] == n0 and rows[0]["values"]["metric:isi"] == 0.5
    assert rows[0]["values"]["firingRateHz"] == pytest.approx(n0 / 12.0)
    assert "metric:isi" not in rows[1]["values"] and rows[1]["values"]["snr"] > 0
    raster = ssv.raster_plot_view(unit_ids=ids, _subsample_max_firing_rate=1.0).to_dict()
    assert raster["endTimeSec"] == pytest.approx(12.0)
    assert all(len(p["spikeTimesSec"]) <= 12 for p in raster["plots"])
    amps = ssv.spike_amplitudes_view(unit_ids=ids[:1], hide_unit_selector=True).to_dict()
    assert amps["hideUnitSelector"] is True and amps["units"][0]["spikeAmplitudes"].dtype == np.float32
    summary = ssv.sorting_summary_view().to_dict()
    assert summary["type"] == "Summary" and summary["unitIds"] == ids and summary["numFrames"] == rec.get_num_frames()
    assert summary["noiseLevel"] > 0
    assert set(ssv.electrode_geometry_view().to_dict()["channelLocations"]) == {str(c) for c in rec.channel_ids}


def test_mountain_layout_view_links(ssv):
    view = ssv.mountain_layout_view(label_choices=["good", "noise"])
    assert isinstance(view, vv.MountainLayout)
    url = view.url(label="ssv", state={"sortingCuration": "sha1://" + "e" * 40})
    assert "/f?v=sortingview-views-1&d=sha1://" in url and view.url(label="ssv", state={
        "sortingCuration": "sha1://" + "e" * 40}) == url


def test_bad_arguments_say_what_to_change(recording_sorting, store_dir):
    rec, srt = recording_sorting
    args = dict(recording=rec, sorting=srt, segment_duration_sec=5, snippet_len=SNIPPET,
                max_num_snippets_per_segment=20, channel_neighborhood_size=3)
    for key, value, message in (("segment_duration_sec", 0, "segment_duration_sec"),
                                ("snippet_len", (10,), "snippet_len"),
                                ("channel_neighborhood_size", 0, "channel_neighborhood_size")):
        with pytest.raises(SpikeSortingViewError, match=message):
            SpikeSortingView.create(**{**args, key: value})
    ssv = SpikeSortingView.create(**args)
    with pytest.raises(SpikeSortingViewError, match="not in this sorting"):
        ssv.get_unit_spike_train(unit_id="nope")


def test_multi_segment_recordings_are_refused_with_the_fix(store_dir):
    rec, srt = si.generate_ground_truth_recording(durations=[2.0, 2.0], num_units=2, num_channels=4, seed=1)
    with pytest.raises(SpikeSortingViewError, match="2 segments.*concatenate_recordings"):
        SpikeSortingView.create(recording=rec, sorting=srt, segment_duration_sec=5, snippet_len=SNIPPET,
                                max_num_snippets_per_segment=20, channel_neighborhood_size=3)


def test_a_2022_curation_script_runs_with_a_kachery_cloud_curation(ssv, store_dir):
    """The shape of sortingview 2022's trythis_start_sorting_curation / Spyglass: every *_view() in a
    MountainLayout with SortingCuration2, the initial curation stored by kachery-cloud (locally)."""
    kcl = pytest.importorskip("kachery_cloud")
    from urllib.parse import parse_qs, urlparse

    from sortingview import store

    X = ssv
    view = vv.MountainLayout(items=[
        vv.MountainLayoutItem(label="Summary", view=X.sorting_summary_view()),
        vv.MountainLayoutItem(label="Units table", view=X.units_table_view(unit_ids=X.unit_ids, unit_metrics=None)),
        vv.MountainLayoutItem(label="Raster plot", view=X.raster_plot_view(unit_ids=X.unit_ids,
                                                                           _subsample_max_firing_rate=50)),
        vv.MountainLayoutItem(label="Spike amplitudes", view=X.spike_amplitudes_view(unit_ids=X.unit_ids,
                                                                                     _subsample_max_firing_rate=50)),
        vv.MountainLayoutItem(label="Autocorrelograms", view=X.autocorrelograms_view(unit_ids=X.unit_ids)),
        vv.MountainLayoutItem(label="Cross correlograms", view=X.cross_correlograms_view(unit_ids=X.unit_ids)),
        vv.MountainLayoutItem(label="Avg waveforms", view=X.average_waveforms_view(unit_ids=X.unit_ids)),
        vv.MountainLayoutItem(label="Electrode geometry", view=X.electrode_geometry_view()),
        vv.MountainLayoutItem(label="Curation", view=vv.SortingCuration2(), is_control=True, control_height=600),
    ])
    curation_uri = kcl.store_json({"labelsByUnit": {str(X.unit_ids[0]): ["accept"]}, "mergeGroups": []}, local=True)
    url = view.url(label="curation", state={"sortingCuration": curation_uri})
    query = parse_qs(urlparse(url).query)
    root = store.load_json(query["d"][0])
    assert [v["type"] for v in root["views"]] == ["Summary", "UnitsTable", "RasterPlot", "SpikeAmplitudes",
                                                  "Autocorrelograms", "CrossCorrelograms", "AverageWaveforms",
                                                  "ElectrodeGeometry", "SortingCuration2"]
    state = json.loads(query["s"][0])
    assert store.load_json(state["sortingCuration"])["labelsByUnit"] == {str(X.unit_ids[0]): ["accept"]}


def test_a_recording_without_a_probe_gets_a_column_of_contacts(recording_sorting, store_dir):
    rec, srt = recording_sorting
    bare = si.NumpyRecording([rec.get_traces()], sampling_frequency=rec.sampling_frequency)
    X = SpikeSortingView.create(recording=bare, sorting=srt, segment_duration_sec=5, snippet_len=SNIPPET,
                                max_num_snippets_per_segment=5, channel_neighborhood_size=2)
    assert X.channel_locations.tolist() == [[0.0, 20.0 * i] for i in range(rec.get_num_channels())]
    peak = X.get_unit_peak_channel_id(unit_id=srt.unit_ids[0])
    assert peak in X.get_unit_channel_neighborhood(unit_id=srt.unit_ids[0]).tolist()
