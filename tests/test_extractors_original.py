"""Objects in the formats the original sortingview wrote load when their files are in the store.

Each object is built here the way the original built it (its copy_* functions, its labbox-ephys extractors'
writers, kachery-cloud's array encoding), over files with known contents.
"""
from __future__ import annotations

import struct

import numpy as np
import pytest
from datasets import make_dataset
from test_extractors_formats import write_nwb

import sortingview as sv
from sortingview import store
from sortingview.errors import InvalidObjectError, NotFoundError

MDA_CODES = {"int16": -4, "float32": -3, "float64": -7, "int32": -5}


def write_mda(path, array: np.ndarray) -> str:
    """The .mda layout (int32 type code, bytes per entry, dims; data in column-major order)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<iii", MDA_CODES[array.dtype.name], array.dtype.itemsize, array.ndim))
        f.write(struct.pack(f"<{array.ndim}i", *array.shape))
        f.write(array.tobytes(order="F"))
    return str(path)


@pytest.fixture
def data(store_dir, tmp_path):
    d = make_dataset(tmp_path, seed=21, num_channels=4, durations=1.0, num_units=3)
    traces = d.recording.get_traces()  # int16, frames x channels
    return d, traces, tmp_path


def bin_object(traces: np.ndarray, fs: float, fmt: str, *, channel_ids=None, order=None) -> dict:
    n = traces.shape[1]
    order = list(range(n)) if order is None else order
    ids = channel_ids or [100 + i for i in range(len(order))]
    dtype = "int16" if fmt == "bin1" else "float32"
    uri = store.store_bytes(traces.astype(dtype).tobytes(), label="raw.dat")
    data = {"raw": uri, "raw_num_channels": n, "num_frames": traces.shape[0], "samplerate": fs, "channel_ids": ids,
            "channel_map": {str(c): order[i] for i, c in enumerate(ids)},
            "channel_positions": {str(c): [0.0, 20.0 * i] for i, c in enumerate(ids)}}
    if fmt == "bin2":
        data["dtype"] = dtype
    return {"recording_format": fmt, "data": data}


def test_bin1_and_bin2_pick_channels_through_the_channel_map(data):
    d, traces, _ = data
    for fmt in ("bin1", "bin2"):
        R = sv.load_recording_extractor(bin_object(traces, d.sampling_frequency, fmt, order=[3, 1]))
        assert list(R.channel_ids) == [100, 101] and R.get_num_frames() == traces.shape[0]
        np.testing.assert_array_equal(R.get_traces(start_frame=5, end_frame=900), traces[5:900, [3, 1]])
        np.testing.assert_array_equal(R.get_channel_locations(), [[0, 0], [0, 20]])


def test_mda_recording_and_the_bare_labbox_form(data):
    d, traces, tmp = data
    raw = store.store_file(write_mda(tmp / "raw.mda", np.ascontiguousarray(traces.T)), label="raw.mda")
    geom = [[0.0, 10.0 * i] for i in range(traces.shape[1])]
    params = {"samplerate": d.sampling_frequency}
    for obj in ({"recording_format": "mda", "data": {"raw": raw, "geom": geom, "params": params}},
                {"raw": raw, "geom": geom, "params": params}):
        R = sv.load_recording_extractor(obj)
        np.testing.assert_array_equal(R.get_traces(), traces)
        np.testing.assert_array_equal(R.get_channel_locations(), geom)


def test_nwb_and_nwb2_recordings_and_sortings(data):
    d, traces, tmp = data
    trains = [d.sorting.get_unit_spike_train(u) / d.sampling_frequency for u in d.sorting.unit_ids]
    write_nwb(tmp / "x.nwb", traces, d.sampling_frequency, trains)
    uri = store.link_file(str(tmp / "x.nwb"))
    for rec_obj in ({"recording_format": "nwb", "data": {"path": uri}},
                    {"recording_format": "nwb2", "data": {"nwb_file_uri": uri,
                                                          "electrical_series_name": "ElectricalSeries"}}):
        np.testing.assert_array_equal(sv.load_recording_extractor(rec_obj).get_traces(end_frame=700), traces[:700])
    for srt_obj in ({"sorting_format": "nwb", "data": {"path": uri}},
                    {"sorting_format": "nwb2", "data": {"nwb_file_uri": uri, "electrical_series_name": None,
                                                        "sampling_frequency": d.sampling_frequency}}):
        S = sv.load_sorting_extractor(srt_obj)
        assert [len(S.get_unit_spike_train(u)) for u in S.unit_ids] == [len(t) for t in trains]


def write_h5_v1_recording(path, traces: np.ndarray, fs: float, chunk_size: int, padding: int) -> None:
    """As the original's prepare_timeseries_hdf5_from_recording: padded per-channel chunks part-<m>-<c>."""
    import h5py

    n, m = traces.shape
    num_chunks = -(-n // chunk_size)
    with h5py.File(path, "w") as f:
        for name, value in [("chunk_size", chunk_size), ("num_chunks", num_chunks), ("padding", padding),
                            ("num_channels", m), ("num_timepoints", n), ("sampling_frequency", fs)]:
            f.create_dataset(name, data=[value])
        f.create_dataset("channel_ids", data=list(range(m)))
        f.create_dataset("channel_geom", data=np.array([[0.0, 5.0 * i] for i in range(m)]))
        for j in range(num_chunks):
            padded = np.zeros((m, chunk_size + 2 * padding))
            t1, t2 = j * chunk_size, min(n, (j + 1) * chunk_size)
            s1, s2 = max(0, t1 - padding), min(n, t2 + padding)
            a = padding - (t1 - s1)
            padded[:, a:a + s2 - s1] = traces[s1:s2].T
            for c in range(m):
                f.create_dataset(f"part-{c}-{j}", data=padded[c])


def test_h5_v1_recording_reads_across_chunk_boundaries(data):
    d, traces, tmp = data
    write_h5_v1_recording(tmp / "rec.h5", traces, d.sampling_frequency, chunk_size=1000, padding=100)
    R = sv.load_recording_extractor({"recording_format": "h5_v1",
                                     "data": {"h5_uri": store.store_file(str(tmp / "rec.h5"))}})
    assert R.get_num_frames() == traces.shape[0] and R.get_sampling_frequency() == d.sampling_frequency
    np.testing.assert_array_equal(R.get_traces(start_frame=950, end_frame=3050), traces[950:3050])
    np.testing.assert_array_equal(R.get_traces(start_frame=10, end_frame=20, channel_ids=[2, 0]),
                                  traces[10:20, [2, 0]])
    np.testing.assert_array_equal(R.get_channel_locations()[:, 1], [0, 5, 10, 15])


def test_subrecording_filtered_binary_kwargs_and_concatenation(data):
    from kachery_cloud._serialize import _serialize
    from spikeinterface.preprocessing import bandpass_filter

    d, traces, _ = data
    base = bin_object(traces, d.sampling_frequency, "bin2")
    sub = sv.load_recording_extractor({"recording_format": "subrecording", "data": {
        "recording": base, "channel_ids": [101, 103], "start_frame": 100, "end_frame": 1100}})
    np.testing.assert_array_equal(sub.get_traces(), traces[100:1100, [1, 3]])
    flt = sv.load_recording_extractor({"recording_format": "filtered", "data": {
        "recording": base, "filters": [{"type": "bandpass_filter", "freq_min": 300, "freq_max": 3000}]}})
    want = bandpass_filter(sv.load_recording_extractor(base), freq_min=300, freq_max=3000).get_traces(end_frame=2000)
    np.testing.assert_allclose(flt.get_traces(end_frame=2000), want)
    # the original's get_recording_object of a BinaryRecordingExtractor: its kwargs, paths as URIs, and the
    # locations encoded by kachery-cloud's _serialize
    kwargs = {"file_paths": [store.link_file(p) for p in d.binary_paths], "sampling_frequency": d.sampling_frequency,
              "num_chan": 4, "dtype": "int16", "channel_ids": [0, 1, 2, 3], "time_axis": 0, "file_offset": 0,
              "gain_to_uV": None, "offset_to_uV": None, "is_filtered": None,
              "channel_locations": np.array([[0.0, 1.0 * i] for i in range(4)])}
    obj = _serialize({"recording_format": "BinaryRecordingExtractor", "data": kwargs})
    R = sv.load_recording_extractor(obj)
    np.testing.assert_array_equal(R.get_traces(), traces)
    np.testing.assert_array_equal(R.get_channel_locations()[:, 1], [0, 1, 2, 3])
    cat = sv.load_recording_extractor({"recording_format": "ConcatenateSegmentRecording",
                                       "data": {"recording_list": [obj, obj]}})
    assert cat.get_num_frames() == 2 * traces.shape[0]
    # storing a recording loaded from an original object gives that object back
    assert sv.get_recording_object(cat)["recording_format"] == "ConcatenateSegmentRecording"


def write_h5_v1_sorting(path, sorting) -> None:
    import h5py

    with h5py.File(path, "w") as f:
        f.create_dataset("sampling_frequency", data=np.array([sorting.get_sampling_frequency()]))
        for u in sorting.unit_ids:
            f.create_dataset(f"unit_spike_trains/{u}", data=sorting.get_unit_spike_train(u).astype(np.int64))
        f.create_dataset("unit_ids", data=np.array([int(u) for u in sorting.unit_ids], dtype=np.int32))


def test_original_sorting_formats(data):
    from spikeinterface.core import NpzSortingExtractor
    from spikeinterface.extractors.mdaextractors import MdaSortingExtractor

    d, _, tmp = data
    S0 = d.sorting.rename_units([5, 9, 12])
    MdaSortingExtractor.write_sorting(S0, str(tmp / "firings.mda"))
    firings = store.store_file(str(tmp / "firings.mda"))
    NpzSortingExtractor.write_sorting(S0, str(tmp / "s.npz"))
    write_h5_v1_sorting(tmp / "s.h5", S0)
    fs = d.sampling_frequency
    objects = [{"sorting_format": "mda", "data": {"firings": firings, "samplerate": fs}},
               {"firings": firings, "samplerate": fs},
               {"sorting_format": "npz", "data": {"npz_file_uri": store.store_file(str(tmp / "s.npz"))}},
               {"sorting_format": "h5_v1", "data": {"h5_path": store.store_file(str(tmp / "s.h5"))}}]
    for obj in objects:
        S = sv.load_sorting_extractor(obj)
        assert sorted(int(u) for u in S.unit_ids) == [5, 9, 12] and S.get_sampling_frequency() == fs
        for u in (5, 9, 12):
            np.testing.assert_array_equal(S.get_unit_spike_train(u), S0.get_unit_spike_train(u))
    curated = sv.load_sorting_extractor({"sorting_format": "curated",
                                         "data": {"sorting": objects[0], "merge_groups": [[9, 12]]}})
    assert list(curated.unit_ids) == [5, 9]
    both = np.sort(np.concatenate([S0.get_unit_spike_train(9), S0.get_unit_spike_train(12)]))
    np.testing.assert_array_equal(curated.get_unit_spike_train(9), both)


def test_unknown_formats_missing_files_and_bad_files_are_clear_errors(data):
    d, traces, tmp = data
    with pytest.raises(InvalidObjectError, match="recording_format 'spikeforest' .* not supported .*bin2"):
        sv.load_recording_extractor({"recording_format": "spikeforest", "data": {}})
    with pytest.raises(InvalidObjectError, match="sorting_format 'in_memory'"):
        sv.load_sorting_extractor({"sorting_format": "in_memory", "data": {}})
    missing = bin_object(traces, d.sampling_frequency, "bin2")
    missing["data"]["raw"] = "sha1://" + "ab" * 20
    with pytest.raises(NotFoundError, match="is not in the store"):
        sv.load_recording_extractor(missing)
    not_mda = store.store_bytes(b"\x00" * 64)
    with pytest.raises(InvalidObjectError, match="not an .mda file"):
        sv.load_recording_extractor({"raw": not_mda, "geom": [[0, 0]], "params": {"samplerate": 1.0}})
    bad_map = bin_object(traces, d.sampling_frequency, "bin1", order=[9])
    with pytest.raises(InvalidObjectError, match="outside the 4 raw channels"):
        sv.load_recording_extractor(bad_map)


def test_save_recording_writes_an_h5_v1_file_the_loader_reads(data):
    d, traces, tmp = data
    sv.save_recording(d.recording, format="h5_v1", filename=str(tmp / "saved.h5"), dtype="int16")
    R = sv.load_recording_extractor({"recording_format": "h5_v1",
                                     "data": {"h5_uri": store.store_file(str(tmp / "saved.h5"))}})
    np.testing.assert_array_equal(R.get_traces(), traces)
    with pytest.raises(InvalidObjectError, match="'h5_v1' only"):
        sv.save_recording(d.recording, format="nwb", filename=str(tmp / "x"), dtype=float)
