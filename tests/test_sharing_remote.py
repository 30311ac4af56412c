"""Lazily read remote recordings on loopback: server A (a real process) owns a recording and a sorting; B (a
second real server process, or this process) has an empty store and reads the recording's binary file from A
in chunks verified against A's chunk manifest, fetching only what a task needs."""
from __future__ import annotations

import hashlib
import os
import time

import numpy as np
import pytest
from sharing_support import (
    QuietHandler,
    assert_manifest_of,
    flip_bytes,
    lying_peer,
    received_bytes,
    relay_peer,
    serve_in_thread,
    server_process,
)
from test_server_support import http

from sortingview import store
from sortingview.store import peers as P
from sortingview.store.chunk_manifest import parse_manifest
from sortingview.store.remote_binary import STATS
from sortingview.tasks import _objects, run_task_inline

WAVEFORMS = "sortingview.average_waveforms.1"


@pytest.fixture(scope="module")
def site_a(tmp_path_factory):
    """Store A with a 60-second, 16-channel recording (linked in place) and its sorting, served by a process."""
    from datasets import make_dataset

    tmp = tmp_path_factory.mktemp("site-a")
    a_store = str(tmp / "store-a")
    old = os.environ.get("KACHERY_CLOUD_DIR")
    os.environ["KACHERY_CLOUD_DIR"] = a_store
    try:
        ds = make_dataset(tmp, seed=5, num_channels=16, durations=60.0, num_units=6)
        binary_uri = store.load_json(ds.recording_uri)["data"]["segments"][0]["fileUri"]
        task = {"recording": ds.recording_uri, "sorting": ds.sorting_uri, "maxSpikesPerUnit": 10}
        local = {
            WAVEFORMS: run_task_inline(WAVEFORMS, task, use_cache=False),
            "traces": ds.recording.get_traces(start_frame=123_456, end_frame=125_000, return_in_uV=False),
        }
    finally:
        os.environ.pop("KACHERY_CLOUD_DIR") if old is None else os.environ.__setitem__("KACHERY_CLOUD_DIR", old)
        _objects.load_recording.cache_clear()
        _objects.load_sorting.cache_clear()
    with server_process(a_store, str(tmp)) as url:
        yield {"url": url, "store": a_store, "ds": ds, "binary_uri": binary_uri, "task": task, "local": local,
               "binary_sha1": store.parse_uri(binary_uri).sha1, "binary_size": os.path.getsize(ds.binary_paths[0])}


@pytest.fixture
def store_b(store_dir, monkeypatch, site_a):
    """This process as B: an empty store whose peer is A; nothing cached from another store."""
    monkeypatch.setenv(P.PEERS_ENV, site_a["url"])
    _objects.load_recording.cache_clear()
    _objects.load_sorting.cache_clear()
    yield store_dir
    _objects.load_recording.cache_clear()
    _objects.load_sorting.cache_clear()


def _same_waveforms(a: dict, b: dict) -> None:
    assert [w["unitId"] for w in a["averageWaveforms"]] == [w["unitId"] for w in b["averageWaveforms"]]
    for wa, wb in zip(a["averageWaveforms"], b["averageWaveforms"], strict=True):
        assert wa["unitId"] == wb["unitId"] and wa["channelIds"] == wb["channelIds"]
        np.testing.assert_array_equal(np.asarray(wa["waveform"]), np.asarray(wb["waveform"]))


def test_the_owner_publishes_a_chunk_manifest_of_a_linked_file(site_a):
    sha1 = site_a["binary_sha1"]
    status, data = http(f"{site_a['url']}/api/manifest/{sha1}?chunk=65536")
    deadline = time.monotonic() + 60
    while status == 202 and time.monotonic() < deadline:  # built in the background: ask again, as a peer does
        assert data["status"] == "building" and data["retryAfterSec"] > 0
        time.sleep(0.2)
        status, data = http(f"{site_a['url']}/api/manifest/{sha1}?chunk=65536")
    assert status == 200
    manifest = parse_manifest(data, sha1, 65536)
    assert manifest.version == 2  # chunks of a multiple of 64 bytes: the file's chaining values
    assert_manifest_of(manifest, site_a["ds"].binary_paths[0])
    assert manifest.size == site_a["binary_size"]
    assert http(f"{site_a['url']}/api/manifest/{sha1}?chunk=7")[0] == 400
    assert http(f"{site_a['url']}/api/manifest/{sha1}?chunk=lots")[0] == 400
    assert http(f"{site_a['url']}/api/manifest/{'0' * 40}?chunk=65536")[0] == 404
    assert http(f"{site_a['url']}/api/manifest/..%2Fetc?chunk=65536")[0] in (400, 404)


def test_b_reads_traces_of_a_remote_recording_verified_and_lazily(store_b, site_a):
    from sortingview.extractors import load_recording
    from sortingview.extractors.remote import RemoteBinaryRecording

    before, wire = STATS.raw_bytes, STATS.bytes_received
    rec = load_recording(site_a["ds"].recording_uri)
    assert isinstance(rec, RemoteBinaryRecording)
    traces = rec.get_traces(start_frame=123_456, end_frame=125_000, return_in_uV=False)
    np.testing.assert_array_equal(traces, site_a["local"]["traces"])
    got = STATS.raw_bytes - before
    assert 1544 * 32 <= got <= 1544 * 32 + 2 * 4096  # the frames asked for, plus at most a chunk each side
    assert STATS.bytes_received - wire < 0.9 * got  # they came compressed (A serves /api/chunks)
    assert not store.get_store().has(site_a["binary_sha1"])  # the whole file never came over
    again = STATS.raw_bytes
    rec.get_traces(start_frame=123_500, end_frame=124_000)
    assert STATS.raw_bytes == again  # cached chunks are not fetched twice
    assert rec.get_channel_gains()[0] == pytest.approx(site_a["ds"].gain_to_uv)
    np.testing.assert_array_equal(rec.get_channel_locations(), site_a["ds"].recording.get_channel_locations())


def test_chunks_with_wrong_bytes_are_named_and_read_from_the_next_peer(store_b, monkeypatch, site_a):
    from sortingview.extractors import load_recording

    with relay_peer(site_a["url"], body_filter=flip_bytes) as bad:
        monkeypatch.setenv(P.PEERS_ENV, f"{bad},{site_a['url']}")
        with pytest.warns(P.PeerWarning, match=f"peer {bad} sent bytes that do not match"):
            rec = load_recording(site_a["ds"].recording_uri)  # the object itself: from A after the bad peer
        with pytest.warns(P.PeerWarning, match=f"peer {bad} sent bytes of sha1://{site_a['binary_sha1']} that do"):
            traces = rec.get_traces(start_frame=123_456, end_frame=125_000, return_in_uV=False)
    np.testing.assert_array_equal(traces, site_a["local"]["traces"])


def test_metrics_and_timeseries_tasks_work_on_a_remote_recording(store_b, site_a):
    ds = site_a["ds"]
    before = STATS.bytes_received
    seg = run_task_inline("sortingview.timeseries_segment.1",
                          {"recording": ds.recording_uri, "startFrame": 30_000, "endFrame": 31_000,
                           "maxSamples": 2000}, use_cache=False)
    assert np.asarray(seg["traces"]).shape[0] == 1000
    metrics = run_task_inline("sortingview.unit_metrics.1", {"recording": ds.recording_uri,
                                                             "sorting": ds.sorting_uri}, use_cache=False)
    names = {m["name"] for m in metrics["metrics"]}
    assert {"numEvents", "firingRateHz"} <= names
    assert STATS.bytes_received - before < site_a["binary_size"]


def test_server_b_computes_average_waveforms_from_a_fraction_of_the_file(tmp_path, store_dir, site_a):
    with server_process(str(store_dir), str(tmp_path), peers=site_a["url"], workers=True) as b_url:
        status, answer = http(f"{b_url}/api/task", body={"taskName": WAVEFORMS, "taskInput": site_a["task"],
                                                         "waitSec": 25})
        while status == 200 and answer.get("status") in ("queued", "running"):
            status, answer = http(f"{b_url}/api/task/{answer['taskJobId']}?wait=25")
    assert status == 200 and answer["status"] == "finished", answer
    from sortingview.serialize import decode_value

    _same_waveforms(decode_value(answer["result"]), site_a["local"][WAVEFORMS])
    received = received_bytes(str(store_dir))  # chunks, objects, sorting, manifest: all B ever received
    assert received > 10 * 6 * 90 * 32  # at least the snippets of the spikes
    assert not os.path.exists(os.path.join(str(store_dir), "sha1", *_shard(site_a["binary_sha1"])))
    print(f"B received {received} bytes for a {site_a['binary_size']}-byte recording")
    assert received < 0.2 * site_a["binary_size"], (received, site_a["binary_size"])


def _shard(sha1: str) -> list[str]:
    return [sha1[0:2], sha1[2:4], sha1[4:6], sha1]


def test_a_damaged_chunk_cache_is_noticed_and_fetched_again(store_b, site_a):
    from sortingview.extractors import load_recording

    rec = load_recording(site_a["ds"].recording_uri)
    expected = site_a["local"]["traces"]
    np.testing.assert_array_equal(rec.get_traces(start_frame=123_456, end_frame=125_000, return_in_uV=False), expected)
    remote = rec._recording_segments[0].remote
    cache = os.path.join(str(store_b), "sortingview", "remote", f"{site_a['binary_sha1']}-{remote.chunk_size}.cache")
    with open(cache, "r+b") as f:  # another process (or the disk) spoils the cached bytes
        f.seek(123_456 * 32)
        f.write(b"\xff" * 4096)
    _objects.load_recording.cache_clear()
    again = load_recording(site_a["ds"].recording_uri)  # a new process would start like this
    before = STATS.raw_bytes
    np.testing.assert_array_equal(again.get_traces(start_frame=123_456, end_frame=125_000, return_in_uV=False),
                                  expected)
    assert 0 < STATS.raw_bytes - before <= 2 * remote.chunk_size  # only the spoiled chunks came again


def test_a_manifest_that_does_not_describe_the_file_asked_for_is_refused():
    from sortingview.store.chunk_manifest import ChunkManifest, ManifestError

    good = ChunkManifest("a" * 40, 10_000, 4096, bytes(60))
    assert parse_manifest(good.to_bytes(), "a" * 40, 4096).num_chunks == 3
    with pytest.raises(ManifestError, match="not of sha1://" + "b" * 40):
        parse_manifest(good.to_bytes(), "b" * 40, 4096)
    with pytest.raises(ManifestError, match="lists 2 chunks for a 10000-byte file"):
        parse_manifest(good.to_bytes()[:-20], "a" * 40, 4096)
    with pytest.raises(ManifestError, match="not a sortingview chunk manifest"):
        parse_manifest(b"<html>hello</html>", "a" * 40, 4096)


def test_a_consistent_but_wrong_manifest_is_caught_once_every_chunk_is_read(store_b, site_a):
    """The gap doc/sharing.md names: chunk checks alone cannot catch a liar whose manifest describes its own
    wrong bytes; the whole-file check, made when every chunk is present, does."""
    from sortingview.errors import IntegrityError
    from sortingview.store.peer_http import Peer
    from sortingview.store.remote_binary import RemoteFile

    uri = site_a["ds"].sorting_uri  # a small file of A's: it can be read whole in a test
    sha1 = store.parse_uri(uri).sha1
    with lying_peer(site_a["url"]) as liar:
        remote = RemoteFile(sha1, [Peer(liar)], 4096)
        with pytest.raises(IntegrityError, match=f"matched the chunk manifest from {liar}, but the whole file"):
            remote.read(0, remote.size)
    assert not store.get_store().has(sha1)
    honest = RemoteFile(sha1, [Peer(site_a["url"])], 4096)
    data = honest.read(0, honest.size)
    assert hashlib.sha1(data).hexdigest() == sha1
    assert store.get_store().has(sha1)  # verified whole: it joined the store


def _object_manifest_uri(site_a) -> str:
    return store.load_json(site_a["ds"].recording_uri)["data"]["segments"][0]["chunkManifest"]


def test_the_recording_object_names_its_chunk_manifest_and_b_reads_through_it(store_b, site_a):
    """The manifest is fetched by the sha1 URI the object records (proven by the object's URI), not asked of
    a peer's manifest endpoint; it is the manifest of the file's own bytes."""
    from sortingview.extractors import load_recording

    manifest_uri = _object_manifest_uri(site_a)
    manifest = parse_manifest(store.load_bytes(manifest_uri), site_a["binary_sha1"], None)
    assert hashlib.sha1(manifest.to_bytes()).hexdigest() == store.parse_uri(manifest_uri).sha1
    assert_manifest_of(manifest, site_a["ds"].binary_paths[0])
    rec = load_recording(site_a["ds"].recording_uri)
    remote = rec._recording_segments[0].remote
    before = STATS.bytes_received
    traces = rec.get_traces(start_frame=123_456, end_frame=125_000, return_in_uV=False)
    np.testing.assert_array_equal(traces, site_a["local"]["traces"])
    assert remote.manifest_uri == manifest_uri and remote.manifest_peer is None
    assert remote.chunk_size == manifest.chunk_size
    assert STATS.bytes_received - before <= 1544 * 32 + 2 * remote.chunk_size  # a fraction of the file
    assert not store.get_store().has(site_a["binary_sha1"])


def test_a_consistent_liar_is_caught_at_the_first_chunk_when_the_object_names_the_manifest(store_b, site_a):
    """The gap of test_a_consistent_but_wrong_manifest_is_caught_once_every_chunk_is_read, closed: the liar's
    own manifest is never asked for, so its first wrong chunk fails the recorded manifest."""
    from sortingview.errors import NotFoundError
    from sortingview.store.peer_http import Peer
    from sortingview.store.remote_binary import RemoteFile

    manifest_uri, sha1 = _object_manifest_uri(site_a), site_a["binary_sha1"]
    with lying_peer(site_a["url"]) as liar:
        remote = RemoteFile(sha1, [Peer(liar)], 4096, manifest_uri=manifest_uri)
        before = STATS.bytes_received
        with pytest.warns(P.PeerWarning, match=f"peer {liar} sent bytes of sha1://{sha1} that do not match"):
            with pytest.raises(NotFoundError, match="no peer sent verified chunks 0..0"):
                remote.read(0, 100)  # the first chunk, and nothing else, came from the liar
        assert STATS.bytes_received - before == remote.chunk_size  # one chunk came, and was refused
        assert remote.manifest_peer is None
        with pytest.warns(P.PeerWarning, match=f"peer {liar} sent bytes of sha1://{sha1} that do not match"):
            remote = RemoteFile(sha1, [Peer(liar), Peer(site_a["url"])], 4096, manifest_uri=manifest_uri)
            data = remote.read(0, 100)
    with open(site_a["ds"].binary_paths[0], "rb") as f:
        assert data == f.read(100)  # the honest peer's bytes, after the liar was skipped


def test_an_old_object_without_a_chunk_manifest_still_reads_through_the_peer_manifest(store_b, site_a):
    from sortingview.extractors import load_recording

    obj = store.load_json(site_a["ds"].recording_uri)
    for seg in obj["data"]["segments"]:
        seg.pop("chunkManifest")
    old_uri = store.store_json(obj)
    rec = load_recording(old_uri)
    traces = rec.get_traces(start_frame=123_456, end_frame=125_000, return_in_uV=False)
    np.testing.assert_array_equal(traces, site_a["local"]["traces"])
    remote = rec._recording_segments[0].remote
    assert remote.manifest_uri is None and remote.manifest_peer == site_a["url"]  # the weaker, documented path


def test_copy_recording_extractor_records_the_manifest_of_each_segment(store_dir):
    import spikeinterface.core as si

    from sortingview.extractors import copy_recording_extractor, store_recording

    rec = si.generate_recording(num_channels=4, durations=[2.0, 1.0], seed=3)
    copy = copy_recording_extractor(rec, serialize_dtype="float32", progress=False)
    segments = store.load_json(store_recording(copy))["data"]["segments"]
    assert len(segments) == 2
    for seg, path in zip(segments, copy.get_binary_description()["file_paths"], strict=True):
        data = store.load_bytes(seg["chunkManifest"])
        manifest = parse_manifest(data, store.parse_uri(seg["fileUri"]).sha1, None)
        assert manifest.chunk_size == 4096  # 16 frames of 16 bytes, raised to the 4 KiB floor
        assert_manifest_of(manifest, path)


def test_an_object_naming_the_manifest_of_another_file_is_refused(store_b, site_a):
    from sortingview.errors import IntegrityError, InvalidUriError
    from sortingview.extractors import load_recording

    obj = store.load_json(site_a["ds"].recording_uri)
    other = store.store_bytes(b"sortingview-chunk-manifest 1 %s 20 4096\n" % (b"c" * 40) + bytes(20))
    obj["data"]["segments"][0]["chunkManifest"] = other
    with pytest.raises(IntegrityError, match=f"{other}, the chunk manifest the recording object names for "
                                             f"sha1://{site_a['binary_sha1']}, is not one: the manifest is of"):
        load_recording(store.store_json(obj))
    obj["data"]["segments"][0]["chunkManifest"] = "sha1://nothex"
    with pytest.raises(InvalidUriError, match="invalid URI 'sha1://nothex'"):
        load_recording(store.store_json(obj))


@pytest.fixture
def compressing_liar(site_a):
    """A peer that serves /api/chunks well-formed (zlib, with the codec header) but of other bytes, or, with
    ``mode["bomb"]``, a body that inflates to more than was asked for."""
    import urllib.parse
    import zlib

    mode = {"bomb": False}

    class Handler(QuietHandler):
        def do_GET(self):  # noqa: N802 (the http.server naming)
            url = urllib.parse.urlsplit(self.path)
            q = urllib.parse.parse_qs(url.query)
            n = int(q["end"][0]) - int(q["start"][0])
            body = zlib.compress(b"\0" * (n * 1000 if mode["bomb"] else n))
            self.send_response(200)
            self.send_header("X-Sortingview-Codec", "zlib")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with serve_in_thread(Handler) as url:
        yield url, mode


def test_compressed_chunks_are_verified_after_decompression(store_b, site_a, compressing_liar):
    from sortingview.store.peer_http import Peer
    from sortingview.store.remote_binary import RemoteFile

    liar, mode = compressing_liar
    manifest_uri, sha1 = _object_manifest_uri(site_a), site_a["binary_sha1"]
    for bomb, offset in ((False, 0), (True, 100_000)):  # other bytes, then a body that inflates to too many
        mode["bomb"] = bomb
        with open(site_a["ds"].binary_paths[0], "rb") as f:
            expected = os.pread(f.fileno(), 20_000, offset)
        what = r"compressed bytes .*inflate to exactly" if bomb else r"chunk \d+ \(bytes"
        with pytest.warns(P.PeerWarning, match=f"peer {liar} sent bytes of sha1://{sha1} .*{what}"):
            remote = RemoteFile(sha1, [Peer(liar), Peer(site_a["url"])], 4096, manifest_uri=manifest_uri)
            assert remote.read(offset, 20_000) == expected  # from A, compressed too, after the liar was skipped


def test_a_reader_can_ask_for_plain_ranges_and_gets_the_same_bytes(store_b, site_a, monkeypatch):
    from sortingview.store.peer_http import Peer
    from sortingview.store.remote_binary import RemoteFile

    manifest_uri, sha1 = _object_manifest_uri(site_a), site_a["binary_sha1"]
    got = {}
    for compress in ("1", "0"):
        monkeypatch.setenv("SORTINGVIEW_PEER_COMPRESS", compress)
        remote = RemoteFile(sha1, [Peer(site_a["url"])], 4096, manifest_uri=manifest_uri)
        remote._cache_path = lambda c=compress: os.path.join(str(store_b), f"cache-{c}")  # no shared cache
        wire, raw = STATS.bytes_received, STATS.raw_bytes
        got[compress] = (remote.read(1_000_000, 500_000), STATS.bytes_received - wire, STATS.raw_bytes - raw)
    assert got["1"][0] == got["0"][0]
    assert got["0"][1] == got["0"][2] == got["1"][2]  # plain: the wire carries the raw bytes
    assert got["1"][1] < 0.9 * got["1"][2]


def test_the_chunks_route_checks_its_range_and_codec(site_a):
    sha1 = site_a["binary_sha1"]
    size = site_a["binary_size"]
    for query, status in (("start=0&end=100&codec=gzip", 400), ("start=10&end=10&codec=zlib", 400),
                          (f"start=0&end={size + 1}&codec=zlib", 400), ("start=-1&end=5&codec=zlib", 400),
                          (f"start=0&end={33 * 2**20}&codec=zlib", 400)):
        assert http(f"{site_a['url']}/api/chunks/{sha1}?{query}")[0] == status, query
    assert http(f"{site_a['url']}/api/chunks/{'0' * 40}?start=0&end=5&codec=zlib")[0] == 404
    from sortingview.store.chunk_codec import CodecError, decode, encode

    assert decode(encode(b"abc" * 1000), 3000) == b"abc" * 1000
    for body, n in ((encode(b"abc" * 1000), 2999), (encode(b"abc" * 1000), 3001), (b"not zlib", 5),
                    (encode(b"x") + b"trailing", 1)):
        with pytest.raises(CodecError):
            decode(body, n)


def test_a_copied_remote_file_has_its_own_descriptor_and_lock():
    """Two objects must never close one descriptor number (the second close would hit whatever the process
    opened under that number in between): a copy opens its own cache descriptor."""
    import copy
    import os
    import threading

    from sortingview.store.remote_binary import RemoteFile

    original = RemoteFile.__new__(RemoteFile)  # the fields that matter here; no peer is needed
    r, w = os.pipe()
    original.__dict__.update(sha1="0" * 40, _fd=r, _lock=threading.Lock())
    duplicate = copy.copy(original)
    assert duplicate._fd is None and duplicate._lock is not original._lock
    duplicate.close()
    os.fstat(r)  # still open: the copy did not close it
    original.close()
    original.close()  # closing twice closes once
    with pytest.raises(OSError):  # closed now
        os.fstat(r)
    os.close(w)


def test_a_remote_file_closes_quietly_at_exit_and_after_a_failed_start(tmp_path):
    """No "Exception ignored in RemoteFile.__del__" on stderr: for a file whose constructor raised (it has no
    lock), and for one still open when the interpreter tears its modules down."""
    import subprocess
    import sys

    script = tmp_path / "exit.py"
    script.write_text(
        "import os, threading\n"
        "from sortingview.store import remote_binary as rb\n"
        "f = rb.RemoteFile.__new__(rb.RemoteFile)\n"
        "f._lock, f._fd = threading.Lock(), os.open(__file__, os.O_RDONLY)\n"
        "rb.KEEP = f  # collected as the modules are torn down\n"
        "try:\n"
        "    rb.RemoteFile('0' * 40, [], 12288)  # no peers: its constructor raises\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__)\n")
    import sortingview

    here = os.path.dirname(os.path.dirname(sortingview.__file__))  # this code, whichever is installed
    env = dict(os.environ, KACHERY_CLOUD_DIR=str(tmp_path / "store"),
               PYTHONPATH=os.pathsep.join([here, os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "NotFoundError", out.stderr
    assert "Exception ignored" not in out.stderr and "Traceback" not in out.stderr, out.stderr
