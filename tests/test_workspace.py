"""The Workspace: create/load/list, recordings and sortings, metrics, settings, and concurrent writers."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from datasets import make_dataset

import sortingview as sv
from sortingview import store
from sortingview.errors import InvalidUriError, UnsupportedExtractorError, WorkspaceError
from sortingview.workspace import create_workspace, list_workspaces, load_workspace


@pytest.fixture
def ds(store_dir, tmp_path):
    return make_dataset(tmp_path, seed=2, num_channels=4, durations=2.0, num_units=4)


def test_the_original_readme_flow(ds):
    W = sv.create_workspace(label="my workspace")
    assert W.uri.startswith("sortingview-workspace:") and W.uri.endswith("?label=my%20workspace")
    rid = W.add_recording(label="recording1", recording=ds.recording)
    sid = W.add_sorting(recording_id=rid, label="true", sorting=ds.sorting)
    assert rid.startswith("R-") and len(rid) == 14 and sid.startswith("S-") and len(sid) == 14
    W2 = sv.load_workspace(W.uri)
    assert W2.label == "my workspace"
    assert W2.recording_ids == [rid] and W2.sorting_ids == [sid]
    rec = W2.get_recording_record(rid)
    assert rec["recordingLabel"] == "recording1"
    # exactly the URI store_recording gives, so task job ids agree wherever the URI comes from
    assert rec["recordingUri"] == ds.recording_uri and W2.get_sorting_record(sid)["sortingUri"] == ds.sorting_uri
    srt = W2.get_sorting_record(sid)
    assert srt["sortingLabel"] == "true" and srt["recordingId"] == rid
    np.testing.assert_array_equal(W2.get_recording_extractor(rid).get_traces(end_frame=100),
                                  ds.recording.get_traces(end_frame=100))
    s = W2.get_sorting_extractor(sid)
    np.testing.assert_array_equal(s.get_unit_spike_train(ds.unit_ids[0]), ds.spike_train(ds.unit_ids[0]))


def test_workspace_uri_label_and_original_scheme(ds):
    W = create_workspace(label="lab / day 1")
    again = load_workspace(f"workspace://{W.feed_id}")
    assert again.label == "lab / day 1" and again.uri == W.uri
    with pytest.raises(InvalidUriError, match="sortingview-workspace:"):
        load_workspace("sha1://" + "a" * 40)
    with pytest.raises(WorkspaceError, match="not in the store"):
        load_workspace("sortingview-workspace:" + "ab" * 20)


def test_list_workspaces_lists_this_store_only(ds, tmp_path, monkeypatch):
    a = create_workspace(label="a")
    b = create_workspace(label="b")
    assert list_workspaces() == [a.uri, b.uri]
    monkeypatch.setenv("KACHERY_CLOUD_DIR", str(tmp_path / "other-store"))
    assert list_workspaces() == []


def test_delete_recording_also_deletes_its_sortings(ds):
    W = create_workspace(label="w")
    r1 = W.add_recording(label="r1", recording=ds.recording)
    r2 = W.add_recording(label="r2", recording=ds.recording)
    s1 = W.add_sorting(recording_id=r1, label="s1", sorting=ds.sorting)
    s2 = W.add_sorting(recording_id=r2, label="s2", sorting=ds.sorting)
    W.delete_recording(r1)
    assert W.recording_ids == [r2] and W.sorting_ids == [s2]
    W.delete_sorting(s2)
    assert W.sorting_ids == []
    with pytest.raises(WorkspaceError, match=f"no sorting '{s1}'"):
        W.get_sorting_record(s1)
    with pytest.raises(WorkspaceError, match="no recording"):
        W.delete_recording(r1)
    assert len(store.load_feed(W.feed_id).get_messages()) == 6


def test_add_sorting_checks_recording_and_sampling_frequency(ds):
    from spikeinterface.core import generate_sorting

    W = create_workspace(label="w")
    rid = W.add_recording(label="r", recording=ds.recording)
    with pytest.raises(WorkspaceError, match="no recording 'R-nope'"):
        W.add_sorting(recording_id="R-nope", label="s", sorting=ds.sorting)
    other = sv.copy_sorting_extractor(generate_sorting(num_units=2, sampling_frequency=20000.0, seed=0))
    with pytest.raises(WorkspaceError, match="20000.0 Hz"):
        W.add_sorting(recording_id=rid, label="s", sorting=other)
    with pytest.raises(UnsupportedExtractorError, match="copy_sorting_extractor"):
        W.add_sorting(recording_id=rid, label="s", sorting=ds.gt_sorting)
    with pytest.raises(WorkspaceError, match="label"):
        W.add_recording(label="", recording=ds.recording)
    assert W.sorting_ids == []


def test_unit_metrics_and_snippet_len(ds):
    W = create_workspace(label="w")
    rid = W.add_recording(label="r", recording=ds.recording)
    sid = W.add_sorting(recording_id=rid, label="s", sorting=ds.sorting)
    u0, u1 = ds.unit_ids[:2]
    metrics = [{"name": "isolation", "label": "Isolation", "tooltip": "isolation score",
                "data": {u0: np.float64(0.9), u1: float("nan")}}]
    W.set_unit_metrics_for_sorting(sid, metrics)
    got = load_workspace(W.uri).get_unit_metrics_for_sorting(sid)
    assert got == [{"name": "isolation", "label": "Isolation", "tooltip": "isolation score",
                    "data": {str(u0): 0.9, str(u1): None}}]
    with pytest.raises(WorkspaceError, match="not have"):
        W.set_unit_metrics_for_sorting(sid, [{"name": "x", "data": {"no-such-unit": 1}}])
    assert W.snippet_len == (50, 80)
    W.set_snippet_len((30, 60))
    assert load_workspace(W.uri).snippet_len == (30, 60)
    with pytest.raises(WorkspaceError, match="snippet_len"):
        W.set_snippet_len((30,))


def test_two_processes_adding_at_once_both_land(ds):
    W = create_workspace(label="shared")
    script = textwrap.dedent(f"""
        import sys
        import sortingview as sv
        from sortingview.extractors import load_recording
        W = sv.load_workspace({W.uri!r})
        rec = load_recording({ds.recording_uri!r})
        for i in range(5):
            W.add_recording(label=sys.argv[1] + str(i), recording=rec)
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, name]) for name in ("a", "b")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    labels = sorted(W.get_recording_record(r)["recordingLabel"] for r in W.recording_ids)
    assert labels == sorted([f"a{i}" for i in range(5)] + [f"b{i}" for i in range(5)])
