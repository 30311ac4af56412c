"""unit_snippets: values, channels, spread selection, edges, merge groups, empty units."""
from __future__ import annotations

import numpy as np
import pytest
from test_waveforms import AFTER, BEFORE, _sorting_uri, brute_force_snippets, dataset_in_own_store, run

from sortingview.errors import TaskInputError


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    yield from dataset_in_own_store(tmp_path_factory, "snippets")


def test_snippets_are_the_recording_around_each_listed_time(ds):
    u = ds.unit_ids[2]
    res = run("sortingview.unit_snippets.1", recording=ds.recording_uri, sorting=ds.sorting_uri, unitId=u,
              maxSnippets=40)
    frames = np.round(res["timesSec"] * ds.sampling_frequency).astype(np.int64)
    assert len(frames) == 40 and np.all(np.diff(frames) > 0) and np.all(np.isin(frames, ds.spike_train(u)))
    ids = list(ds.recording.get_channel_ids())
    chans = [ids.index(c) for c in res["channelIds"]]
    assert res["snippets"].shape == (40, BEFORE + AFTER, 7) and res["snippets"].dtype == np.float32
    np.testing.assert_allclose(res["snippets"], brute_force_snippets(ds.recording, frames)[:, :, chans], atol=1e-3)
    # the same neighbourhood as the unit's average waveform
    wf = run("sortingview.average_waveforms.1", recording=ds.recording_uri, sorting=ds.sorting_uri, unitIds=[u])
    assert res["channelIds"] == wf["averageWaveforms"][0]["channelIds"]


def test_snippets_are_spread_over_the_recording_and_reproducible(ds):
    u = ds.unit_ids[0]
    inp = dict(recording=ds.recording_uri, sorting=ds.sorting_uri, unitId=u, maxSnippets=10, snippetLen=[10, 20])
    res = run("sortingview.unit_snippets.1", **inp)
    again = run("sortingview.unit_snippets.1", **inp)
    np.testing.assert_array_equal(res["timesSec"], again["timesSec"])
    train = ds.spike_train(u) / ds.sampling_frequency
    # one snippet per tenth of the unit's spikes: the first and last tenth are both represented
    assert res["timesSec"][0] <= train[len(train) // 10] and res["timesSec"][-1] >= train[-(len(train) // 10) - 1]
    assert res["snippets"].shape == (10, 30, 7)


def test_all_snippets_when_fewer_spikes_than_max_and_edges_left_out(ds):
    n = ds.num_frames[0]
    uri = _sorting_uri(ds, {"a": [0, 100, 20000, 60000, n - 2]})
    res = run("sortingview.unit_snippets.1", recording=ds.recording_uri, sorting=uri, unitId="a")
    frames = np.round(res["timesSec"] * ds.sampling_frequency).astype(np.int64)
    assert frames.tolist() == [100, 20000, 60000]


def test_merge_group_snippets_come_from_both_units(ds):
    u1, u2 = ds.unit_ids[:2]
    res = run("sortingview.unit_snippets.1", recording=ds.recording_uri, sorting=ds.sorting_uri, unitId=[u1, u2],
              maxSnippets=5000)
    frames = np.round(res["timesSec"] * ds.sampling_frequency).astype(np.int64)
    assert len(frames) == ds.spike_counts[u1] + ds.spike_counts[u2]
    assert np.isin(ds.spike_train(u1), frames).all() and np.isin(ds.spike_train(u2), frames).all()


def test_unit_without_usable_spikes_gives_no_snippets(ds):
    uri = _sorting_uri(ds, {"edge": [1, 2], "other": [5000]})
    res = run("sortingview.unit_snippets.1", recording=ds.recording_uri, sorting=uri, unitId="edge")
    assert res["snippets"].shape[0] == 0 and len(res["timesSec"]) == 0 and res["channelIds"] == []


def test_bad_snippet_inputs_are_clear_errors(ds):
    with pytest.raises(TaskInputError, match="maxSnippets"):
        run("sortingview.unit_snippets.1", recording=ds.recording_uri, sorting=ds.sorting_uri,
            unitId=ds.unit_ids[0], maxSnippets=-5)
    with pytest.raises(TaskInputError, match="merge group must list at least one"):
        run("sortingview.unit_snippets.1", recording=ds.recording_uri, sorting=ds.sorting_uri, unitId=[])
    with pytest.raises(TaskInputError, match="not in the sorting"):
        run("sortingview.unit_snippets.1", recording=ds.recording_uri, sorting=ds.sorting_uri, unitId=[0, 999])
