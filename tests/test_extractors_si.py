"""Every recording a user has: SpikeInterface chains, binary and zarr folders, neo readers (SpikeGLX and NeuroScope,
files written here), and folder / phy / Kilosort sortings, all stored without copying the traces."""
from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

import sortingview as sv
from sortingview import store
from sortingview.errors import InvalidObjectError, LinkedFileChangedError, UnsupportedExtractorError
from sortingview.extractors import load_recording, load_sorting, recording_to_object, store_recording, store_sorting


def stored_bytes(store_dir) -> int:
    return sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(os.path.join(store_dir, "sha1"))
               for f in fs)


@pytest.fixture
def binary_folder(store_dir, tmp_path):
    from spikeinterface.core import generate_recording

    rec = generate_recording(num_channels=8, durations=[2.0, 1.0], seed=1)
    return rec.save(folder=tmp_path / "bin", verbose=False)


def assert_same(a, b, atol=0.0, frames=3000):
    assert list(a.channel_ids) == list(b.channel_ids) and a.get_num_segments() == b.get_num_segments()
    for seg in range(a.get_num_segments()):
        assert a.get_num_frames(seg) == b.get_num_frames(seg)
        np.testing.assert_allclose(a.get_traces(segment_index=seg, end_frame=frames),
                                   b.get_traces(segment_index=seg, end_frame=frames), atol=atol)


def test_preprocessing_chains_round_trip_without_copying_traces(binary_folder, store_dir):
    import spikeinterface.preprocessing as spre
    from spikeinterface.core import concatenate_recordings

    rec = binary_folder
    chains = [
        spre.common_reference(spre.bandpass_filter(rec, freq_min=300, freq_max=6000), operator="median"),
        spre.whiten(spre.highpass_filter(rec), dtype="float32").select_channels(rec.channel_ids[2:6]),
        spre.scale(spre.notch_filter(rec, freq=60), gain=2.0).select_segments([0]).frame_slice(100, 20000),
        concatenate_recordings([spre.rectify(rec.select_segments([0])), spre.rectify(rec.select_segments([1]))]),
    ]
    before = stored_bytes(store_dir)
    for chain in chains:
        obj = recording_to_object(chain)
        assert obj["format"] == "si_recording" and obj["data"]["description"]["class"].endswith(type(chain).__name__)
        back = load_recording(store_recording(chain))
        assert type(back) is type(chain)
        assert_same(back, chain, atol=1e-3)
    # only JSON descriptions went into the store: the 8-channel float32 traces (576 kB) were linked
    assert stored_bytes(store_dir) - before < 100_000


def test_binary_and_zarr_folders_from_si_load(store_dir, tmp_path, binary_folder):
    import spikeinterface as si

    zarr = binary_folder.save(folder=tmp_path / "rec.zarr", format="zarr", verbose=False)
    for folder, kind in [(tmp_path / "bin", "binary_recording"), (tmp_path / "rec.zarr", "si_recording")]:
        rec = si.load(folder)
        uri = store_recording(rec)
        assert store.load_json(uri)["format"] == kind
        assert_same(load_recording(uri), rec)
    assert type(load_recording(store_recording(si.load(tmp_path / "rec.zarr")))) is type(zarr)


def test_folder_phy_and_kilosort_sortings(store_dir, tmp_path):
    import spikeinterface as si
    import spikeinterface.extractors as se
    from spikeinterface.core import create_sorting_analyzer, generate_ground_truth_recording
    from spikeinterface.exporters import export_to_phy

    rec, srt = generate_ground_truth_recording(num_channels=4, durations=[3.0], num_units=3, seed=2)
    npz_folder = srt.save(folder=tmp_path / "npz", format="npz_folder")
    numpy_folder = srt.save(folder=tmp_path / "numpy", format="numpy_folder")
    analyzer = create_sorting_analyzer(srt, rec, sparse=False)
    analyzer.compute(["random_spikes", "templates"])
    export_to_phy(analyzer, tmp_path / "phy", compute_pc_features=False, compute_amplitudes=False,
                  copy_binary=False, verbose=False)
    readers = [npz_folder, numpy_folder, si.load(tmp_path / "npz"), se.read_phy(tmp_path / "phy"),
               se.read_kilosort(tmp_path / "phy")]
    stored = [(store_sorting(s), [str(u) for u in s.unit_ids], [s.get_unit_spike_train(u) for u in s.unit_ids])
              for s in readers]
    for name in ("npz", "numpy", "phy"):  # a sorting is a snapshot in the store: it outlives its folder
        shutil.rmtree(tmp_path / name)
    for uri, unit_ids, trains in stored:
        back = load_sorting(uri)
        assert [str(u) for u in back.unit_ids] == unit_ids
        for u, train in zip(back.unit_ids, trains, strict=True):
            np.testing.assert_array_equal(back.get_unit_spike_train(u), train)
    # the workspace takes them as they come (the original's KeyError 'file_path' on NpzFolderSorting is gone)
    W = sv.create_workspace(label="folders")
    rid = W.add_recording(label="r", recording=sv.copy_recording_extractor(rec, progress=False))
    sid = W.add_sorting(recording_id=rid, label="npz folder", sorting=srt.save(folder=tmp_path / "again",
                                                                                format="npz_folder"))
    assert W.get_unit_ids(sid) == [str(u) for u in srt.unit_ids]


# --- neo formats, files written here ----------------------------------------------------------------------
def write_spikeglx(folder, traces_int16: np.ndarray, fs: float = 30000.0) -> str:
    """A Neuropixels 1.0 AP stream as SpikeGLX writes it: <run>_g0_t0.imec0.ap.bin (frames x 385 int16, the last
    the sync channel) and its .meta (key=value lines; ~ keys are lists of (...) entries)."""
    os.makedirs(folder, exist_ok=True)
    n = traces_int16.shape[1]
    base = os.path.join(folder, "run_g0_t0.imec0.ap")
    if traces_int16.size:
        np.ascontiguousarray(traces_int16).tofile(base + ".bin")
    size = os.path.getsize(base + ".bin")
    chans = n - 1
    meta = {
        "typeThis": "imec", "fileName": base + ".bin", "fileSizeBytes": size, "nSavedChans": n, "imSampRate": fs,
        "snsApLfSy": f"{chans},0,1", "imAiRangeMax": 0.6, "imAiRangeMin": -0.6, "imMaxInt": 512,
        "imDatPrb_pn": "NP1000", "imDatPrb_type": 0, "snsSaveChanSubset": "all", "firstSample": 0,
        "~imroTbl": f"(0,{chans})" + "".join(f"({c} 0 0 500 250 1)" for c in range(chans)),
        "~snsChanMap": f"({chans},{chans},1)" + "".join(f"(AP{c};{c}:{c})" for c in range(chans)) + "(SY0;768:768)",
        "~snsShankMap": "(1,2,480)" + "".join(f"(0:{c % 2}:{c // 2}:1)" for c in range(chans)),
    }
    with open(base + ".meta", "w") as f:
        f.write("".join(f"{k}={v}\n" for k, v in meta.items()))
    return folder


def write_neuroscope(folder, traces_int16: np.ndarray, fs: float) -> str:
    """A NeuroScope session: <name>.dat (frames x channels int16) and <name>.xml with the acquisition system."""
    os.makedirs(folder, exist_ok=True)
    traces_int16.tofile(os.path.join(folder, "session.dat"))
    channels = "".join(f"<channel skip=\"0\">{c}</channel>" for c in range(traces_int16.shape[1]))
    xml = (f"<?xml version='1.0'?><parameters><acquisitionSystem><nBits>16</nBits>"
           f"<nChannels>{traces_int16.shape[1]}</nChannels><samplingRate>{fs}</samplingRate>"
           "<voltageRange>20</voltageRange><amplification>1000</amplification><offset>0</offset>"
           f"</acquisitionSystem><anatomicalDescription><channelGroups><group>{channels}</group></channelGroups>"
           "</anatomicalDescription></parameters>")
    with open(os.path.join(folder, "session.xml"), "w") as f:
        f.write(xml)
    return os.path.join(folder, "session.xml")


def test_spikeglx_and_neuroscope_recordings_link_their_files(store_dir, tmp_path):
    import spikeinterface.extractors as se
    import spikeinterface.preprocessing as spre

    rng = np.random.default_rng(3)
    glx = rng.integers(-300, 300, (3000, 385)).astype("int16")
    rec = se.read_spikeglx(write_spikeglx(tmp_path / "glx", glx), stream_id="imec0.ap")
    back = load_recording(store_recording(rec))
    assert type(back).__name__ == "SpikeGLXRecordingExtractor" and back.has_probe()
    np.testing.assert_array_equal(back.get_traces(), glx[:, :384])
    np.testing.assert_allclose(back.get_channel_gains(), rec.get_channel_gains())
    ns = rng.integers(-300, 300, (2000, 6)).astype("int16")
    rec2 = spre.bandpass_filter(se.read_neuroscope(write_neuroscope(tmp_path / "ns", ns, 20000.0)))
    obj = recording_to_object(rec2)
    linked = obj["data"]["description"]["kwargs"]["recording"]["kwargs"]["file_path"]["_svPath"]["files"]
    assert sorted(linked) == ["session.dat", "session.xml"]  # the reader's sibling of the same stem comes along
    assert_same(load_recording(store.store_json(obj)), rec2, atol=1e-3)


def test_moved_or_changed_data_is_a_clear_error_and_a_touched_file_relinks(store_dir, tmp_path):
    import spikeinterface.extractors as se

    ns = np.arange(12000, dtype="int16").reshape(2000, 6)
    uri = store_recording(se.read_neuroscope(write_neuroscope(tmp_path / "ns", ns, 20000.0)))
    os.rename(tmp_path / "ns", tmp_path / "elsewhere")
    with pytest.raises(LinkedFileChangedError, match="moved or deleted.*Move it back"):
        load_recording(uri)
    os.rename(tmp_path / "elsewhere", tmp_path / "ns")
    dat = tmp_path / "ns" / "session.dat"
    os.utime(dat, (1e9, 1e9))  # same bytes, new mtime: checked by its sha1 and relinked
    np.testing.assert_array_equal(load_recording(uri).get_traces(), ns)
    with open(dat, "r+b") as f:
        f.write(b"\x01\x02")
    with pytest.raises(LinkedFileChangedError, match="changed since the recording was stored"):
        load_recording(uri)


def test_classes_outside_the_allow_list_are_refused_both_ways(binary_folder):
    import spikeinterface.preprocessing as spre
    from spikeinterface.preprocessing.filter import BandpassFilterRecording

    class MyFilter(BandpassFilterRecording):
        """Stands for a class a user wrote: not on the allow-list."""

    with pytest.raises(UnsupportedExtractorError, match="MyFilter.*copy_recording_extractor"):
        store_recording(MyFilter(binary_folder))
    obj = recording_to_object(spre.bandpass_filter(binary_folder))
    obj["data"]["description"]["class"] = "tests_no_such_module.Evil"  # importing it would raise ImportError
    with pytest.raises(InvalidObjectError, match="tests_no_such_module.Evil.*will not be imported"):
        load_recording(obj)
    obj["data"]["description"]["kwargs"]["recording"]["class"] = "builtins.eval"
    with pytest.raises(InvalidObjectError, match="builtins.eval"):
        load_recording(obj)


def test_a_chain_over_an_nwb_file_written_by_pynwb(store_dir, tmp_path):
    import spikeinterface.preprocessing as spre
    from spikeinterface.extractors.nwbextractors import NwbRecordingExtractor
    from test_extractors_formats import write_nwb

    traces = np.random.default_rng(5).integers(-400, 400, (6000, 4)).astype("int16")
    write_nwb(tmp_path / "s.nwb", traces, 30000.0, [np.array([0.01, 0.05])])
    chain = spre.common_reference(spre.bandpass_filter(NwbRecordingExtractor(tmp_path / "s.nwb")))
    obj = recording_to_object(chain)
    nwb = obj["data"]["description"]["kwargs"]["recording"]["kwargs"]["recording"]
    assert nwb["class"].endswith("NwbRecordingExtractor")
    assert list(nwb["kwargs"]["file_path"]["_svPath"]["files"]) == ["s.nwb"]
    assert_same(load_recording(store.store_json(obj)), chain, atol=1e-3)


def test_a_description_cannot_name_a_file_that_was_not_linked(binary_folder):
    import copy

    import spikeinterface.preprocessing as spre

    obj = recording_to_object(spre.bandpass_filter(binary_folder))
    inner = obj["data"]["description"]["kwargs"]["recording"]["kwargs"]
    bare = copy.deepcopy(obj)
    bare["data"]["description"]["kwargs"]["recording"]["kwargs"]["folder_path"] = "/etc"
    with pytest.raises(InvalidObjectError, match="'folder_path' is not a linked path"):
        load_recording(bare)
    inner["folder_path"]["_svPath"].update(path="/etc", files={})
    with pytest.raises(InvalidObjectError, match="does not list its own files"):
        load_recording(obj)
