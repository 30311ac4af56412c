"""average_waveforms: brute-force numpy and spikeinterface references, edges, merge groups, reproducibility."""
from __future__ import annotations

import numpy as np
import pytest
from datasets import make_dataset

import sortingview as sv
from sortingview.errors import TaskInputError
from sortingview.extractors import copy_sorting_extractor, store_sorting
from sortingview.tasks._reading import GAP_FRAMES, iter_blocks, trace_source
from sortingview.tasks.waveforms import read_snippets, selected_frames, unit_moments

BEFORE, AFTER = 30, 60


def dataset_in_own_store(tmp_path_factory, name: str, *, seed: int = 11, num_channels: int = 12,
                         num_units: int = 8):
    """One seeded dataset (by default 12 channels, 20 s, 8 units, int16 with a gain) in a store of its own."""
    tmp = tmp_path_factory.mktemp(name)
    with pytest.MonkeyPatch.context() as mp:
        (tmp / "store").mkdir()
        mp.setenv("KACHERY_CLOUD_DIR", str(tmp / "store"))
        yield make_dataset(tmp, seed=seed, num_channels=num_channels, durations=20.0, num_units=num_units)


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    yield from dataset_in_own_store(tmp_path_factory, "waveforms")


def brute_force_snippets(recording, frames, before=BEFORE, after=AFTER) -> np.ndarray:
    """Snippets (n x frames x channels, microvolts) read one spike at a time through spikeinterface."""
    return np.stack([recording.get_traces(start_frame=int(t) - before, end_frame=int(t) + after,
                                          return_in_uV=True) for t in frames]).astype(np.float64)


def run(task, **kw):
    return sv.run_task(task, kw, inline=True)


def nearest_by_distance(locations, center, k):
    d = np.linalg.norm(locations - locations[center], axis=1)
    return set(np.argsort(d, kind="stable")[:k].tolist())


def test_average_waveforms_match_brute_force_numpy(ds):
    res = run("sortingview.average_waveforms.1", recording=ds.recording_uri, sorting=ds.sorting_uri,
              maxSpikesPerUnit=100)
    source = trace_source(ds.recording)
    ids = list(ds.recording.get_channel_ids())
    locs = ds.recording.get_channel_locations()
    assert [e["unitId"] for e in res["averageWaveforms"]] == ds.unit_ids
    for entry in res["averageWaveforms"]:
        frames = selected_frames(ds.sorting, entry["unitId"], source, BEFORE, AFTER, 100)
        assert entry["numSpikes"] == len(frames) == min(100, ds.spike_counts[entry["unitId"]])
        snips = brute_force_snippets(ds.recording, frames)
        mean, std = snips.mean(axis=0), snips.std(axis=0)
        peak = int(np.argmax(np.abs(mean).max(axis=0)))
        assert entry["peakChannelId"] == ids[peak]
        chans = [ids.index(c) for c in entry["channelIds"]]
        assert set(chans) == nearest_by_distance(locs, peak, 7) and chans == sorted(chans)
        assert entry["waveform"].shape == (BEFORE + AFTER, 7)
        np.testing.assert_allclose(entry["waveform"], mean[:, chans], atol=2e-3)
        np.testing.assert_allclose(entry["waveformStdDev"], std[:, chans], atol=2e-3)


def test_peak_channel_is_the_ground_truth_templates_peak_channel(ds):
    res = run("sortingview.average_waveforms.1", recording=ds.recording_uri, sorting=ds.sorting_uri)
    ids = list(ds.recording.get_channel_ids())
    checked = 0
    for i, entry in enumerate(res["averageWaveforms"]):
        per_channel = np.abs(ds.templates[i]).max(axis=0)
        second, first = np.sort(per_channel)[-2:]
        # compare where the true peak is unambiguous: the noise left in a 500-spike mean is ~0.3 uV
        if first - second > 2.0:
            checked += 1
            assert entry["peakChannelId"] == ids[int(np.argmax(per_channel))]
    assert checked >= ds.num_units // 2


def test_templates_match_spikeinterface_sorting_analyzer_on_the_same_spikes(ds):
    import spikeinterface.core as si

    source = trace_source(ds.recording)
    frames = {u: selected_frames(ds.sorting, u, source, BEFORE, AFTER, 200) for u in ds.unit_ids}
    chosen = si.NumpySorting.from_unit_dict([frames], sampling_frequency=ds.sampling_frequency)
    analyzer = si.create_sorting_analyzer(chosen, ds.recording, sparse=False, format="memory")
    analyzer.compute("random_spikes", method="all")
    analyzer.compute("waveforms", ms_before=BEFORE / 30, ms_after=AFTER / 30)
    templates = analyzer.compute("templates", operators=["average", "std"])
    si_mean, si_std = templates.get_data("average"), templates.get_data("std")
    ours_mean, ours_std = unit_moments(source, [frames[u] for u in ds.unit_ids], BEFORE, AFTER)
    np.testing.assert_allclose(ours_mean, si_mean, atol=2e-3)
    np.testing.assert_allclose(ours_std, si_std, atol=2e-3, rtol=1e-4)


def test_generic_get_traces_path_equals_the_memory_mapped_path(ds):
    source = trace_source(ds.recording)
    assert source.raw_file is not None
    generic = trace_source(ds.recording.frame_slice(0, ds.num_frames[0]))
    assert generic.raw_file is None
    frames = [selected_frames(ds.sorting, u, source, BEFORE, AFTER, 50) for u in ds.unit_ids]
    a = unit_moments(source, frames, BEFORE, AFTER)
    b = unit_moments(generic, frames, BEFORE, AFTER)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    chans = [np.array([0, 3, 5]), np.array([11]), np.arange(12)] + [np.array([2, 1])] * (len(frames) - 3)
    for x, y, f in zip(read_snippets(source, frames, chans, BEFORE, AFTER),
                       read_snippets(generic, frames, chans, BEFORE, AFTER), frames, strict=True):
        np.testing.assert_array_equal(x, y)
        assert x.shape[0] == len(f)


def test_blocks_are_bounded_and_cover_each_snippet_once(ds):
    source = trace_source(ds.recording)
    frames = np.sort(np.concatenate([selected_frames(ds.sorting, u, source, BEFORE, AFTER, None)
                                     for u in ds.unit_ids]))
    max_bytes = 64 * 1024
    seen, last_end = 0, -1
    for i0, i1, block, start in iter_blocks(source, frames, BEFORE, AFTER, max_block_bytes=max_bytes):
        assert i0 == seen and i1 > i0
        assert block.nbytes <= max_bytes and start >= last_end - BEFORE - AFTER
        assert start <= frames[i0] - BEFORE and frames[i1 - 1] + AFTER <= start + block.shape[0]
        seen, last_end = i1, start + block.shape[0]
    assert seen == len(frames)
    # through get_traces, a long gap between spikes starts a new block (the samples in between are not read)
    generic = trace_source(ds.recording.frame_slice(0, ds.num_frames[0]))
    sparse = frames[::200]
    blocks = list(iter_blocks(generic, sparse, BEFORE, AFTER))
    assert len(blocks) > 1 and sum(i1 - i0 for i0, i1, _, _ in blocks) == len(sparse)
    for i0, i1, block, _ in blocks:
        assert np.all(np.diff(sparse[i0:i1]) <= GAP_FRAMES + BEFORE + AFTER)
        assert block.shape[0] == sparse[i1 - 1] - sparse[i0] + BEFORE + AFTER


def _sorting_uri(ds, trains: dict) -> str:
    import spikeinterface.core as si

    sorting = si.NumpySorting.from_unit_dict([{k: np.asarray(v, np.int64) for k, v in trains.items()}],
                                             sampling_frequency=ds.sampling_frequency)
    return store_sorting(copy_sorting_extractor(sorting))


def test_spikes_whose_snippet_crosses_an_edge_are_left_out(ds):
    n = ds.num_frames[0]
    inside = [BEFORE, 5000, 90000, n - AFTER]  # first and last frames whose snippet just fits
    edge = [0, BEFORE - 1, n - AFTER + 1, n - 1]
    uri = _sorting_uri(ds, {"a": sorted(inside + edge), "b": edge, "c": []})
    res = run("sortingview.average_waveforms.1", recording=ds.recording_uri, sorting=uri, snippetLen=[30.0, 60.0])
    a, b, c = res["averageWaveforms"]
    assert c["numSpikes"] == 0 and c["waveform"] is None  # a unit without spikes
    assert a["numSpikes"] == len(inside)
    expected = brute_force_snippets(ds.recording, inside).mean(axis=0)
    ids = list(ds.recording.get_channel_ids())
    chans = [ids.index(c) for c in a["channelIds"]]
    np.testing.assert_allclose(a["waveform"], expected[:, chans], atol=2e-3)
    # a unit with only edge spikes has nothing to average: reported, not a crash
    assert b["numSpikes"] == 0 and b["waveform"] is None and b["peakChannelId"] is None


def test_merge_group_averages_the_union_of_its_members(ds):
    u1, u2 = ds.unit_ids[:2]
    res = run("sortingview.average_waveforms.1", recording=ds.recording_uri, sorting=ds.sorting_uri,
              unitIds=[[u1, u2], u1], maxSpikesPerUnit=150)
    merged = res["averageWaveforms"][0]
    assert merged["unitId"] == [u1, u2]
    frames = selected_frames(ds.sorting, [u1, u2], trace_source(ds.recording), BEFORE, AFTER, 150)
    union = np.union1d(ds.spike_train(u1), ds.spike_train(u2))
    assert len(frames) == 150 and np.all(np.isin(frames, union))
    expected = brute_force_snippets(ds.recording, frames).mean(axis=0)
    ids = list(ds.recording.get_channel_ids())
    np.testing.assert_allclose(merged["waveform"], expected[:, [ids.index(c) for c in merged["channelIds"]]],
                               atol=2e-3)


def test_selection_is_reproducible_and_spread_over_the_whole_recording(ds):
    from sortingview.tasks import execute_task

    inp = {"recording": ds.recording_uri, "sorting": ds.sorting_uri, "maxSpikesPerUnit": 20}
    assert execute_task("sortingview.average_waveforms.1", inp) == execute_task("sortingview.average_waveforms.1",
                                                                                 inp)
    source = trace_source(ds.recording)
    for u in ds.unit_ids:
        train = selected_frames(ds.sorting, u, source, BEFORE, AFTER, None)
        picked = selected_frames(ds.sorting, u, source, BEFORE, AFTER, 20)
        # one spike from each twentieth of the unit's spikes (stratified), so no long stretch is skipped
        bounds = np.arange(21) * len(train) // 20
        strata = np.searchsorted(bounds, np.searchsorted(train, picked), side="right") - 1
        assert strata.tolist() == list(range(20))


@pytest.mark.parametrize("field,value,match", [
    ("snippetLen", [30], "snippetLen"),
    ("snippetLen", [-1, 10], "snippetLen"),
    ("maxSpikesPerUnit", 0, "maxSpikesPerUnit"),
    ("neighborhoodSize", 0, "neighborhoodSize"),
    ("unitIds", ["no-such-unit"], "not in the sorting"),
])
def test_bad_inputs_are_clear_errors(ds, field, value, match):
    with pytest.raises(TaskInputError, match=match):
        run("sortingview.average_waveforms.1", recording=ds.recording_uri, sorting=ds.sorting_uri, **{field: value})


def test_sorting_at_another_sampling_rate_is_refused(ds):
    import spikeinterface.core as si

    other = si.NumpySorting.from_unit_dict([{"a": np.array([100, 200])}], sampling_frequency=20000.0)
    uri = store_sorting(copy_sorting_extractor(other))
    with pytest.raises(TaskInputError, match="sampled at"):
        run("sortingview.average_waveforms.1", recording=ds.recording_uri, sorting=uri)


def test_recording_without_gains_gives_raw_units(ds):
    from spikeinterface.core import BinaryRecordingExtractor

    from sortingview.extractors import store_recording

    raw = BinaryRecordingExtractor(ds.binary_paths, ds.sampling_frequency, "int16", ds.num_channels,
                                   channel_ids=ds.channel_ids)
    raw.set_probegroup(ds.recording.get_probegroup())
    uri = store_recording(raw)
    ours = run("sortingview.average_waveforms.1", recording=uri, sorting=ds.sorting_uri, maxSpikesPerUnit=50)
    in_uv = run("sortingview.average_waveforms.1", recording=ds.recording_uri, sorting=ds.sorting_uri,
                maxSpikesPerUnit=50)
    for a, b in zip(ours["averageWaveforms"], in_uv["averageWaveforms"], strict=True):
        assert a["channelIds"] == b["channelIds"]
        np.testing.assert_allclose(a["waveform"] * ds.gain_to_uv, b["waveform"], atol=1e-3)
