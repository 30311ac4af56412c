"""Deleting workspaces: sv.delete_workspace, `sortingview workspace rm URI --yes`, and the home page lists the rest.
Deleting keeps every content-addressed object and the curation feeds other workspaces still use."""
from __future__ import annotations

import os

import pytest
from click.testing import CliRunner
from datasets import make_dataset
from test_server_support import http, running_server

import sortingview as sv
from sortingview import store
from sortingview.cli import main
from sortingview.errors import WorkspaceError
from sortingview.store.uri import parse_feed_uri, parse_uri


@pytest.fixture
def two(store_dir, tmp_path):
    """Two workspaces sharing one recording and sorting object; the first with a curation and its users."""
    d = make_dataset(tmp_path, seed=3, num_channels=4, durations=1.0, num_units=3)
    out = []
    for label in ("first", "second"):
        W = sv.create_workspace(label=label)
        rid = W.add_recording(label="rec", recording=d.recording)
        sid = W.add_sorting(recording_id=rid, label="sorted", sorting=d.sorting)
        out.append((W, rid, sid))
    W, _, sid = out[0]
    W.set_sorting_curation_authorized_users(sid, ["alice"])
    W.sorting_curation_add_label(sid, label="accept", unit_ids="0", user_id=None)
    return out


def _sha1s(W, sid: str) -> list[str]:
    rec = W.get_recording_record(W.get_sorting_record(sid)["recordingId"])
    return [parse_uri(rec["recordingUri"]).sha1, parse_uri(W.get_sorting_record(sid)["sortingUri"]).sha1]


def test_delete_workspace_removes_it_and_its_curation_and_keeps_stored_objects(two):
    (W1, _, s1), (W2, _, s2) = two
    feed = parse_feed_uri(W1.get_curation_feed_uri(s1))
    objects = _sha1s(W1, s1)
    assert objects == _sha1s(W2, s2)  # content-addressed: the same objects serve both workspaces

    gone = sv.delete_workspace(W1.uri)

    assert (gone.label, gone.num_recordings, gone.num_sortings) == ("first", 1, 1)
    assert gone.deleted_curation_feeds == [feed] and gone.kept_curation_feeds == []
    assert sv.list_workspaces() == [W2.uri]
    with pytest.raises(WorkspaceError, match="is not in the store"):
        sv.load_workspace(W1.uri)
    s = store.get_store()
    assert not s.feed_exists(W1.feed_id) and not s.feed_exists(feed)
    assert store.get_mutable(f"@sortingview/@curation_authorized_users/{feed}") is None
    assert all(s.has(h) for h in objects)  # the objects the other workspace uses stay
    W2 = sv.load_workspace(W2.uri)
    assert W2.get_sorting_extractor(s2).get_num_units() == 3


def test_a_curation_feed_another_workspace_uses_is_kept(two):
    (W1, _, s1), (W2, r2, _) = two
    shared = W1.get_curation_feed_uri(s1)
    # the second workspace adopts the first one's curation feed for a new sorting (as a copied workspace would)
    s3 = W2.add_sorting(recording_id=r2, label="copy", sorting=W1.get_sorting_extractor(s1))
    W2._append({"type": "SET_CURATION_FEED_FOR_SORTING", "sortingId": s3, "curationFeedUri": shared})
    assert W2.get_curation_feed_uri(s3) == shared

    gone = sv.delete_workspace(W1.uri)

    assert gone.kept_curation_feeds == [parse_feed_uri(shared)] and gone.deleted_curation_feeds == []
    W2 = sv.load_workspace(W2.uri)
    assert W2.get_sorting_curation(s3)["labelsByUnit"] == {"0": ["accept"]}


def test_deleting_an_unknown_workspace_is_a_clear_error(store_dir):
    with pytest.raises(WorkspaceError, match="sortingview workspace ls"):
        sv.delete_workspace("sortingview-workspace:" + "ab" * 20)


def test_cli_rm_needs_yes_then_deletes(two):
    (W1, _, _), (W2, _, _) = two
    runner = CliRunner()
    refused = runner.invoke(main, ["workspace", "rm", W1.uri])
    assert refused.exit_code == 2
    assert "cannot be undone" in refused.output and "--yes" in refused.output and "'first'" in refused.output
    assert sv.list_workspaces() == [W1.uri, W2.uri]  # nothing deleted without the flag

    done = runner.invoke(main, ["workspace", "rm", W1.uri, "--yes"])
    assert done.exit_code == 0, done.output
    assert "deleted workspace 'first' (1 recordings, 1 sortings)" in done.output
    assert runner.invoke(main, ["workspace", "ls", "--uris-only"]).output.split() == [W2.uri]

    again = runner.invoke(main, ["workspace", "rm", W1.uri, "--yes"])
    assert again.exit_code == 1 and "is not in the store" in again.output


def test_home_page_lists_the_remaining_workspaces(two):
    (W1, _, _), (W2, _, _) = two
    sv.delete_workspace(W1.uri)
    with running_server() as srv:
        status, page = http(srv.url + "/")
    html = page.decode()
    assert status == 200
    assert W2.uri.split("?")[0] in html and W1.uri.split("?")[0] not in html
    assert "sortingview workspace rm URI --yes" in html


def test_memory_and_local_stores_delete_feeds(store_dir):
    from sortingview.store import LocalStore, MemoryStore

    for s in (MemoryStore(), LocalStore(os.fspath(store_dir))):
        s.feed_create("feed://" + "cd" * 20)
        s.feed_append("cd" * 20, [{"a": 1}])
        assert s.feed_delete("cd" * 20) is True
        assert not s.feed_exists("cd" * 20) and s.feed_delete("cd" * 20) is False
