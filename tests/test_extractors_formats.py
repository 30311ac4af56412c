"""NWB and MDA objects, copies of unsupported extractors, and loading in another process."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from datasets import make_dataset

from sortingview import store
from sortingview.errors import UnsupportedExtractorError
from sortingview.extractors import (
    copy_recording_extractor,
    copy_sorting_extractor,
    load_recording,
    load_sorting,
    store_recording,
    store_sorting,
)


def write_nwb(path, traces_int16, fs, spike_times_by_unit, gain_v=0.195e-6):
    """A small NWB file: one ElectricalSeries (int16 with a conversion) and a Units table."""
    from datetime import datetime, timezone

    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.ecephys import ElectricalSeries

    nwb = NWBFile(session_description="sortingview test", identifier="sv-test",
                  session_start_time=datetime(2024, 1, 1, tzinfo=timezone.utc))
    device = nwb.create_device(name="probe")
    group = nwb.create_electrode_group(name="shank0", description="", location="CA1", device=device)
    nwb.add_electrode_column(name="rel_x", description="x (um)")
    nwb.add_electrode_column(name="rel_y", description="y (um)")
    n_ch = traces_int16.shape[1]
    for ch in range(n_ch):
        nwb.add_electrode(group=group, location="CA1", rel_x=float(ch % 2) * 16, rel_y=float(ch) * 20)
    region = nwb.create_electrode_table_region(list(range(n_ch)), "all electrodes")
    nwb.add_acquisition(ElectricalSeries(name="ElectricalSeries", data=traces_int16, electrodes=region,
                                         rate=fs, conversion=gain_v, starting_time=0.0))
    for times in spike_times_by_unit:
        nwb.add_unit(spike_times=times)
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)


@pytest.fixture
def nwb_file(tmp_path, store_dir):
    rng = np.random.default_rng(7)
    traces = rng.integers(-500, 500, size=(6000, 4), dtype=np.int16)
    spikes = [np.sort(rng.uniform(0, 0.19, size=n)) for n in (12, 30, 5)]
    path = tmp_path / "session.nwb"
    write_nwb(path, traces, 30000.0, spikes)
    return path, traces, spikes


def test_nwb_recording_round_trip(nwb_file):
    from spikeinterface.extractors.nwbextractors import NwbRecordingExtractor

    path, traces, _ = nwb_file
    rec = NwbRecordingExtractor(str(path))
    back = load_recording(store_recording(rec))
    assert type(back).__name__ == "NwbRecordingExtractor"
    np.testing.assert_array_equal(back.get_traces(), traces)
    np.testing.assert_allclose(back.get_channel_gains(), 0.195)
    np.testing.assert_array_equal(back.get_channel_locations(), rec.get_channel_locations())
    assert back.get_channel_locations()[3].tolist() == [16.0, 60.0]


def test_nwb_sorting_round_trip(nwb_file):
    from spikeinterface.extractors.nwbextractors import NwbSortingExtractor

    path, _, spikes = nwb_file
    sorting = NwbSortingExtractor(str(path), electrical_series_path="acquisition/ElectricalSeries")
    back = load_sorting(store_sorting(sorting))
    assert list(back.unit_ids) == list(sorting.unit_ids)
    for u, times in zip(back.unit_ids, spikes, strict=True):
        np.testing.assert_array_equal(back.get_unit_spike_train(u), sorting.get_unit_spike_train(u))
        assert len(back.get_unit_spike_train(u)) == len(times)
    # opened with an explicit time base instead of a series: the object keeps rate and start
    timed = NwbSortingExtractor(str(path), sampling_frequency=20000.0, t_start=0.0)
    back = load_sorting(store_sorting(timed))
    assert back.get_sampling_frequency() == 20000.0
    np.testing.assert_array_equal(back.get_unit_spike_train(back.unit_ids[1]),
                                  timed.get_unit_spike_train(timed.unit_ids[1]))


def test_mda_sorting_round_trip(store_dir, tmp_path):
    from spikeinterface.core import NumpySorting
    from spikeinterface.extractors.mdaextractors import MdaSortingExtractor

    sorting = NumpySorting.from_unit_dict({1: np.array([5, 50, 500]), 7: np.array([10, 20])}, 20000.0)
    MdaSortingExtractor.write_sorting(sorting, tmp_path / "firings.mda")
    mda = MdaSortingExtractor(tmp_path / "firings.mda", sampling_frequency=20000.0)
    back = load_sorting(store_sorting(mda))
    assert back.get_sampling_frequency() == 20000.0
    assert list(back.unit_ids) == [1, 7]
    np.testing.assert_array_equal(back.get_unit_spike_train(7), [10, 20])


def test_copy_recording_keeps_values_scaling_probe_and_segments(store_dir, tmp_path):
    from spikeinterface.core import generate_ground_truth_recording

    rec, _ = generate_ground_truth_recording(durations=[0.5, 0.3], num_channels=5, num_units=2, seed=11)
    rec.set_channel_gains(2.5)
    copy = copy_recording_extractor(rec, serialize_dtype="float32", progress=False)
    assert type(copy).__name__ == "BinaryRecordingExtractor"
    assert copy.get_num_segments() == 2
    for seg in range(2):
        np.testing.assert_array_equal(copy.get_traces(segment_index=seg), rec.get_traces(segment_index=seg))
    np.testing.assert_allclose(copy.get_channel_gains(), 2.5)
    np.testing.assert_array_equal(copy.get_channel_locations(), rec.get_channel_locations())
    assert list(copy.channel_ids) == list(rec.channel_ids)
    # the copy lives in the store directory, linked (written once)
    assert str(copy.get_binary_description()["file_paths"][0]).startswith(str(store_dir))


def test_copy_recording_refuses_truncating_floats(store_dir):
    from spikeinterface.core import generate_recording

    rec = generate_recording(num_channels=2, durations=[0.1], seed=0)
    with pytest.raises(UnsupportedExtractorError, match="truncate"):
        copy_recording_extractor(rec, serialize_dtype="int16")


def test_copy_sorting_gives_an_npz_sorting_with_equal_trains(store_dir):
    from spikeinterface.core import NpzSortingExtractor, generate_sorting

    sorting = generate_sorting(num_units=5, durations=[2.0, 1.0], seed=4)
    copy = copy_sorting_extractor(sorting)
    assert isinstance(copy, NpzSortingExtractor)  # GroupedNpzSorting, a subclass answering from grouped trains
    for u in sorting.unit_ids:
        for seg in range(2):
            np.testing.assert_array_equal(copy.get_unit_spike_train(u, segment_index=seg),
                                          sorting.get_unit_spike_train(u, segment_index=seg))


def test_copied_recording_larger_than_chunks_uses_bounded_memory(store_dir, tmp_path):
    """A lazily generated recording (160 MB as float32) copied in a fresh process grows RSS far less than that."""
    script = textwrap.dedent("""
        import json, psutil, numpy as np
        from spikeinterface.generation import NoiseGeneratorRecording
        import sortingview.extractors.copy as c
        rec = NoiseGeneratorRecording(num_channels=64, sampling_frequency=30000.0, durations=[21.0], seed=2,
                                      strategy="on_the_fly", dtype="float32")
        proc = psutil.Process()
        c.CHUNK_BYTES = 8 * 1024 * 1024
        base = proc.memory_info().rss
        peak = [base]
        orig = c._write_segment
        def traced(*a):
            class Bar:
                def update(self, n):
                    peak[0] = max(peak[0], proc.memory_info().rss)
                    a[4].update(n)
            return orig(a[0], a[1], a[2], a[3], Bar())
        c._write_segment = traced
        copy = c.copy_recording_extractor(rec, progress=False)
        same = bool(np.array_equal(copy.get_traces(start_frame=600000, end_frame=600100),
                                   rec.get_traces(start_frame=600000, end_frame=600100)))
        print(json.dumps({"growth": peak[0] - base, "bytes": 64 * 30000 * 21 * 4, "same": same}))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["same"]
    assert res["growth"] < res["bytes"] / 3, res
    print("copy peak RSS growth", res)


def test_objects_load_equal_in_another_process(store_dir, tmp_path):
    d = make_dataset(tmp_path, seed=5, num_channels=4, durations=1.0, num_units=3)
    script = textwrap.dedent(f"""
        import hashlib, json, numpy as np
        from sortingview.extractors import load_recording, load_sorting
        rec = load_recording({d.recording_uri!r})
        srt = load_sorting({d.sorting_uri!r})
        print(json.dumps({{
            "traces": hashlib.sha1(np.ascontiguousarray(rec.get_traces()).tobytes()).hexdigest(),
            "gains": rec.get_channel_gains().tolist(), "offsets": rec.get_channel_offsets().tolist(),
            "locations": rec.get_channel_locations().tolist(), "channels": [str(c) for c in rec.channel_ids],
            "trains": {{str(u): srt.get_unit_spike_train(u).tolist() for u in srt.unit_ids}},
        }}))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    import hashlib

    assert got["traces"] == hashlib.sha1(np.ascontiguousarray(d.recording.get_traces()).tobytes()).hexdigest()
    assert got["gains"] == d.recording.get_channel_gains().tolist()
    assert got["offsets"] == d.recording.get_channel_offsets().tolist()
    assert got["locations"] == d.gt_recording.get_channel_locations().tolist()
    assert got["channels"] == [str(c) for c in d.channel_ids]
    assert got["trains"] == {str(u): d.spike_train(u).tolist() for u in d.unit_ids}
    assert store.load_json(d.recording_uri)["format"] == "binary_recording"
