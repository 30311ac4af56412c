"""``sortingview import recording|sorting``: the import page's functions from the shell."""
from __future__ import annotations

import numpy as np
from click.testing import CliRunner

import sortingview as sv
from sortingview.cli import main as cli_main
from sortingview.extractors import load_recording, load_sorting


def test_import_a_recording_and_its_sorting_from_the_command_line(store_dir, tmp_path):
    import spikeinterface.core as sc

    rec, gt = sc.generate_ground_truth_recording(durations=[2.0], sampling_frequency=30000.0, num_channels=4,
                                                 num_units=3, seed=5)
    rec.save(folder=tmp_path / "rec", verbose=False)
    sc.NpzSortingExtractor.write_sorting(gt, tmp_path / "gt.npz")
    W = sv.create_workspace(label="cli import")
    runner = CliRunner()

    res = runner.invoke(cli_main, ["import", "recording", str(tmp_path / "rec"), "--workspace", W.uri])
    assert res.exit_code == 0, res.output
    rid = res.output.strip()
    W = sv.load_workspace(W.uri)
    assert W.recording_ids == [rid] and W.get_recording_record(rid)["recordingLabel"] == "rec"
    linked = load_recording(W.get_recording_record(rid)["recordingUri"])
    assert np.array_equal(linked.get_traces(end_frame=3000), rec.get_traces(end_frame=3000))

    res = runner.invoke(cli_main, ["import", "sorting", str(tmp_path / "gt.npz"), "--workspace", W.uri,
                                   "--recording", rid, "--label", "truth"])
    assert res.exit_code == 0, res.output
    sid = res.output.strip()
    W = sv.load_workspace(W.uri)
    assert W.get_sorting_record(sid)["sortingLabel"] == "truth"
    stored = load_sorting(W.get_sorting_record(sid)["sortingUri"])
    for u in gt.get_unit_ids():
        assert np.array_equal(stored.get_unit_spike_train(u), gt.get_unit_spike_train(u))


def test_import_errors_name_the_problem(store_dir, tmp_path):
    W = sv.create_workspace(label="cli import errors")
    runner = CliRunner()
    res = runner.invoke(cli_main, ["import", "recording", str(tmp_path / "missing"), "--workspace", W.uri])
    assert res.exit_code != 0 and "does not exist" in res.output and "binary folder" in res.output
    (tmp_path / "notes.txt").write_text("hello")
    res = runner.invoke(cli_main, ["import", "recording", str(tmp_path / "notes.txt"), "--workspace", W.uri])
    assert res.exit_code == 1 and "is not a recording this server imports" in res.output
    assert "Traceback" not in res.output
    res = runner.invoke(cli_main, ["import", "sorting", str(tmp_path / "notes.txt"), "--workspace", W.uri,
                                   "--recording", "R-nope"])
    assert res.exit_code != 0 and "'R-nope' is not a recording of this workspace" in res.output
