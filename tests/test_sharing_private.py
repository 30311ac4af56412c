"""A private server (`sortingview-start-backend --private`) on loopback: server A (a real process) serves its
workspace's files, feeds, figures and chunk manifests only to signed-in readers; B (this process, an empty
store) reads through A as a peer with a reader's token, and not with anyone else's."""
from __future__ import annotations

import os
import urllib.parse

import pytest
from sharing_support import server_process
from test_server_support import http

from sortingview import store
from sortingview.errors import NotFoundError
from sortingview.server.auth import UserStore, users_file
from sortingview.store import peers as P
from sortingview.tasks import _objects


@pytest.fixture(scope="module")
def private_a(tmp_path_factory):
    """Store A: a workspace whose reader is alice (mallory is a user of A, but no reader), served --private."""
    from datasets import make_dataset

    from sortingview.workspace import create_workspace

    tmp = tmp_path_factory.mktemp("private-a")
    a_store = str(tmp / "store-a")
    old = os.environ.get("KACHERY_CLOUD_DIR")
    os.environ["KACHERY_CLOUD_DIR"] = a_store
    try:
        ds = make_dataset(tmp, seed=7, num_channels=8, durations=10.0, num_units=4)
        W = create_workspace(label="private lab")
        rid = W.add_recording(label="rec", recording=ds.recording)
        sid = W.add_sorting(recording_id=rid, label="srt", sorting=ds.sorting)
        W.set_readers(["alice"])
        W.set_sorting_curation_authorized_users(sid, ["alice"])
        users = UserStore(users_file(a_store))
        tokens = {u: users.add_user(u) for u in ("alice", "mallory")}
        figure = W.spikesortingview(recording_id=rid, sorting_id=sid, label="view", base_url="http://x")
        rec_uri = W.get_recording_record(rid)["recordingUri"]
        info = {"uri": W.uri, "feed_id": W.feed_id, "sid": sid, "rec_uri": rec_uri,
                "curation_feed": W.get_curation_feed_uri(sid).removeprefix("feed://"),
                "binary_uri": store.load_json(rec_uri)["data"]["segments"][0]["fileUri"],
                "figure_d": urllib.parse.parse_qs(urllib.parse.urlsplit(figure).query)["d"][0],
                "sorting_uri": W.get_sorting_record(sid)["sortingUri"], "tokens": tokens,
                "unrelated": store.store_json({"not": "in any workspace"})}
    finally:
        os.environ.pop("KACHERY_CLOUD_DIR") if old is None else os.environ.__setitem__("KACHERY_CLOUD_DIR", old)
        _objects.load_recording.cache_clear()
        _objects.load_sorting.cache_clear()
    with server_process(a_store, str(tmp), args=("--private",)) as url:
        yield {**info, "url": url, "store": a_store}


def _get(site, path: str, user: str | None):
    headers = {"Authorization": f"Bearer {site['tokens'][user]}"} if user else {}
    return http(site["url"] + path, headers=headers)


def _sha1(uri: str) -> str:
    return store.parse_uri(uri).sha1


def test_a_private_server_serves_a_workspaces_data_only_to_its_readers(private_a):
    reads = [f"/api/file/{_sha1(private_a['rec_uri'])}", f"/api/file/{_sha1(private_a['sorting_uri'])}",
             f"/api/file/{_sha1(private_a['binary_uri'])}", f"/api/feed/{private_a['feed_id']}",
             f"/api/feed/{private_a['curation_feed']}",
             "/api/figure?d=" + urllib.parse.quote(private_a["figure_d"]),
             "/api/curation?" + urllib.parse.urlencode({"workspace": private_a["uri"], "sortingId": private_a["sid"]})]
    for path in reads:
        assert _get(private_a, path, None)[0] == 401, path
        status, body = _get(private_a, path, "mallory")
        assert status == 403 and "may not read" in body["error"], path
        assert _get(private_a, path, "alice")[0] == 200, path
    # a manifest of a reachable file: built (202) or served (200) for alice; refused to the others
    manifest = f"/api/manifest/{_sha1(private_a['binary_uri'])}?chunk=4096"
    assert _get(private_a, manifest, "alice")[0] in (200, 202)
    assert _get(private_a, manifest, "mallory")[0] == 403
    assert _get(private_a, manifest, None)[0] == 401


def test_a_reader_reads_only_what_their_workspaces_reach(private_a):
    # a file in A's store that no workspace names is refused even to a reader; the home page lists nothing
    assert _get(private_a, f"/api/file/{_sha1(private_a['unrelated'])}", "alice")[0] == 403
    assert _get(private_a, "/", "alice")[0] == 403
    # the viewer's page and assets hold no data and stay public
    assert _get(private_a, "/f?v=spikesortingview-1&d=" + urllib.parse.quote(private_a["figure_d"]), None)[0] == 200


def test_tasks_on_a_private_server_need_a_reader_of_every_object_they_name(private_a):
    task = {"taskName": "sortingview.sorting_info.1", "taskInput": {"sorting": private_a["sorting_uri"]},
            "waitSec": 0}
    for user, expected in ((None, 401), ("mallory", 403), ("alice", 200)):
        headers = {"Authorization": f"Bearer {private_a['tokens'][user]}"} if user else {}
        assert http(private_a["url"] + "/api/task", body=task, headers=headers)[0] == expected, user
    foreign = {**task, "taskInput": {"sorting": private_a["unrelated"]}}
    headers = {"Authorization": f"Bearer {private_a['tokens']['alice']}"}
    assert http(private_a["url"] + "/api/task", body=foreign, headers=headers)[0] == 403


def test_a_peer_with_a_readers_token_fetches_and_one_without_is_refused(private_a, store_dir, monkeypatch):
    monkeypatch.delenv(P.PEERS_ENV, raising=False)
    P.add_peer(private_a["url"], private_a["tokens"]["mallory"])
    with pytest.raises(NotFoundError, match="HTTP 403"):
        store.load_json(private_a["rec_uri"])
    P.add_peer(private_a["url"], private_a["tokens"]["alice"])  # replaces the token
    assert store.load_json(private_a["rec_uri"])["format"] == "binary_recording"
    # the recording's binary file is read lazily, through the manifest, with alice's token too
    _objects.load_recording.cache_clear()
    from sortingview.extractors import load_recording

    rec = load_recording(private_a["rec_uri"])
    assert type(rec).__name__ == "RemoteBinaryRecording"
    assert rec.get_traces(start_frame=100, end_frame=164).shape == (64, 8)


def test_readers_are_managed_from_the_cli(store_dir):
    from click.testing import CliRunner

    from sortingview.cli import main
    from sortingview.workspace import create_workspace

    W = create_workspace(label="cli")
    run = CliRunner().invoke
    assert run(main, ["workspace", "readers", W.uri, "--add", "ann", "--add", "bo"]).output.split() == ["ann", "bo"]
    assert run(main, ["workspace", "readers", W.uri, "--rm", "ann"]).output.split() == ["bo"]
    assert run(main, ["workspace", "readers", W.uri, "--ls"]).output.split() == ["bo"] == W.get_readers()
    bad = run(main, ["workspace", "readers", W.uri, "--rm", "zed"])
    assert bad.exit_code != 0 and "not readers of this workspace: zed" in bad.output
    assert run(main, ["workspace", "readers", W.uri, "--add", "no spaces"]).exit_code != 0


def test_a_peer_listed_in_the_environment_is_sent_its_saved_token(private_a, store_dir, monkeypatch):
    monkeypatch.setenv(P.PEERS_ENV, private_a["url"])
    assert P.list_peers() == [P.Peer(private_a["url"], None)]
    with pytest.raises(NotFoundError, match="HTTP 401"):
        store.load_json(private_a["sorting_uri"])
    P.add_peer(private_a["url"], private_a["tokens"]["alice"])
    assert P.list_peers() == [P.Peer(private_a["url"], private_a["tokens"]["alice"])]
    assert store.load_json(private_a["sorting_uri"])["format"]
