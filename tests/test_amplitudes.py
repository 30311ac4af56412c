"""spike_amplitudes: definition (brute force), spikeinterface's spike_amplitudes, merge groups, edges."""
from __future__ import annotations

import numpy as np
import pytest
from test_waveforms import AFTER, BEFORE, _sorting_uri, dataset_in_own_store, run

from sortingview.tasks._reading import trace_source
from sortingview.tasks.waveforms import selected_frames


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    yield from dataset_in_own_store(tmp_path_factory, "amplitudes")


def _frames(entry, fs):
    return np.round(entry["timesSec"] * fs).astype(np.int64)


def test_amplitudes_are_the_peak_channel_sample_at_the_template_peak(ds):
    res = run("sortingview.spike_amplitudes.1", recording=ds.recording_uri, sorting=ds.sorting_uri)
    wfs = run("sortingview.average_waveforms.1", recording=ds.recording_uri, sorting=ds.sorting_uri)
    traces = ds.recording.get_traces(return_in_uV=True)
    ids = list(ds.recording.get_channel_ids())
    for entry, wf in zip(res["spikeAmplitudes"], wfs["averageWaveforms"], strict=True):
        assert entry["unitId"] == wf["unitId"] and entry["peakChannelId"] == wf["peakChannelId"]
        frames = _frames(entry, ds.sampling_frequency)
        np.testing.assert_array_equal(frames, ds.spike_train(entry["unitId"]))  # every spike by default
        pc_local = wf["channelIds"].index(wf["peakChannelId"])
        shift = int(np.argmax(np.abs(wf["waveform"][:, pc_local]))) - BEFORE
        expected = traces[frames + shift, ids.index(entry["peakChannelId"])]
        np.testing.assert_allclose(entry["amplitudes"], expected, atol=1e-3)
        # spikes of these units are negative-going
        assert np.median(entry["amplitudes"]) < 0


def test_amplitudes_match_spikeinterface_on_the_same_spikes(ds):
    import spikeinterface.core as si

    source = trace_source(ds.recording)
    chosen = {u: selected_frames(ds.sorting, u, source, BEFORE, AFTER, 500) for u in ds.unit_ids}
    sorting = si.NumpySorting.from_unit_dict([chosen], sampling_frequency=ds.sampling_frequency)
    wfs = run("sortingview.average_waveforms.1", recording=ds.recording_uri, sorting=ds.sorting_uri)
    ids = list(ds.recording.get_channel_ids())
    # spikeinterface guesses a unit's main channel from 100 spikes; give it the peak channel of the same
    # 500-spike template, so that both compute the amplitude at the same channel and shift
    main = np.array([ids.index(e["peakChannelId"]) for e in wfs["averageWaveforms"]])
    analyzer = si.create_sorting_analyzer(sorting, ds.recording, sparse=False, format="memory",
                                          main_channel_indices=main)
    analyzer.compute(["random_spikes", "waveforms", "templates"], extension_params={
        "random_spikes": {"method": "all"}, "waveforms": {"ms_before": 1.0, "ms_after": 2.0}})
    analyzer.compute("spike_amplitudes")
    si_amps = analyzer.get_extension("spike_amplitudes").get_data(outputs="by_unit")[0]
    res = run("sortingview.spike_amplitudes.1", recording=ds.recording_uri, sorting=ds.sorting_uri)
    for entry in res["spikeAmplitudes"]:
        frames = _frames(entry, ds.sampling_frequency)
        common = np.isin(frames, chosen[entry["unitId"]])
        assert common.sum() == len(chosen[entry["unitId"]])
        np.testing.assert_allclose(entry["amplitudes"][common], si_amps[entry["unitId"]], atol=1e-3)


def test_max_spikes_and_merge_groups(ds):
    u1, u2 = ds.unit_ids[3:5]
    res = run("sortingview.spike_amplitudes.1", recording=ds.recording_uri, sorting=ds.sorting_uri,
              unitIds=[[u1, u2]], maxSpikesPerUnit=50.0)  # JSON numbers may arrive as floats
    entry = res["spikeAmplitudes"][0]
    frames = _frames(entry, ds.sampling_frequency)
    assert entry["unitId"] == [u1, u2] and len(frames) == 50 == len(entry["amplitudes"])
    assert np.all(np.diff(frames) > 0)
    assert np.all(np.isin(frames, np.union1d(ds.spike_train(u1), ds.spike_train(u2))))


def test_edge_spikes_keep_their_amplitude_when_the_peak_sample_exists(ds):
    n = ds.num_frames[0]
    frames = [1, 3000, 6000, 90000, 150000, n - 1]
    uri = _sorting_uri(ds, {"a": frames, "gone": [0, n - 1]})
    res = run("sortingview.spike_amplitudes.1", recording=ds.recording_uri, sorting=uri)
    a, gone = res["spikeAmplitudes"]
    kept = _frames(a, ds.sampling_frequency)
    assert set(kept) >= {3000, 6000, 90000, 150000} and len(kept) == len(a["amplitudes"])
    # a unit with no whole snippet has no template, hence no peak channel and no amplitudes
    assert gone["peakChannelId"] is None and len(gone["amplitudes"]) == 0
