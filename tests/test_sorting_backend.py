"""Sorting through a real backend process: two sorters, the cache, ground truth checked against SpikeInterface."""
from __future__ import annotations

import json

import numpy as np
import pytest
from backend_tasks import start_backend_process, wait_until, write_config
from click.testing import CliRunner
from conftest import skip_or_fail

import sortingview as sv
from sortingview.backend.channel import open_channel
from sortingview.backend.status import backend_status
from sortingview.cli import main as cli_main
from sortingview.cli.backend_cmds import format_status
from sortingview.errors import TaskError
from sortingview.workspace.sorting_batch import submit_all

pytestmark = pytest.mark.slow
SORTERS = {"ms5": {}, "simple": {"detect_threshold": 5.5}}
CHANNEL = "sorting-test"


@pytest.fixture
def backend(store_dir, tmp_path):
    import spikeinterface.sorters as ss

    if not (ss.sorter_dict["mountainsort5"].is_installed()):
        skip_or_fail("mountainsort5 is not installed: pip install -e .[sorters]")
    cfg = write_config(tmp_path / "b.yaml", channel=CHANNEL,
                       job_handlers={"sorting": {"type": "parallel", "params": {"num_workers": 1}, "timeout_s": 600}})
    proc = start_backend_process(cfg, log_path=tmp_path / "backend.log")
    wait_until(lambda: open_channel(CHANNEL).live_backends(), what="the backend's heartbeat")
    yield open_channel(CHANNEL)
    proc.terminate()
    proc.wait(30)


@pytest.fixture
def workspace_with_ground_truth(store_dir):
    import spikeinterface.core as sc

    rec, gt = sc.generate_ground_truth_recording(durations=[12.0], sampling_frequency=30000.0, num_channels=4,
                                                 num_units=5, seed=11)
    W = sv.create_workspace(label="sorting test")
    rid = W.add_recording(label="generated", recording=sv.copy_recording_extractor(rec, progress=False))
    return W, rid, gt


def _si_accuracy(gt, sorting) -> dict:
    from spikeinterface.comparison import compare_sorter_to_ground_truth

    perf = compare_sorter_to_ground_truth(gt, sorting).get_performance(method="by_unit")
    return {str(u): float(perf.loc[u, "accuracy"]) for u in gt.get_unit_ids()}


def test_two_sorters_through_the_backend_are_cached_and_checked_against_ground_truth(backend,
                                                                                     workspace_with_ground_truth):
    W, rid, gt = workspace_with_ground_truth
    gid = W.add_sorting(recording_id=rid, label="ground truth", sorting=sv.copy_sorting_extractor(gt),
                        ground_truth=True)
    # while a sorter runs, `sortingview status` shows the last lines of its log
    submit_all({rid: W.get_recording_record(rid)["recordingUri"]}, [("mountainsort5", {})], channel=CHANNEL)
    lines = wait_until(lambda: [line for line in format_status(backend_status(CHANNEL))
                                if "| sortingview: running mountainsort5" in line], timeout=300, what="the log tail")
    assert lines
    sids = W.run_sorters(recording_ids=[rid], sorters=SORTERS, progress=False, timeout=600, channel=CHANNEL)
    labels = [W.get_sorting_record(s)["sortingLabel"] for s in sids]
    assert labels[0] == "mountainsort5 default" and labels[1].startswith("simple params-")
    assert [W.sorting_run_info(s)["sorterName"] for s in sids] == ["mountainsort5", "simple"]
    assert backend.stats()["finished"] == 2

    # the same request again: answered from the cache, nothing queued, nothing added to the workspace
    messages = W._feed.get_records(0)
    assert W.run_sorters(recording_ids=[rid], sorters=SORTERS, progress=False, channel=CHANNEL) == sids
    assert backend.stats()["finished"] == 2 and sum(backend.stats()["queued"].values()) == 0
    assert len(W._feed.get_records(0)) == len(messages)

    table = W.get_ground_truth_table(rid)
    assert len(table) == 2 * len(gt.get_unit_ids())  # every ground-truth unit, missed or not, per sorting
    for sid in sids:
        sorting = W.get_sorting_extractor(sid)
        expected = _si_accuracy(gt, sorting)
        mine = table[table.sortingId == sid]
        assert {str(u): a for u, a in zip(mine.gtUnitId, mine.accuracy, strict=True)} == pytest.approx(expected)
        # the units table's columns: per sorted unit its matched ground-truth unit and the same accuracy
        metrics = {m["name"]: m["data"] for m in W.get_unit_metrics_for_sorting(sid)}
        for unit, gt_unit in metrics["gtUnit"].items():
            assert metrics["gtAccuracy"][unit] == pytest.approx(expected[str(gt_unit)])
    assert np.isfinite(table.snr).all() and (table.snr > 0).all()
    assert gid not in set(table.sortingId)

    bench = W.get_benchmark_table()
    assert list(bench.sorter) == ["mountainsort5 default", labels[1]]
    for sid, row in zip(sids, bench.itertuples(), strict=True):
        acc = list(_si_accuracy(gt, W.get_sorting_extractor(sid)).values())
        assert row.accuracy == pytest.approx(np.mean(acc))
        assert row.numWellDetected == sum(a >= 0.8 for a in acc)

    # the command line mirrors it, and is answered from the cache too
    result = CliRunner().invoke(cli_main, ["sort", "--workspace", W.uri, "--recording", rid, "--sorter", "ms5",
                                              "--channel", CHANNEL, "--no-progress"])
    assert result.exit_code == 0, result.output
    assert result.output.split("\t")[0] == sids[0] and len(W._feed.get_records(0)) == len(messages)


def test_a_failing_sorter_reports_the_tail_of_its_log(backend, workspace_with_ground_truth, tmp_path):
    W, rid, _ = workspace_with_ground_truth
    params = tmp_path / "bad.json"
    params.write_text(json.dumps({"detect_threshold": "high"}))
    result = CliRunner().invoke(cli_main, ["sort", "--workspace", W.uri, "--recording", rid, "--sorter",
                                              f"simple:{params}", "--channel", CHANNEL, "--no-progress"])
    assert result.exit_code == 1
    assert "sorter simple failed" in result.output and "last lines of its log" in result.output
    assert "sortingview: running simple with {'detect_threshold': 'high'}" in result.output
    assert W.get_sorting_ids_for_recording(rid) == []
    with pytest.raises(TaskError, match="no parameter"):
        W.run_sorters(recording_ids=[rid], sorters={"simple": {"detect_treshold": 5}}, channel=CHANNEL)


def test_a_benchmark_study_set_is_created_sorted_and_tabulated_as_spikeinterface_scores_it(backend):
    from sortingview.workspace.benchmark_sets import find_benchmark

    runner = CliRunner()
    created = runner.invoke(cli_main, ["benchmark", "create", "tiny", "--snr", "8", "--duration", "8", "--channels",
                                       "4", "--units", "4", "--seed", "2"])
    assert created.exit_code == 0, created.output
    W = find_benchmark("tiny")
    assert [W.get_recording_record(r)["recordingLabel"] for r in W.recording_ids] == ["snr8-static", "snr8-drift"]
    ran = runner.invoke(cli_main, ["benchmark", "run", "tiny", "--sorter", "simple", "--channel", CHANNEL,
                                   "--no-progress"])
    assert ran.exit_code == 0, ran.output
    table = W.get_benchmark_table()
    assert list(table.recordingLabel) == ["snr8-static", "snr8-drift"] and set(table.sorter) == {"simple default"}
    for row in table.itertuples():
        gt = W.get_sorting_extractor(W.get_ground_truth(row.recordingId))
        acc = list(_si_accuracy(gt, W.get_sorting_extractor(row.sortingId)).values())
        assert (row.numGtUnits, row.accuracy) == (4, pytest.approx(np.mean(acc)))
    again = runner.invoke(cli_main, ["benchmark", "create", "tiny"])
    assert again.exit_code == 1 and "exists already" in again.output
