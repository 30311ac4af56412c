"""`sortingview workspace ...` and `sortingview curation ...`."""
from __future__ import annotations

import json
import subprocess

import pytest
from click.testing import CliRunner
from datasets import make_dataset

from sortingview.cli import main
from sortingview.workspace import create_workspace


@pytest.fixture
def ws(store_dir, tmp_path):
    d = make_dataset(tmp_path, seed=8, num_channels=4, durations=1.0, num_units=3)
    W = create_workspace(label="cli test")
    rid = W.add_recording(label="rec", recording=d.recording)
    sid = W.add_sorting(recording_id=rid, label="sorted", sorting=d.sorting)
    W.sorting_curation_add_label(sid, label="accept", unit_ids="0", user_id=None)
    W.sorting_curation_merge_units(sid, ["1", "2"])
    return W, sid


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_create_ls_show(ws):
    W, sid = ws
    created = subprocess.run(["sortingview", "workspace", "create", "--label", "from cli"], capture_output=True,
                             text=True, timeout=60)
    assert created.returncode == 0, created.stderr
    new_uri = created.stdout.strip()
    assert new_uri.startswith("sortingview-workspace:") and new_uri.endswith("label=from%20cli")
    assert run("workspace", "ls", "--uris-only").output.split() == [W.uri, new_uri]
    assert f"{W.uri}\t1 recordings\t1 sortings" in run("workspace", "ls").output
    out = run("workspace", "show", W.uri).output
    assert "rec" in out and sid in out and "1 labelled units, 1 merge groups" in out
    shown = json.loads(run("workspace", "show", W.uri, "--json").output)
    assert shown["sortings"][0]["sortingId"] == sid


def test_curation_show_history_export(ws, tmp_path):
    W, sid = ws
    state = json.loads(run("curation", "show", W.uri, sid).output)
    assert state == {"labelsByUnit": {"0": ["accept"]}, "mergeGroups": [["1", "2"]], "isClosed": False}
    assert json.loads(run("curation", "show", W.uri, sid, "--at", "0").output)["mergeGroups"] == []
    lines = run("curation", "history", W.uri, sid, "--json-lines").output.splitlines()
    assert [json.loads(x)["action"]["type"] for x in lines] == ["ADD_UNIT_LABEL", "MERGE_UNITS"]
    assert "MERGE_UNITS" in run("curation", "history", W.uri, sid).output
    out = run("curation", "export", W.uri, sid, str(tmp_path), "--format", "phy").output.strip()
    assert open(out).read().startswith("cluster_id\tgroup\n0\tgood\n")


def test_errors_are_one_line_messages(ws):
    W, _ = ws
    res = run("workspace", "show", "not-a-uri")
    assert res.exit_code == 1 and "invalid workspace URI" in res.output and "Traceback" not in res.output
    res = run("curation", "show", W.uri, "S-000000000000")
    assert res.exit_code == 1 and "no sorting 'S-000000000000'" in res.output
    res = run("curation", "show", W.uri, W.sorting_ids[0], "--at", "9")
    assert res.exit_code == 1 and "out of range" in res.output
