"""Timeseries segments: min/max downsampling by powers of 3 and the lazily built, cached pyramid."""
from __future__ import annotations

import numpy as np
import pytest

import sortingview as sv
from sortingview.compute.timeseries import bin_range, choose_ds_factor, combine_minmax, interleave, minmax_bins
from sortingview.errors import TaskInputError
from sortingview.store.uri import parse_uri
from sortingview.tasks import execute_task
from sortingview.tasks import timeseries as ts_task
from tests.datasets import make_dataset


def reference_minmax(traces, start, end, ds):
    """Brute force: for each bin touched by [start, end), min and max over the bin's frames."""
    b0, b1 = bin_range(start, end, ds)
    rows = []
    for b in range(b0, b1):
        block = traces[b * ds:min((b + 1) * ds, len(traces))]
        rows += [block.min(axis=0), block.max(axis=0)]
    return np.array(rows)


def test_minmax_bins_and_levels_nest():
    rng = np.random.default_rng(0)
    x = rng.integers(-1000, 1000, size=(1000, 3)).astype(np.int16)
    lo, hi = minmax_bins(x, 9)
    assert lo.dtype == np.int16 and lo.shape == (112, 3)  # 111 whole bins and a last bin of 1 frame
    np.testing.assert_array_equal(interleave(lo, hi), reference_minmax(x, 0, 1000, 9))
    lo3, hi3 = minmax_bins(x, 3)
    lo9, hi9 = combine_minmax(lo3, hi3, 3)
    np.testing.assert_array_equal(lo9, lo)
    np.testing.assert_array_equal(hi9, hi)


@pytest.mark.parametrize("start,end,max_samples,expected", [
    (0, 2000, 2000, 1),
    (0, 2001, 2000, 3),
    (0, 3000, 2000, 3),       # 1000 bins of 3 -> 2000 rows
    (1, 3001, 2000, 9),       # misaligned: 1001 bins of 3 would be 2002 rows
    (0, 1_000_000, 2000, 2187),  # 1372 bins of 729 would be 2744 rows
    (0, 10, 2, 27),           # one bin of 27 covers 0..9
])
def test_ds_factor_is_the_smallest_power_of_3_that_fits(start, end, max_samples, expected):
    assert choose_ds_factor(start, end, max_samples) == expected


@pytest.fixture
def ds(store_dir, tmp_path):
    return make_dataset(tmp_path, seed=12, num_channels=4, durations=20.0, num_units=4)


def _uv(ds):
    return ds.recording.get_traces(return_in_uV=True)


def test_small_windows_are_the_traces_themselves(ds):
    r = sv.run_task("sortingview.timeseries_segment.1", {"recording": ds.recording_uri, "startFrame": 1000,
                                                         "endFrame": 2500}, inline=True)
    assert r["dsFactor"] == 1 and r["unit"] == "uV" and r["channelIds"] == ds.channel_ids
    np.testing.assert_allclose(r["traces"], _uv(ds)[1000:2500], rtol=1e-6)


@pytest.mark.parametrize("start,end,max_samples,expected_ds", [
    (12345, 12345 + 5000, 2000, 9),           # read straight from the recording
    (0, 600_000, 2000, 729),                  # the whole recording, from the stored pyramid
    (333_333, 333_333 + 150_001, 1300, 243),  # misaligned window at a stored level
    (599_990, 600_000, 4, 9),                 # the last, partial bin
])
def test_downsampled_windows_match_brute_force(ds, start, end, max_samples, expected_ds):
    r = sv.run_task("sortingview.timeseries_segment.1", {"recording": ds.recording_uri, "startFrame": start,
                                                         "endFrame": end, "maxSamples": max_samples}, inline=True)
    assert r["dsFactor"] == expected_ds and len(r["traces"]) <= max_samples
    b0, b1 = bin_range(start, end, expected_ds)
    assert (r["startFrame"], r["endFrame"]) == (b0 * expected_ds, min(b1 * expected_ds, 600_000))
    np.testing.assert_allclose(r["traces"], reference_minmax(_uv(ds), start, end, expected_ds), rtol=1e-6)


def test_channel_selection(ds):
    chans = [ds.channel_ids[2], ds.channel_ids[0]]
    r = sv.run_task("sortingview.timeseries_segment.1", {"recording": ds.recording_uri, "startFrame": 0,
                                                         "endFrame": 300_000, "channelIds": chans}, inline=True)
    assert r["channelIds"] == chans
    np.testing.assert_allclose(r["traces"], reference_minmax(_uv(ds)[:, [2, 0]], 0, 300_000, r["dsFactor"]),
                               rtol=1e-6)


def test_the_pyramid_is_built_lazily_and_reused(ds, store_dir, monkeypatch):
    folder = store_dir / "sortingview" / "pyramids" / parse_uri(ds.recording_uri).sha1
    reads = []
    real = ts_task.Pyramid._read

    def counting(self, start, end):
        reads.append((start, end))
        return real(self, start, end)

    monkeypatch.setattr(ts_task.Pyramid, "_read", counting)
    # a zoomed window at factor 81: only the level-4 chunks it touches are computed (729 bins = 59,049 frames)
    window = {"recording": ds.recording_uri, "startFrame": 200_000, "endFrame": 260_000}
    r = execute_task("sortingview.timeseries_segment.1", window)
    assert r["dsFactor"] == 81
    flags = np.fromfile(folder / "level4.bin", dtype=np.uint8)[-11:]  # 600,000 / 59,049 -> 11 chunks
    assert flags.tolist() == [0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0]
    frames_read = sum(e - s for s, e in reads)
    assert frames_read == 2 * 59049
    # the same or an overlapping window again: no traces read at all
    reads.clear()
    execute_task("sortingview.timeseries_segment.1", {**window, "startFrame": 210_000})
    assert reads == []
    # zooming out to the whole recording reads each frame at most once more, and then never again
    execute_task("sortingview.timeseries_segment.1", {**window, "startFrame": 0, "endFrame": 600_000})
    assert sum(e - s for s, e in reads) == 600_000 - 2 * 59049
    reads.clear()
    execute_task("sortingview.timeseries_segment.1", {**window, "startFrame": 0, "endFrame": 599_999,
                                                      "maxSamples": 500})
    assert reads == []
    assert sorted(p.name for p in folder.iterdir()) == [f"level{k}.bin" for k in range(4, 9)] + ["pyramid.json"]


@pytest.mark.parametrize("task_input,match", [
    ({"startFrame": 5, "endFrame": 5}, "startFrame < endFrame"),
    ({"startFrame": -1, "endFrame": 10}, "0 <= startFrame"),
    ({"startFrame": 0, "endFrame": 10, "maxSamples": 1}, "at least 2"),
    ({"startFrame": 0, "endFrame": 10, "channelIds": ["nope"]}, "channelIds must list channels"),
    ({"startFrame": 0.5, "endFrame": 10}, "'startFrame' must be int"),
])
def test_bad_windows_are_clear_errors(ds, task_input, match):
    with pytest.raises(TaskInputError, match=match):
        sv.run_task("sortingview.timeseries_segment.1", {"recording": ds.recording_uri, **task_input}, inline=True)


def test_recordings_that_are_not_binary_files_go_through_get_traces(tmp_path):
    from spikeinterface.core import NumpyRecording

    rng = np.random.default_rng(1)
    traces = rng.normal(0, 10, size=(200_000, 3)).astype(np.float32)
    rec = NumpyRecording([traces], sampling_frequency=30000.0)
    r = ts_task.timeseries_segment_of(rec, str(tmp_path), 1234, 190_000, None, 2000)
    assert r["dsFactor"] == 243 and r["unit"] == "raw"
    np.testing.assert_array_equal(r["traces"], reference_minmax(traces, 1234, 190_000, 243))
    assert (tmp_path / "level4.bin").is_file() and (tmp_path / "level5.bin").is_file()
    # without a folder (a store in memory) the window is reduced from the traces directly
    again = ts_task.timeseries_segment_of(rec, None, 1234, 190_000, None, 2000)
    np.testing.assert_array_equal(again["traces"], r["traces"])


def test_two_processes_building_the_same_pyramid_agree(ds, store_dir):
    import json
    import subprocess
    import sys

    code = ("import json, sys; from sortingview.tasks import execute_task; "
            "r = execute_task('sortingview.timeseries_segment.1', json.loads(sys.argv[1])); "
            "print(json.dumps(r['traces']))")
    task_input = json.dumps({"recording": ds.recording_uri, "startFrame": 0, "endFrame": 600_000, "maxSamples": 500})
    procs = [subprocess.Popen([sys.executable, "-c", code, task_input], stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs)
    from sortingview.serialize import decode_value

    first, second = (decode_value(json.loads(o)) for o in outputs)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(first, reference_minmax(_uv(ds), 0, 600_000, 6561), rtol=1e-6)
    # and a third reader in this process finds every chunk it needs already built
    r = sv.run_task("sortingview.timeseries_segment.1", json.loads(task_input), inline=True)
    np.testing.assert_array_equal(r["traces"], first)
