"""Fetching by URI from peers on loopback: server A (a real process) owns a dataset; this process is B with an
empty store. Every fetched byte is verified; a peer that sends wrong bytes is warned about and skipped; a
transfer broken half way is continued with a range request."""
from __future__ import annotations

import json
import os
import stat

import numpy as np
import pytest
from click.testing import CliRunner
from sharing_support import flip_bytes, relay_peer, server_process

from sortingview import store
from sortingview.errors import NotFoundError
from sortingview.store import peers as P
from sortingview.store.peer_http import Peer


@pytest.fixture(scope="module")
def site_a(tmp_path_factory):
    """Store A with a seeded recording (linked binary file) and sorting, served by a real server process."""
    from datasets import make_dataset

    tmp = tmp_path_factory.mktemp("site-a")
    a_store = str(tmp / "store-a")
    old = os.environ.get("KACHERY_CLOUD_DIR")
    os.environ["KACHERY_CLOUD_DIR"] = a_store
    try:
        ds = make_dataset(tmp, seed=3, num_channels=16, durations=8.0, num_units=5)
        rec_obj = store.load_json(ds.recording_uri)
        npy_uri = store.store_npy(np.arange(1000, dtype=np.float32).reshape(10, 100))
    finally:
        if old is None:
            del os.environ["KACHERY_CLOUD_DIR"]
        else:
            os.environ["KACHERY_CLOUD_DIR"] = old
    binary_uri = rec_obj["data"]["segments"][0]["fileUri"]
    with server_process(a_store, str(tmp)) as url:
        yield {"url": url, "store": a_store, "ds": ds, "recording_object": rec_obj, "binary_uri": binary_uri,
               "npy_uri": npy_uri,
               "binary_sha1": store.parse_uri(binary_uri).sha1, "binary_size": os.path.getsize(ds.binary_paths[0])}


def test_a_uri_missing_here_is_loaded_from_a_peer_and_kept(store_dir, monkeypatch, site_a):
    with pytest.raises(NotFoundError, match="not in the store"):
        store.load_json(site_a["ds"].recording_uri)
    monkeypatch.setenv(P.PEERS_ENV, site_a["url"])
    assert store.load_json(site_a["ds"].recording_uri) == site_a["recording_object"]
    assert store.get_store().has(store.parse_uri(site_a["ds"].recording_uri).sha1)  # now local
    np.testing.assert_array_equal(store.load_npy(site_a["npy_uri"]), np.arange(1000).reshape(10, 100))
    path = store.load_file(site_a["binary_uri"], verify=True)
    assert store.sha1_of_file(path) == site_a["binary_sha1"]
    assert path.startswith(str(store_dir))


def test_no_peer_having_it_is_a_not_found_error_naming_each_peer(store_dir, monkeypatch, site_a):
    monkeypatch.setenv(P.PEERS_ENV, site_a["url"])
    with pytest.raises(NotFoundError, match=f"{site_a['url']}: does not have it"):
        store.load_bytes("sha1://" + "ab" * 20)


def test_a_peer_sending_wrong_bytes_is_named_and_skipped(store_dir, monkeypatch, site_a):
    sha1 = site_a["binary_sha1"]
    with relay_peer(site_a["url"], body_filter=flip_bytes) as bad:
        with pytest.warns(P.PeerWarning, match=f"peer {bad} sent bytes that do not match"):
            with pytest.raises(NotFoundError, match="sent wrong bytes"):
                P.fetch(sha1, [Peer(bad)])
        assert not store.get_store().has(sha1)
        assert not os.path.exists(P._partial_path(store.get_store(), sha1))  # wrong bytes are not kept
        monkeypatch.setenv(P.PEERS_ENV, f"{bad},{site_a['url']}")
        with pytest.warns(P.PeerWarning, match=bad):
            path = store.load_file(site_a["binary_uri"])
    assert store.sha1_of_file(path) == sha1


def test_a_transfer_broken_half_way_is_resumed_with_a_range_request(store_dir, site_a):
    sha1, size = site_a["binary_sha1"], site_a["binary_size"]
    half = size // 2
    with relay_peer(site_a["url"], drop_after=half) as dropping:
        with pytest.raises(NotFoundError, match=f"after {half} of {size} bytes"):
            P.fetch(sha1, [Peer(dropping)], progress=False)
    part = P._partial_path(store.get_store(), sha1)
    assert os.path.getsize(part) == half
    result = P.fetch(sha1, [Peer(site_a["url"])], progress=False)
    assert (result.resumed_from, result.bytes_received) == (half, size - half)
    assert store.sha1_of_file(result.path) == sha1 and not os.path.exists(part)


def test_a_kept_part_with_wrong_bytes_is_fetched_again_whole(store_dir, site_a):
    sha1, size = site_a["binary_sha1"], site_a["binary_size"]
    part = P._partial_path(store.get_store(), sha1)
    os.makedirs(os.path.dirname(part))
    with open(part, "wb") as f:
        f.write(b"\x07" * 1000)  # not a prefix of the file: the resumed digest cannot match
    result = P.fetch(sha1, [Peer(site_a["url"])], progress=False)
    assert result.bytes_received == size and store.sha1_of_file(result.path) == sha1


def test_a_file_over_the_size_limit_is_refused(store_dir, monkeypatch, site_a):
    monkeypatch.setenv(P.MAX_BYTES_ENV, "1000")
    with pytest.raises(NotFoundError, match=f"over the limit of 1000 \\(set {P.MAX_BYTES_ENV}\\)"):
        P.fetch(site_a["binary_sha1"], [Peer(site_a["url"])])
    assert not store.get_store().has(site_a["binary_sha1"])


def test_peer_commands_save_list_and_remove_peers_with_private_tokens(store_dir, monkeypatch):
    from sortingview.cli import main

    run = CliRunner().invoke
    assert run(main, ["peer", "add", "http://lab-a:15310/", "--token", "s3cret"]).exit_code == 0
    assert run(main, ["peer", "add", "https://lab-b.example.org"]).exit_code == 0
    monkeypatch.setenv(P.PEERS_ENV, "http://first:1")
    out = run(main, ["peer", "ls"]).output
    assert out.splitlines() == ["http://first:1", "http://lab-a:15310  (token)", "https://lab-b.example.org"]
    assert "s3cret" not in out
    assert stat.S_IMODE(os.stat(P.peers_file()).st_mode) == 0o600
    assert json.load(open(P.peers_file()))[0] == {"url": "http://lab-a:15310", "token": "s3cret"}
    assert run(main, ["peer", "rm", "http://lab-a:15310"]).exit_code == 0
    gone = run(main, ["peer", "rm", "http://lab-a:15310"])
    assert gone.exit_code == 1 and "is not a saved peer" in gone.output
    bad = run(main, ["peer", "add", "lab-a:15310"])
    assert bad.exit_code == 1 and "is not a peer URL" in bad.output


def test_store_fetch_command_fetches_from_the_given_server(store_dir, site_a):
    from sortingview.cli import main

    out = CliRunner().invoke(main, ["store", "fetch", site_a["ds"].sorting_uri, "--from", site_a["url"], "--quiet"])
    assert out.exit_code == 0, out.output
    assert store.sha1_of_file(out.output.strip()) == store.parse_uri(site_a["ds"].sorting_uri).sha1
