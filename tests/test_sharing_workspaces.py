"""Remote workspaces on loopback: server A (a real process, --private) owns a workspace and its linked recording;
B (this process, or a second real server process with its own store) has nothing but A's URL and a token. B opens
the workspace, computes waveforms from lazily read chunks, a curator on B curates, and A sees it."""
from __future__ import annotations

import json
import os
import threading
import urllib.parse

import numpy as np
import pytest
from sharing_support import QuietHandler, serve_in_thread, server_process
from test_server_support import http

import sortingview as sv
from sortingview import store
from sortingview.errors import AuthError, WorkspaceError
from sortingview.server.auth import UserStore, users_file
from sortingview.store import peers as P
from sortingview.store.remote_binary import STATS
from sortingview.tasks import _objects, run_task_inline
from sortingview.workspace.remote import RemoteWorkspace

WAVEFORMS = "sortingview.average_waveforms.1"


@pytest.fixture(scope="module")
def home_a(tmp_path_factory):
    """Store A: a workspace (readers lab-b and carol; carol curates), served --private by a process."""
    from datasets import make_dataset

    tmp = tmp_path_factory.mktemp("home-a")
    a_store = str(tmp / "store-a")
    old = os.environ.get("KACHERY_CLOUD_DIR")
    os.environ["KACHERY_CLOUD_DIR"] = a_store
    try:
        ds = make_dataset(tmp, seed=11, num_channels=8, durations=30.0, num_units=4)
        W = sv.create_workspace(label="lab A")
        rid = W.add_recording(label="rec", recording=ds.recording)
        sid = W.add_sorting(recording_id=rid, label="srt", sorting=ds.sorting)
        W.set_readers(["lab-b", "carol"])
        W.set_sorting_curation_authorized_users(sid, ["carol"])
        users = UserStore(users_file(a_store))
        tokens = {u: users.add_user(u) for u in ("lab-b", "carol", "mallory")}
        rec_uri, srt_uri = W.get_recording_record(rid)["recordingUri"], W.get_sorting_record(sid)["sortingUri"]
        task = {"recording": rec_uri, "sorting": srt_uri, "maxSpikesPerUnit": 10}
        info = {"uri": W.uri, "rid": rid, "sid": sid, "tokens": tokens, "task": task, "unit_ids": W.get_unit_ids(sid),
                "curation_feed": W.get_curation_feed_uri(sid).removeprefix("feed://"),
                "binary_sha1": store.parse_uri(store.load_json(rec_uri)["data"]["segments"][0]["fileUri"]).sha1,
                "binary_size": os.path.getsize(ds.binary_paths[0]),
                "waveforms": run_task_inline(WAVEFORMS, task, use_cache=False)}
    finally:
        os.environ.pop("KACHERY_CLOUD_DIR") if old is None else os.environ.__setitem__("KACHERY_CLOUD_DIR", old)
        _objects.load_recording.cache_clear()
        _objects.load_sorting.cache_clear()
    with server_process(a_store, str(tmp), args=("--private",)) as url:
        yield {**info, "url": url}


@pytest.fixture
def store_b(store_dir, monkeypatch):
    monkeypatch.delenv(P.PEERS_ENV, raising=False)
    _objects.load_recording.cache_clear()
    _objects.load_sorting.cache_clear()
    yield store_dir
    _objects.load_recording.cache_clear()
    _objects.load_sorting.cache_clear()


def _auth(home, user):
    return {"Authorization": f"Bearer {home['tokens'][user]}"}


def _home_curation_records(home) -> list[dict]:
    status, body = http(f"{home['url']}/api/feed/{home['curation_feed']}", headers=_auth(home, "carol"))
    assert status == 200
    return body["records"]


def _same_waveforms(a: dict, b: dict) -> None:
    assert [w["unitId"] for w in a["averageWaveforms"]] == [w["unitId"] for w in b["averageWaveforms"]]
    for wa, wb in zip(a["averageWaveforms"], b["averageWaveforms"], strict=True):
        np.testing.assert_array_equal(np.asarray(wa["waveform"]), np.asarray(wb["waveform"]))


def test_b_opens_computes_on_and_curates_a_workspace_of_a(home_a, store_b):
    W = sv.load_workspace(home_a["uri"], peer=home_a["url"], token=home_a["tokens"]["carol"])
    assert isinstance(W, RemoteWorkspace) and W.home == home_a["url"]
    assert W.recording_ids == [home_a["rid"]] and W.sorting_ids == [home_a["sid"]]
    assert W.get_unit_ids(home_a["sid"]) == home_a["unit_ids"]
    assert sv.load_workspace(W.uri).sorting_ids == [home_a["sid"]]  # the URI names its home: it opens alone
    # waveforms computed here, on lazily read chunks of A's file: the same numbers, a fraction of the bytes
    before = STATS.bytes_received
    _same_waveforms(run_task_inline(WAVEFORMS, home_a["task"], use_cache=False), home_a["waveforms"])
    assert not store.get_store().has(home_a["binary_sha1"])
    assert 0 < STATS.bytes_received - before < home_a["binary_size"]
    # curation made here is written by A, as carol
    unit = home_a["unit_ids"][0]
    W.sorting_curation_add_label(home_a["sid"], label="noise", unit_ids=[unit])
    last = _home_curation_records(home_a)[-1]
    assert last["userId"] == "carol" and last["message"]["action"] == {"type": "ADD_UNIT_LABEL",
                                                                        "unitId": unit, "label": "noise"}
    assert "noise" in W.get_sorting_curation(home_a["sid"])["labelsByUnit"][unit]


def test_b_follows_changes_made_on_a_live(home_a, store_b):
    W = sv.load_workspace(home_a["uri"], peer=home_a["url"], token=home_a["tokens"]["lab-b"])
    feed = W.get_curation_feed_for_sorting(home_a["sid"])
    n = len(feed.get_records(fresh=True))
    got: list = []
    waiter = threading.Thread(target=lambda: got.extend(feed.wait_for_records(n, 20)))
    waiter.start()
    merge = home_a["unit_ids"][1:3]
    status, _ = http(f"{home_a['url']}/api/curation", headers=_auth(home_a, "carol"), body={
        "workspace": home_a["uri"], "sortingId": home_a["sid"], "action": {"type": "MERGE_UNITS", "unitIds": merge}})
    assert status == 200
    waiter.join(30)
    assert [r["message"]["action"]["type"] for r in got] == ["MERGE_UNITS"]
    assert sorted(W.get_sorting_curation(home_a["sid"])["mergeGroups"][-1]) == sorted(merge)


def test_only_the_home_changes_a_workspace_and_only_its_curators_curate(home_a, store_b):
    W = sv.load_workspace(home_a["uri"], peer=home_a["url"], token=home_a["tokens"]["lab-b"])
    with pytest.raises(WorkspaceError, match=f"belongs to the server {home_a['url']}"):
        W.set_snippet_len((10, 20))
    with pytest.raises(WorkspaceError, match="belongs to the server"):
        W.set_sorting_curation_authorized_users(home_a["sid"], ["lab-b"])
    n = len(_home_curation_records(home_a))
    with pytest.raises(AuthError, match="may not curate"):  # lab-b reads, but does not curate
        W.close_sorting_curation(home_a["sid"])
    assert len(_home_curation_records(home_a)) == n
    with pytest.raises(AuthError, match="403"):  # mallory is a user of A but reads nothing there
        sv.load_workspace(home_a["uri"], peer=home_a["url"], token=home_a["tokens"]["mallory"])


def test_a_workspace_is_followed_from_the_cli(home_a, store_b):
    from click.testing import CliRunner

    from sortingview.cli import main

    out = CliRunner().invoke(main, ["workspace", "follow", home_a["uri"], "--peer", home_a["url"],
                                    "--token", home_a["tokens"]["lab-b"]])
    assert out.exit_code == 0, out.output
    uri = out.output.split("\t")[0]
    assert "home=" in uri and out.output.split("\t")[1:] == ["1 recordings", "1 sortings\n"]
    shown = CliRunner().invoke(main, ["curation", "show", uri, home_a["sid"]])  # read from A's feeds
    q = urllib.parse.urlencode({"workspace": home_a["uri"], "sortingId": home_a["sid"]})
    status, at_a = http(f"{home_a['url']}/api/curation?{q}", headers=_auth(home_a, "carol"))
    assert status == 200 and shown.exit_code == 0 and json.loads(shown.output) == at_a["curation"]
    bad = CliRunner().invoke(main, ["workspace", "follow", "sortingview-workspace:" + "cd" * 20,
                                    "--peer", home_a["url"], "--token", home_a["tokens"]["lab-b"]])
    assert bad.exit_code != 0 and "403" in bad.output  # lab-b reads no such workspace on A


def test_server_b_serves_a_followed_workspace_to_its_viewer(home_a, store_b, tmp_path):
    # B's owner follows the workspace (B's peer token: lab-b) and makes a link; then B's server starts
    W = sv.load_workspace(home_a["uri"], peer=home_a["url"], token=home_a["tokens"]["lab-b"])
    link = W.spikesortingview(recording_id=home_a["rid"], sorting_id=home_a["sid"], label="from A",
                              base_url="http://b")
    d = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["d"][0]
    with server_process(str(store_b), str(tmp_path), workers=True) as b:
        status, fig = http(f"{b}/api/figure?d={urllib.parse.quote(d)}")
        assert status == 200 and fig["workspaceUri"] == W.uri
        q = urllib.parse.urlencode({"workspace": W.uri, "sortingId": home_a["sid"]})
        # a viewer not signed in reads through B's own token for A, shown signed out (not as lab-b)
        status, cur = http(f"{b}/api/curation?{q}")
        assert status == 200 and cur["userId"] is None and cur["canCurate"] is False
        assert cur["authorizedUsers"] == ["carol"] and "labelsByUnit" in cur["curation"]
        # carol signs in on B's page with her token of A; A tells B who she is and whether she curates
        page = f"{b}/f?v=spikesortingview-1&d={urllib.parse.quote(d)}"
        status, who = http(f"{b}/api/signin", body={"token": home_a["tokens"]["carol"]}, headers={"Referer": page})
        assert status == 200 and who["userId"] == "carol"
        # without a page of a followed workspace, B does not know where the token comes from: it sends it nowhere
        assert http(f"{b}/api/signin", body={"token": home_a["tokens"]["carol"]})[0] == 401
        status, cur = http(f"{b}/api/curation?{q}", headers=_auth(home_a, "carol"))
        assert status == 200 and cur["userId"] == "carol" and cur["canCurate"] is True
        # curation through B lands on A; B's feed follower (a long-poll on B) sees it
        n = len(_home_curation_records(home_a))
        polled: list = []
        poll = threading.Thread(target=lambda: polled.append(
            http(f"{b}/api/feed/{home_a['curation_feed']}?start={n}&wait=20")))
        poll.start()
        unit = home_a["unit_ids"][-1]
        action = {"type": "ADD_UNIT_LABEL", "unitId": unit, "label": "accept"}
        status, _ = http(f"{b}/api/curation", headers=_auth(home_a, "carol"),
                         body={"workspace": W.uri, "sortingId": home_a["sid"], "action": action})
        assert status == 200
        assert _home_curation_records(home_a)[n]["userId"] == "carol"
        poll.join(30)
        assert polled[0][0] == 200 and polled[0][1]["records"][0]["message"]["action"] == action
        # lab-b may read but not curate: A's 403 reaches B's client
        status, body = http(f"{b}/api/curation", headers=_auth(home_a, "lab-b"),
                            body={"workspace": W.uri, "sortingId": home_a["sid"], "action": action})
        assert status == 403 and "may not curate" in body["error"]
        # B's own workers compute the viewer's waveforms from lazily read chunks
        status, st = http(f"{b}/api/task", body={"taskName": WAVEFORMS, "taskInput": home_a["task"], "waitSec": 25})
        assert status == 200 and st["status"] == "finished", st
        assert not store.get_store().has(home_a["binary_sha1"])
        # a workspace B does not follow is 404, whatever home its URI names: B contacts no server for it
        other = "sortingview-workspace:" + "ab" * 20 + "?home=" + urllib.parse.quote("http://127.0.0.1:9")
        status, body = http(f"{b}/api/curation?" + urllib.parse.urlencode({"workspace": other, "sortingId": "S"}))
        assert status == 404 and "neither in this server's store nor followed" in body["error"]


def test_a_private_b_serves_a_followed_workspace_only_to_its_own_readers(home_a, store_b, tmp_path):
    # B follows A's workspace (B's token for A: lab-b), makes a link, and lists its own reader: bob, a user of B
    W = sv.load_workspace(home_a["uri"], peer=home_a["url"], token=home_a["tokens"]["lab-b"])
    link = W.spikesortingview(recording_id=home_a["rid"], sorting_id=home_a["sid"], label="from A",
                              base_url="http://b")
    d = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["d"][0]
    from click.testing import CliRunner

    from sortingview.cli import main

    out = CliRunner().invoke(main, ["workspace", "readers", W.uri, "--add", "bob"])  # as W.set_readers(["bob"])
    assert out.exit_code == 0 and out.output.split() == ["bob"], out.output
    assert W.get_readers() == ["bob"] and "bob" not in home_a["tokens"]  # B's list; A's readers stay A's
    users = UserStore(users_file(str(store_b)))
    b_tokens = {u: users.add_user(u) for u in ("bob", "eve")}
    rec_uri = W.get_recording_record(home_a["rid"])["recordingUri"]
    manifest_uri = store.load_json(rec_uri)["data"]["segments"][0]["chunkManifest"]
    store.load_file(manifest_uri)  # B holds the manifest now (fetched from A, verified)
    sha1 = {k: store.parse_uri(u).sha1 for k, u in
            (("rec", rec_uri), ("srt", W.get_sorting_record(home_a["sid"])["sortingUri"]), ("man", manifest_uri))}
    q = urllib.parse.urlencode({"workspace": W.uri, "sortingId": home_a["sid"]})
    reads = [f"/api/file/{sha1['rec']}", f"/api/file/{sha1['srt']}", f"/api/file/{sha1['man']}",
             f"/api/feed/{W.feed_id}", f"/api/feed/{home_a['curation_feed']}",
             f"/api/figure?d={urllib.parse.quote(d)}", f"/api/curation?{q}"]
    as_ = {u: {"Authorization": f"Bearer {t}"} for u, t in b_tokens.items()} | {None: {}}
    with server_process(str(store_b), str(tmp_path), args=("--private",), workers=True) as b:
        for path in reads:
            assert http(b + path, headers=as_[None])[0] == 401, path
            status, body = http(b + path, headers=as_["eve"])  # a user of B who is not on B's list
            assert status == 403 and "may not read" in body["error"], path
            assert http(b + path, headers=as_["bob"])[0] == 200, path
        # what bob reads on B is A's workspace: its feed as A has it, its figure, the curation (signed out:
        # bob's token is B's, not A's)
        status, feed = http(f"{b}/api/feed/{W.feed_id}", headers=as_["bob"])
        status_a, at_a = http(f"{home_a['url']}/api/feed/{W.feed_id}", headers=_auth(home_a, "lab-b"))
        assert status == status_a == 200 and feed["records"] == at_a["records"]
        status, cur = http(f"{b}/api/curation?{q}", headers=as_["bob"])
        assert status == 200 and cur["userId"] is None and cur["authorizedUsers"] == ["carol"]
        # a chunk manifest on B: the binary file stays on A (404 to bob, B serves only its own store), and eve is
        # refused before that
        man = f"/api/manifest/{home_a['binary_sha1']}?chunk=4096"
        assert http(b + man, headers=as_["bob"])[0] == 404 and http(b + man, headers=as_["eve"])[0] == 403
        # B's workers compute for bob on lazily read chunks; eve may not name the workspace's objects
        task = {"taskName": WAVEFORMS, "taskInput": home_a["task"], "waitSec": 25}
        status, st = http(f"{b}/api/task", body=task, headers=as_["bob"])
        assert status == 200 and st["status"] == "finished", st
        assert http(f"{b}/api/task", body=task, headers=as_["eve"])[0] == 403
        # taking bob off B's list closes B to him at once
        W.set_readers(["eve"])
        assert http(b + reads[3], headers=as_["bob"])[0] == 403 and http(b + reads[3], headers=as_["eve"])[0] == 200


def test_what_a_followed_workspace_reaches_is_recomputed_as_b_fetches_what_it_names(home_a, store_b):
    from sortingview.workspace.readers import reachable, readable_by

    W = sv.load_workspace(home_a["uri"], peer=home_a["url"], token=home_a["tokens"]["lab-b"])
    W.set_readers(["bob"])
    rec_uri = W.get_recording_record(home_a["rid"])["recordingUri"]
    seg = store.load_json(rec_uri)["data"]["segments"][0]  # the feed carries the objects inline: B has them
    before = reachable(W.feed_id)
    named = {store.parse_uri(u).sha1 for u in (rec_uri, seg["fileUri"], seg["chunkManifest"])}
    assert named <= before.sha1s and {W.feed_id, home_a["curation_feed"]} <= before.feeds
    assert home_a["binary_sha1"] in before.missing  # named, not in B's store: looked for again at each check
    assert readable_by("bob")[1] == set(before.sha1s) and readable_by("eve") == (set(), set())
    store.load_file(seg["fileUri"])  # B fetches the (small) file whole, verified
    after = reachable(W.feed_id)
    assert after is not before and home_a["binary_sha1"] not in after.missing and after.sha1s == before.sha1s
    # the home stops answering (here: B's record of it names a closed port): B keeps what it reached before
    from conftest import free_port

    from sortingview.workspace.remote import FOLLOWED

    store.set_mutable(f"{FOLLOWED}/{W.feed_id}", json.dumps({"home": f"http://127.0.0.1:{free_port()}"}))
    assert reachable(W.feed_id) is after and readable_by("bob")[1] == set(after.sha1s)


@pytest.mark.browser
def test_a_curator_on_b_curates_in_bs_own_viewer_and_a_sees_it(home_a, store_b, tmp_path, chromium_path):
    from test_browser_support import checked_page, chromium_browser, screenshot

    W = sv.load_workspace(home_a["uri"], peer=home_a["url"], token=home_a["tokens"]["lab-b"])
    link = W.spikesortingview(recording_id=home_a["rid"], sorting_id=home_a["sid"], label="from A",
                              base_url="http://b")
    num_units = len(home_a["unit_ids"])
    with server_process(str(store_b), str(tmp_path), workers=True) as b, chromium_browser(chromium_path) as browser, \
            checked_page(browser) as page:
        page.goto(link.replace("http://b", b))
        # the views are computed by B's backend, on chunks of A's recording read lazily
        page.wait_for_selector(f"#acg-view[data-drawn='{num_units}']", timeout=90_000)
        page.click("#signin-btn")
        page.fill("#token-input", home_a["tokens"]["carol"])  # a token of A: B asks A who it is
        page.click("#signin-form button[type=submit]")
        page.wait_for_selector("#curation .who.can", timeout=30_000)
        unit = page.eval_on_selector_all("table.units tbody tr", "rows => rows.map(r => r.dataset.unit)")[0]
        page.click(f"tr[data-unit='{unit}'] td.unit")
        page.click("#curation button[data-label=reject]")
        page.wait_for_selector(f"tr[data-unit='{unit}'] .label-chip:has-text('reject')", timeout=30_000)
        last = _home_curation_records(home_a)[-1]
        assert last["userId"] == "carol"
        assert last["message"]["action"]["type"] == "ADD_UNIT_LABEL" and last["message"]["action"]["label"] == "reject"
        screenshot(page, "sharing-remote-workspace.png")
        # a change made on A appears in B's open viewer without a reload
        status, _ = http(f"{home_a['url']}/api/curation", headers=_auth(home_a, "carol"), body={
            "workspace": home_a["uri"], "sortingId": home_a["sid"],
            "action": {"type": "REMOVE_UNIT_LABEL", "unitId": last["message"]["action"]["unitId"], "label": "reject"}})
        assert status == 200
        page.wait_for_function(f"() => ![...document.querySelectorAll(\"tr[data-unit='{unit}'] .label-chip\")]"
                               ".some(c => c.textContent.includes('reject'))", timeout=30_000)
        # average waveforms of two units: computed by B's workers from verified chunks of A's file, drawn on B
        units = page.eval_on_selector_all("table.units tbody tr", "rows => rows.map(r => r.dataset.unit)")
        page.click(f"tr[data-unit='{units[1]}'] td.unit")
        page.click(f"tr[data-unit='{units[2]}'] td.unit", modifiers=["Control"])
        page.click(".tab[data-view=waveforms]")
        page.wait_for_selector("#waveform-view[data-drawn='2']", timeout=90_000)
        assert page.query_selector_all("#waveform-view canvas.waveform")
        assert not store.get_store().has(home_a["binary_sha1"])  # read in chunks, never fetched whole
        caches = os.listdir(os.path.join(str(store_b), "sortingview", "remote"))
        assert any(c.startswith(home_a["binary_sha1"]) for c in caches)  # B's cache of verified chunks


def test_a_home_that_answers_misnumbered_or_oversized_feeds_is_refused(store_b, monkeypatch):
    """A misbehaving home (a tiny server of the test's own): records must continue the feed, answers are bounded."""
    from sortingview.store.peer_http import Peer, PeerError
    from sortingview.workspace import remote_feed as RF

    answers = {"records": [{"messageNumber": 5, "timestamp": 0, "message": {"action": {"type": "X"}}}]}

    class Handler(QuietHandler):
        def do_GET(self):  # noqa: N802 (the http.server naming)
            body = json.dumps(answers).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with serve_in_thread(Handler) as url:
        feed = RF.RemoteFeed(Peer(url), "ef" * 20)
        with pytest.raises(PeerError, match="not numbered from 0"):
            feed.get_records()
        answers["records"] = [{"messageNumber": 0, "timestamp": 0, "message": {"pad": "x" * 2000}}]
        with monkeypatch.context() as m:
            m.setattr(RF, "MAX_ANSWER_BYTES", 1000)
            with pytest.raises(PeerError, match="at most 1000 were expected"):
                feed.get_records(fresh=True)
        assert feed.get_records(fresh=True)[0]["message"]["pad"] == "x" * 2000
        with pytest.raises(WorkspaceError, match="only it writes the feed"):
            feed.append_message({"action": {}})
