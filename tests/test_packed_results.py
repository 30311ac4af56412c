"""The packed ``.2`` task results: the same numbers as ``.1`` on seeded data, in a few large arrays.

Also: the large-array encoding (compressed only when it pays), job ids that ignore URI labels, and
``sv.run_task`` decoding a ``.2`` result computed by a real backend process.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from datasets import make_dataset
from test_waveforms import dataset_in_own_store

import sortingview as sv
from sortingview.errors import TaskInputError
from sortingview.extractors import copy_sorting_extractor, store_sorting
from sortingview.serialize import decode_value, encode_array, encode_value, store_json_bytes, task_job_id
from sortingview.tasks import cached_result, execute_task
from sortingview.tasks._packing import compact_counts


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    yield from dataset_in_own_store(tmp_path_factory, "packed", seed=13, num_units=6)


@pytest.fixture(scope="module")
def crafted(ds):
    """A sorting on the dataset's recording with a unit of edge spikes only and a unit without spikes."""
    import spikeinterface.core as si

    n = ds.num_frames[0]
    trains = {str(u): ds.spike_train(u) for u in ds.unit_ids[:3]}
    trains.update({"edge": np.array([0, 3, n - 2]), "empty": np.zeros(0, np.int64)})
    sorting = si.NumpySorting.from_unit_dict([{k: np.asarray(v, np.int64) for k, v in trains.items()}],
                                             sampling_frequency=ds.sampling_frequency)
    return store_sorting(copy_sorting_extractor(sorting)), list(trains)


def run(task, **kw):
    return sv.run_task(task, kw, inline=True)


def rows(offsets, i):
    return slice(int(offsets[i]), int(offsets[i + 1]))


def test_autocorrelograms_2_equal_1_in_one_array(ds):
    units = [ds.unit_ids[0], [ds.unit_ids[1], ds.unit_ids[2]], ds.unit_ids[3]]
    old = run("sortingview.autocorrelograms.1", sorting=ds.sorting_uri, unitIds=units)
    new = run("sortingview.autocorrelograms.2", sorting=ds.sorting_uri, unitIds=units)
    np.testing.assert_array_equal(new["binEdgesSec"], old["binEdgesSec"])
    assert new["unitIds"] == units and new["binCounts"].shape == (3, 50)
    assert new["binCounts"].dtype.kind == "u" and new["binCounts"].sum() > 0
    for i, entry in enumerate(old["autocorrelograms"]):
        np.testing.assert_array_equal(new["binCounts"][i], entry["binCounts"])


def test_cross_correlograms_2_equal_1_pair_by_pair(ds):
    units = [ds.unit_ids[0], [ds.unit_ids[1], ds.unit_ids[2]], ds.unit_ids[3], ds.unit_ids[4]]
    kw = dict(sorting=ds.sorting_uri, unitIds=units, windowMs=20, binMs=0.5)
    old, new = run("sortingview.cross_correlograms.1", **kw), run("sortingview.cross_correlograms.2", **kw)
    pairs = old["crossCorrelograms"]
    assert new["unitIds1"] == [p["unitId1"] for p in pairs] and new["unitIds2"] == [p["unitId2"] for p in pairs]
    assert new["binCounts"].shape == (16, 40)
    np.testing.assert_array_equal(new["binCounts"], np.stack([p["binCounts"] for p in pairs]))


def test_average_waveforms_2_equal_1_with_units_that_have_no_template(ds, crafted):
    uri, units = crafted
    kw = dict(recording=ds.recording_uri, sorting=uri, neighborhoodSize=5)
    old, new = run("sortingview.average_waveforms.1", **kw), run("sortingview.average_waveforms.2", **kw)
    assert new["unitIds"] == units and new["waveforms"].shape == (5, 90, 5)
    assert (new["samplingFrequency"], new["snippetLen"]) == (old["samplingFrequency"], old["snippetLen"])
    for i, entry in enumerate(old["averageWaveforms"]):
        assert new["numSpikes"][i] == entry["numSpikes"]
        if entry["waveform"] is None:
            assert new["peakChannelIndices"][i] == -1 and (new["channelIndices"][i] == -1).all()
            assert np.isnan(new["waveforms"][i]).all() and np.isnan(new["waveformStdDevs"][i]).all()
            continue
        assert new["channelIds"][new["peakChannelIndices"][i]] == entry["peakChannelId"]
        assert [new["channelIds"][c] for c in new["channelIndices"][i]] == entry["channelIds"]
        np.testing.assert_array_equal(new["waveforms"][i], entry["waveform"])
        np.testing.assert_array_equal(new["waveformStdDevs"][i], entry["waveformStdDev"])
    assert [e["waveform"] is None for e in old["averageWaveforms"]] == [False, False, False, True, True]


def test_spike_amplitudes_2_equal_1_unit_by_unit(ds, crafted):
    uri, units = crafted
    kw = dict(recording=ds.recording_uri, sorting=uri, maxSpikesPerUnit=300)
    old, new = run("sortingview.spike_amplitudes.1", **kw), run("sortingview.spike_amplitudes.2", **kw)
    assert new["unitIds"] == units and len(new["spikeOffsets"]) == len(units) + 1
    assert new["spikeOffsets"][-1] == len(new["timesSec"]) == len(new["amplitudes"])
    for i, entry in enumerate(old["spikeAmplitudes"]):
        assert new["peakChannelIds"][i] == entry["peakChannelId"]
        np.testing.assert_array_equal(new["timesSec"][rows(new["spikeOffsets"], i)], entry["timesSec"])
        np.testing.assert_array_equal(new["amplitudes"][rows(new["spikeOffsets"], i)], entry["amplitudes"])
    assert list(np.diff(new["spikeOffsets"])) == [len(e["timesSec"]) for e in old["spikeAmplitudes"]]
    assert new["spikeOffsets"][-1] > 0 and np.diff(new["spikeOffsets"])[-1] == 0  # the empty unit


def test_unit_metrics_2_equal_1_with_nan_for_null(ds, crafted):
    uri, units = crafted
    kw = dict(recording=ds.recording_uri, sorting=uri, presenceBinSec=5.0)
    old, new = run("sortingview.unit_metrics.1", **kw), run("sortingview.unit_metrics.2", **kw)
    assert new["unitIds"] == units and new["values"].shape == (len(old["metrics"]), len(units))
    for m, entry in enumerate(old["metrics"]):
        assert new["metrics"][m] == {k: entry[k] for k in ("name", "label", "tooltip")}
        expected = [np.nan if entry["data"][u] is None else entry["data"][u] for u in units]
        np.testing.assert_array_equal(new["values"][m], np.array(expected, np.float64))
    assert np.isnan(new["values"]).any() and not np.isnan(new["values"][0]).any()  # numEvents always defined


def test_unit_features_2_equal_1_for_each_unit(ds):
    units = [ds.unit_ids[0], [ds.unit_ids[1], ds.unit_ids[2]]]
    new = run("sortingview.unit_features.2", recording=ds.recording_uri, sorting=ds.sorting_uri, unitIds=units,
              maxSpikesPerUnit=200)
    assert new["features"].shape == (new["spikeOffsets"][-1], 3)
    for i, unit in enumerate(units):
        old = run("sortingview.unit_features.1", recording=ds.recording_uri, sorting=ds.sorting_uri, unitId=unit,
                  maxSpikesPerUnit=200)
        np.testing.assert_array_equal(new["timesSec"][rows(new["spikeOffsets"], i)], old["timesSec"])
        np.testing.assert_allclose(new["features"][rows(new["spikeOffsets"], i)], old["features"], atol=1e-3)


def test_unit_snippets_2_equal_1_for_each_unit(ds, crafted):
    uri, units = crafted
    new = run("sortingview.unit_snippets.2", recording=ds.recording_uri, sorting=uri, unitIds=units,
              maxSnippets=50)
    assert new["snippets"].shape == (new["spikeOffsets"][-1], 90, 7)
    for i, unit in enumerate(units):
        old = run("sortingview.unit_snippets.1", recording=ds.recording_uri, sorting=uri, unitId=unit,
                  maxSnippets=50)
        r = rows(new["spikeOffsets"], i)
        np.testing.assert_array_equal(new["timesSec"][r], old["timesSec"])
        if old["snippets"].size == 0:  # .1 gives (0, frames, 0) for a unit without channels, .2 (0, frames, 7)
            assert new["snippets"][r].size == 0 and unit in ("edge", "empty")
        else:
            np.testing.assert_array_equal(new["snippets"][r], old["snippets"])
        assert [new["channelIds"][c] for c in new["channelIndices"][i] if c >= 0] == old["channelIds"]
    # refused before any allocation: by the input bounds (tasks/limits.py) or the task's own size check
    with pytest.raises(TaskInputError, match="maxSnippets"):
        run("sortingview.unit_snippets.2", recording=ds.recording_uri, sorting=uri, unitIds=units,
            maxSnippets=10**7)


def test_packed_results_store_as_a_few_arrays(ds):
    encoded = execute_task("sortingview.cross_correlograms.2", {"sorting": ds.sorting_uri, "unitIds": ds.unit_ids})
    text = store_json_bytes(encoded).decode()
    assert text.count('"_type":"ndarray"') == 2  # binEdgesSec and binCounts, whatever the number of pairs
    old = execute_task("sortingview.cross_correlograms.1", {"sorting": ds.sorting_uri, "unitIds": ds.unit_ids})
    assert store_json_bytes(old).decode().count('"_type":"ndarray"') == 1 + len(ds.unit_ids) ** 2


def test_compact_counts_keep_values_in_the_narrowest_unsigned_type():
    for top, dtype in ((255, np.uint8), (256, np.uint16), (70000, np.uint32), (2**33, np.int64)):
        counts = np.array([[0, top], [1, 2]], np.int64)
        packed = compact_counts(counts)
        assert packed.dtype == dtype
        np.testing.assert_array_equal(packed, counts)
    assert compact_counts(np.zeros((0, 5), np.int64)).shape == (0, 5)


def test_large_arrays_are_compressed_only_when_a_sample_says_it_pays():
    rng = np.random.default_rng(0)
    noisy = rng.standard_normal(600_000).astype(np.float32)  # 2.4 MB that zlib cannot halve
    zeros = np.zeros((2000, 300), np.int32)  # 2.4 MB that compresses to almost nothing
    small = rng.standard_normal(1000).astype(np.float32)  # 4 kB: compressed as before
    enc = {name: encode_array(a) for name, a in (("noisy", noisy), ("zeros", zeros), ("small", small))}
    assert "data_b64" in enc["noisy"] and "data_gzip_b64" in enc["zeros"] and "data_gzip_b64" in enc["small"]
    assert len(enc["zeros"]["data_gzip_b64"]) < 100_000
    back = decode_value(json.loads(store_json_bytes(encode_value({"a": noisy, "b": zeros, "c": small[::2]}))))
    np.testing.assert_array_equal(back["a"], noisy)
    np.testing.assert_array_equal(back["b"], zeros)
    np.testing.assert_array_equal(back["c"], small[::2])  # a strided view encodes its values
    back["a"][0] = 1.0  # decoded arrays are writable


def test_large_arrays_are_spliced_into_exactly_the_bytes_json_would_write():
    rng = np.random.default_rng(1)
    value = encode_value({"b": rng.standard_normal(400_000), "a": [1, "x"], "z": {"c": rng.integers(0, 9, 10)},
                          "c": np.arange(300_000, dtype=np.int64) % 7, "note": "fine"})
    plain = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    assert len(value["b"]["data_b64"]) > 2**20 and store_json_bytes(value) == plain


def test_job_ids_ignore_uri_labels_and_query_parameters():
    h = "ab" * 20
    base = task_job_id("sortingview.sorting_info.1", {"sorting": f"sha1://{h}"})
    for spelled in (f"sha1://{h}?label=sorting.json", f"sha1://{h}/sorting.json", f"sha1://{h.upper()}",
                    f"sha1://{h}?label=other&location=x"):
        assert task_job_id("sortingview.sorting_info.1", {"sorting": spelled}) == base
    nested = {"sortings": [f"sha1://{h}?label=a", {"s": f"sha1://{h}/b.json"}], "note": "sha1 is not a URI"}
    assert task_job_id("t.1", nested) == task_job_id("t.1", {"sortings": [f"sha1://{h}", {"s": f"sha1://{h}"}],
                                                           "note": "sha1 is not a URI"})
    assert task_job_id("sortingview.sorting_info.1", {"sorting": f"sha1://{'cd' * 20}?label=sorting.json"}) != base


def test_one_object_under_two_labels_shares_one_cache_entry(ds):
    labelled = ds.sorting_uri.split("?")[0] + "?label=another-name.json"
    run("sortingview.autocorrelograms.2", sorting=ds.sorting_uri)
    assert cached_result("sortingview.autocorrelograms.2", {"sorting": labelled}) is not None
    again = run("sortingview.autocorrelograms.2", sorting=labelled)
    assert again["unitIds"] == ds.unit_ids


@pytest.mark.slow
def test_run_task_decodes_a_packed_result_computed_by_a_backend_process(store_dir, tmp_path):
    from backend_tasks import start_backend_process, write_config

    data = make_dataset(tmp_path, seed=5, num_channels=4, durations=5.0, num_units=4)
    proc = start_backend_process(write_config(tmp_path / "b.yaml"))
    try:
        result = sv.run_task("sortingview.cross_correlograms.2", {"sorting": data.sorting_uri,
                                                                  "unitIds": data.unit_ids}, timeout=120)
    finally:
        proc.kill()
        proc.wait(10)
    assert isinstance(result["binCounts"], np.ndarray) and result["binCounts"].shape == (16, 50)
    inline = sv.run_task("sortingview.cross_correlograms.1", {"sorting": data.sorting_uri,
                                                              "unitIds": data.unit_ids}, inline=True)
    np.testing.assert_array_equal(result["binCounts"], np.stack([p["binCounts"] for p in
                                                                 inline["crossCorrelograms"]]))


def test_templates_without_std_have_the_same_means_and_the_last_ones_are_reused(ds):
    from sortingview.tasks._objects import load_recording, load_sorting
    from sortingview.tasks.waveforms import unit_templates

    rec, srt = load_recording(ds.recording_uri), load_sorting(ds.sorting_uri)
    units = ds.unit_ids[:3]
    plain = unit_templates(rec, srt, units, 30, 60, 200)
    assert all(t.std is None for t in plain)
    assert unit_templates(rec, srt, units, 30, 60, 200) is plain  # the same request again: reused
    full = unit_templates(rec, srt, units, 30, 60, 200, with_std=True)
    assert full is not plain and all(t.std is not None for t in full)
    for a, b in zip(plain, full, strict=True):
        np.testing.assert_array_equal(a.mean, b.mean)
        assert (a.peak_channel, a.peak_frame) == (b.peak_channel, b.peak_frame)
    assert unit_templates(rec, srt, units, 30, 60, 200) is full  # templates with std serve one without
    assert unit_templates(rec, srt, units[:2], 30, 60, 200) is not full
