"""Ground truth in a workspace, sorter inputs, and agreement between sortings (no sorter runs here)."""
from __future__ import annotations

import pytest

import sortingview as sv
from sortingview.backend.config import load_config
from sortingview.errors import TaskInputError, WorkspaceError
from sortingview.tasks import run_task_inline
from sortingview.tasks.sorting import log_tail, sorter_version, sorting_task_input


@pytest.fixture
def workspace(store_dir):
    import spikeinterface.core as sc

    rec, gt = sc.generate_ground_truth_recording(durations=[6.0], num_channels=4, num_units=5, seed=3)
    W = sv.create_workspace(label="gt")
    rid = W.add_recording(label="r", recording=sv.copy_recording_extractor(rec, progress=False))
    return W, rid, gt


def _metrics(W, sid) -> dict:
    return {m["name"]: m["data"] for m in W.get_unit_metrics_for_sorting(sid)}


def test_marking_ground_truth_gives_other_sortings_columns_and_keeps_their_own_metrics(workspace):
    W, rid, gt = workspace
    ids = list(gt.get_unit_ids())
    partial = gt.select_units(ids[:3], renamed_unit_ids=["a", "b", "c"])
    sid = W.add_sorting(recording_id=rid, label="three of five", sorting=sv.copy_sorting_extractor(partial))
    W.set_unit_metrics_for_sorting(sid, [{"name": "mine", "label": "Mine", "data": {"a": 1}}])
    gid = W.add_sorting(recording_id=rid, label="truth", sorting=sv.copy_sorting_extractor(gt), ground_truth=True)
    assert W.get_ground_truth(rid) == gid
    m = _metrics(W, sid)
    assert m["mine"] == {"a": 1}
    assert m["gtUnit"] == {"a": ids[0], "b": ids[1], "c": ids[2]} and m["gtAccuracy"] == {"a": 1, "b": 1, "c": 1}

    count = len(W._feed.get_records(0))
    W.set_ground_truth(rid, gid)  # again: nothing new
    assert len(W._feed.get_records(0)) == count

    table = W.get_ground_truth_table(rid)
    assert list(table.gtUnitId) == ids and list(table.bestMatch[:3]) == ["a", "b", "c"]
    assert table.bestMatch[3:].isna().all() and (table.accuracy[3:] == 0).all()  # missed units are listed
    later = W.add_sorting(recording_id=rid, label="later", sorting=sv.copy_sorting_extractor(gt))
    assert _metrics(W, later)["gtAccuracy"] == {str(u): 1 for u in ids}

    W.set_ground_truth(rid, None)
    assert W.get_ground_truth(rid) is None and _metrics(W, sid) == {"mine": {"a": 1}}
    with pytest.raises(WorkspaceError, match="has no ground truth"):
        W.get_ground_truth_table(rid)


def test_ground_truth_must_belong_to_the_recording(workspace):
    W, rid, gt = workspace
    import spikeinterface.core as sc

    other = W.add_recording(label="other", recording=sv.copy_recording_extractor(
        sc.generate_recording(num_channels=2, durations=[2.0], seed=1), progress=False))
    sid = W.add_sorting(recording_id=rid, label="gt", sorting=sv.copy_sorting_extractor(gt))
    with pytest.raises(WorkspaceError, match="belongs to recording"):
        W.set_ground_truth(other, sid)


def test_agreement_lists_matches_scores_and_units_found_by_one_sorting_only(workspace):
    W, rid, gt = workspace
    ids = list(gt.get_unit_ids())
    s1 = W.add_sorting(recording_id=rid, label="first four", sorting=sv.copy_sorting_extractor(
        gt.select_units(ids[:4])))
    s2 = W.add_sorting(recording_id=rid, label="last four", sorting=sv.copy_sorting_extractor(
        gt.select_units(ids[1:])))
    out = W.get_sorting_agreement([s1, s2])
    assert out["sortingIds"] == [s1, s2]
    (pair,) = out["pairs"]
    assert [(m["unitId1"], m["unitId2"], m["agreement"]) for m in pair["matches"]] == [(u, u, 1.0) for u in ids[1:4]]
    assert out["foundByOneOnly"] == [[ids[0]], [ids[4]]]
    s3 = W.add_sorting(recording_id=rid, label="all", sorting=sv.copy_sorting_extractor(gt))
    groups = W.get_sorting_agreement([s1, s2, s3])["groups"]
    assert sorted(g["numSortings"] for g in groups) == [2, 2, 3, 3, 3]


def test_sorter_inputs_are_checked_before_anything_is_queued(store_dir):
    import spikeinterface.core as sc

    from sortingview.extractors import store_recording

    rec = store_recording(sv.copy_recording_extractor(sc.generate_recording(num_channels=2, durations=[1.0], seed=0),
                                                      progress=False))
    inp = sorting_task_input(rec, "simple", {"detect_threshold": 6})
    assert inp["sorterVersion"] == sorter_version("simple") and "spikeinterface" in inp["sorterVersion"]
    with pytest.raises(TaskInputError, match="unknown sorter 'kilosort9'"):
        sorting_task_input("sha1://" + "0" * 40, "kilosort9")
    with pytest.raises(TaskInputError, match="no parameter.*'detect_treshold'"):
        sorting_task_input("sha1://" + "0" * 40, "simple", {"detect_treshold": 6})
    with pytest.raises(TaskInputError, match="job_kwargs.n_jobs=100000"):
        sorting_task_input("sha1://" + "0" * 40, "simple", {"job_kwargs": {"n_jobs": 100000}})
    with pytest.raises(TaskInputError, match="this worker has simple"):
        run_task_inline("sortingview.run_sorter.1", {**inp, "sorterVersion": "simple 0.1, spikeinterface 0.1"})


def test_log_tail_keeps_what_progress_bars_showed_last(tmp_path):
    path = tmp_path / "log"
    path.write_text("start\n" + "".join(f"\rdetect {i}%" for i in range(101)) + "\n" + "\n".join(
        f"line {i}" for i in range(50)))
    tail = log_tail(str(path), lines=3)
    assert tail == "line 47\nline 48\nline 49"
    assert "detect 100%" in log_tail(str(path), lines=51) and "detect 99%" not in log_tail(str(path), lines=51)
    assert log_tail(str(tmp_path / "missing")) == ""


def test_the_sorting_handler_runs_one_sorter_at_a_time_unless_configured(tmp_path):
    assert load_config(env={}).handler("sorting").num_workers == 1
    path = tmp_path / "c.yaml"
    path.write_text("job_handlers:\n  sorting: {type: parallel, params: {num_workers: 2}, timeout_s: 60}\n")
    h = load_config(str(path), env={}).handler("sorting")
    assert (h.num_workers, h.timeout_s) == (2, 60)


def test_the_command_line_marks_ground_truth_and_prints_tables_and_agreement(workspace):
    from click.testing import CliRunner

    from sortingview.cli import main

    W, rid, gt = workspace
    ids = list(gt.get_unit_ids())
    sid = W.add_sorting(recording_id=rid, label="two", sorting=sv.copy_sorting_extractor(gt.select_units(ids[:2])))
    gid = W.add_sorting(recording_id=rid, label="truth", sorting=sv.copy_sorting_extractor(gt))
    run = CliRunner().invoke
    assert run(main, ["ground-truth", "set", "--workspace", W.uri, "--recording", rid, "--sorting", gid]).exit_code == 0
    assert W.get_ground_truth(rid) == gid and "gtAccuracy" in _metrics(W, sid)
    table = run(main, ["ground-truth", "table", "--workspace", W.uri, "--recording", rid, "--csv"])
    lines = table.output.strip().splitlines()
    assert lines[0].startswith("sortingId,sortingLabel,gtUnitId") and len(lines) == 1 + len(ids)
    out = run(main, ["agreement", "--workspace", W.uri, sid, gid])
    assert out.exit_code == 0 and f"{sid} ~ {gid}: 2 matched" in out.output
    assert f"only {gid}: {', '.join(map(str, ids[2:]))}" in out.output
    bad = run(main, ["ground-truth", "set", "--workspace", W.uri, "--recording", "R-nope", "--sorting", gid])
    assert bad.exit_code == 1 and "no recording 'R-nope'" in bad.output


def test_agreement_of_one_sorting_names_sorting_ids(workspace):
    W, rid, gt = workspace
    with pytest.raises(WorkspaceError, match="give 2 to 8 sorting ids to compare, got 1"):
        W.get_sorting_agreement([W.add_sorting(recording_id=rid, label="gt", sorting=sv.copy_sorting_extractor(gt))])
