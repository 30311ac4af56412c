"""One conformance suite for every Store: LocalStore (a kachery-cloud directory) and MemoryStore.

A new store implementation is proven by adding it to the ``harness`` fixture.
"""
from __future__ import annotations

import hashlib
import json
import os
import tracemalloc

import numpy as np
import pytest

import sortingview.store as sv_store
from sortingview.errors import (
    FeedError,
    IntegrityError,
    InvalidMutableKeyError,
    InvalidMutableValueError,
    InvalidUriError,
    LinkedFileChangedError,
    NotFoundError,
    SerializationError,
    SortingviewError,
)
from sortingview.store import LocalStore, MemoryStore

MISSING = "0123456789abcdef0123456789abcdef01234567"


class Harness:
    """A store plus the one thing the suite cannot do through the Store API: damage stored bytes."""

    def __init__(self, store, corrupt):
        self.store = store
        self.corrupt = corrupt


def _corrupt_local(store: LocalStore):
    def corrupt(sha1: str) -> None:
        path = store.local_path(sha1)
        with open(path, "r+b") as f:
            first = f.read(1)
            f.seek(0)
            f.write(bytes([first[0] ^ 0xFF]))
    return corrupt


def _corrupt_memory(store: MemoryStore):
    def corrupt(sha1: str) -> None:
        data = bytearray(store._blobs[sha1])
        data[0] ^= 0xFF
        store._blobs[sha1] = bytes(data)
    return corrupt


@pytest.fixture(params=["local", "memory"])
def harness(request, store_dir):
    if request.param == "local":
        st = LocalStore(str(store_dir))
        h = Harness(st, _corrupt_local(st))
    else:
        st = MemoryStore()
        h = Harness(st, _corrupt_memory(st))
    with sv_store.use_store(st):
        yield h


@pytest.fixture
def data_file(tmp_path):
    p = tmp_path / "data" / "traces.bin"
    p.parent.mkdir()
    p.write_bytes(np.random.default_rng(0).integers(0, 256, 300_000, dtype=np.uint8).tobytes())
    return p


def _touch_later(path, seconds: float = 5.0) -> None:
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + int(seconds * 1e9)))


class TestStoreConformance:
    # content ------------------------------------------------------------------------------------------
    def test_put_bytes_returns_sha1_and_reads_back(self, harness):
        st = harness.store
        sha1 = st.put_bytes(b"hello spikes")
        assert sha1 == hashlib.sha1(b"hello spikes").hexdigest()
        assert st.has(sha1)
        assert st.read_bytes(sha1) == b"hello spikes"
        assert st.put_bytes(b"hello spikes") == sha1  # storing again is a no-op with the same name

    def test_empty_content_is_storable(self, harness):
        sha1 = harness.store.put_bytes(b"")
        assert harness.store.read_bytes(sha1, verify=True) == b""

    def test_put_file_copies_bytes(self, harness, data_file):
        st = harness.store
        sha1 = st.put_file(str(data_file))
        assert sha1 == hashlib.sha1(data_file.read_bytes()).hexdigest()
        original = data_file.read_bytes()
        data_file.unlink()  # a stored file no longer depends on the original
        with open(st.local_path(sha1), "rb") as f:
            assert f.read() == original

    def test_link_references_in_place(self, harness, data_file):
        st = harness.store
        sha1 = st.link(str(data_file))
        assert sha1 == hashlib.sha1(data_file.read_bytes()).hexdigest()
        assert st.has(sha1)
        assert st.local_path(sha1) == str(data_file)
        assert st.local_path(sha1, verify=True) == str(data_file)
        assert st.link(str(data_file)) == sha1

    def test_link_survives_touch_without_change(self, harness, data_file):
        sha1 = harness.store.link(str(data_file))
        _touch_later(data_file)
        assert harness.store.local_path(sha1) == str(data_file)

    def test_changed_file_gets_a_new_hash_when_stored_or_linked_again(self, harness, data_file):
        st = harness.store
        first = st.put_file(str(data_file))
        assert st.link(str(data_file)) == first
        data = bytearray(data_file.read_bytes())
        data[5] ^= 0xFF
        data_file.write_bytes(bytes(data))
        _touch_later(data_file)
        expected = hashlib.sha1(bytes(data)).hexdigest()
        assert st.put_file(str(data_file)) == expected != first
        assert st.link(str(data_file)) == expected
        assert st.read_bytes(first, verify=True) != st.read_bytes(expected, verify=True)

    def test_has_is_false_for_missing_and_checks_the_hash(self, harness):
        assert not harness.store.has(MISSING)
        with pytest.raises(InvalidUriError, match="40"):
            harness.store.has("../../etc/passwd")

    def test_missing_content_is_not_found_with_advice(self, harness):
        with pytest.raises(NotFoundError) as ei:
            harness.store.local_path(MISSING)
        assert MISSING in str(ei.value) and "store" in str(ei.value)

    def test_module_functions_round_trip(self, harness, data_file):
        uri = sv_store.store_text("μ-probe ✓", label="note.txt")
        assert uri.endswith("?label=note.txt")
        assert sv_store.load_text(uri) == "μ-probe ✓"
        obj = {"b": [1, 2.5, None, True], "a": {"nested": "é"}}
        assert sv_store.load_json(sv_store.store_json(obj)) == obj
        arr = np.arange(12, dtype=np.int16).reshape(3, 4)
        loaded = sv_store.load_npy(sv_store.store_npy(arr))
        assert loaded.dtype == np.int16 and np.array_equal(loaded, arr)
        linked = sv_store.link_file(str(data_file), label="x y")
        assert linked.endswith("?label=x%20y")
        assert sv_store.load_file(linked) == str(data_file)
        uri = sv_store.store_file(str(data_file))
        assert uri.endswith("?label=traces.bin")
        assert sv_store.load_bytes(uri) == data_file.read_bytes()
        assert sv_store.load_file(uri) != str(data_file)  # a stored copy is preferred over the link

    def test_kachery_uri_form_loads(self, harness):
        uri = sv_store.store_text("abc")
        sha1 = sv_store.parse_uri(uri).sha1
        assert sv_store.load_text(f"kachery:lab:sha1:{sha1}:notes.txt") == "abc"
        assert sv_store.load_text(f"sha1://{sha1.upper()}") == "abc"

    @pytest.mark.parametrize("bad", [
        "sha1://../..", "sha1://../../etc/passwd", "sha1://abc", "sha1://" + "g" * 40, "sha256://" + "a" * 64,
        "/etc/passwd", "", "sha1://" + "a" * 40 + "/../x", "kachery:zone:sha256:" + "a" * 40,
        "kachery:zone:sha1:abc", "kachery:" + "a" * 40,
    ])
    def test_malformed_and_non_sha1_uris_are_refused(self, harness, bad):
        with pytest.raises(InvalidUriError) as ei:
            sv_store.load_file(bad)
        msg = str(ei.value)
        assert "invalid URI" in msg and "sha1://" in msg

    def test_non_string_uri_is_refused(self, harness):
        with pytest.raises(InvalidUriError, match="URI string"):
            sv_store.load_file(12345)

    def test_stored_file_altered_fails_verify(self, harness):
        st = harness.store
        sha1 = st.put_bytes(b"original bytes of a sorting")
        harness.corrupt(sha1)
        with pytest.raises(IntegrityError) as ei:
            st.local_path(sha1, verify=True)
        assert sha1 in str(ei.value) and "store" in str(ei.value) and "again" in str(ei.value)
        with pytest.raises(IntegrityError):
            sv_store.load_file(f"sha1://{sha1}", verify=True)

    def test_linked_file_changed_same_size(self, harness, data_file):
        sha1 = harness.store.link(str(data_file))
        data = bytearray(data_file.read_bytes())
        data[1000] ^= 0x01
        data_file.write_bytes(bytes(data))
        _touch_later(data_file)
        with pytest.raises(LinkedFileChangedError) as ei:
            harness.store.local_path(sha1)
        msg = str(ei.value)
        assert str(data_file) in msg and "modified" in msg and "restore" in msg

    def test_linked_file_changed_size(self, harness, data_file):
        sha1 = harness.store.link(str(data_file))
        with open(data_file, "ab") as f:
            f.write(b"more")
        with pytest.raises(LinkedFileChangedError) as ei:
            harness.store.read_bytes(sha1)
        assert "size" in str(ei.value) and "restore" in str(ei.value)

    def test_linked_file_vanished(self, harness, data_file):
        sha1 = harness.store.link(str(data_file))
        data_file.unlink()
        with pytest.raises(LinkedFileChangedError) as ei:
            harness.store.local_path(sha1)
        assert "no longer exists" in str(ei.value) and "link" in str(ei.value)
        assert isinstance(ei.value, IntegrityError)  # callers that catch IntegrityError catch this too

    def test_linked_file_changed_in_place_caught_by_verify(self, harness, data_file):
        """Same size, same mtime (restored by a tool), different bytes: only verify can tell."""
        sha1 = harness.store.link(str(data_file))
        st = os.stat(data_file)
        data = bytearray(data_file.read_bytes())
        data[0] ^= 0x01
        data_file.write_bytes(bytes(data))
        os.utime(data_file, ns=(st.st_atime_ns, st.st_mtime_ns))
        with pytest.raises(LinkedFileChangedError):
            harness.store.local_path(sha1, verify=True)

    @pytest.mark.parametrize("path", ["does/not/exist.bin", "."])
    def test_storing_a_missing_file_or_folder(self, harness, tmp_path, path):
        with pytest.raises(NotFoundError) as ei:
            harness.store.put_file(str(tmp_path / path))
        assert "existing file" in str(ei.value)
        with pytest.raises(NotFoundError):
            harness.store.link(str(tmp_path / path))

    def test_wrong_types_are_clear_errors(self, harness):
        with pytest.raises(SerializationError, match="store_json"):
            sv_store.store_text({"a": 1})
        with pytest.raises(SerializationError, match="store_bytes takes bytes"):
            sv_store.store_bytes("text")
        with pytest.raises(SerializationError, match="numeric dtype"):
            sv_store.store_npy(np.array([{"a": 1}], dtype=object))
        with pytest.raises(SerializationError, match="encode_value"):
            sv_store.store_json({"a": np.arange(3)})

    def test_loading_non_json_and_non_text(self, harness):
        uri = sv_store.store_bytes(b"\xff\xfe not json")
        with pytest.raises(SerializationError, match="load_file"):
            sv_store.load_json(uri)
        with pytest.raises(SerializationError, match="UTF-8"):
            sv_store.load_text(uri)
        with pytest.raises(SerializationError, match="npy"):
            sv_store.load_npy(uri)

    # mutables -----------------------------------------------------------------------------------------
    def test_mutables_set_get_delete_list(self, harness):
        st = harness.store
        assert st.get_mutable("@sortingview/@workspaces/w1") is None
        st.set_mutable("@sortingview/@workspaces/w1", "feed://abc")
        st.set_mutable("@sortingview/@workspaces/w2", "ünïcode")
        st.set_mutable("@sortingview/@workspaces/@deeper/w3", "x")
        st.set_mutable("@sortingview/@workspaces/w1", "feed://def")  # overwrite
        assert st.get_mutable("@sortingview/@workspaces/w1") == "feed://def"
        assert st.get_mutable("@sortingview/@workspaces/w2") == "ünïcode"
        assert st.list_mutables("@sortingview/@workspaces") == ["w1", "w2"]
        assert st.list_mutables("@sortingview/@workspaces/") == ["w1", "w2"]
        assert st.list_mutables("@nothing/@here") == []
        assert st.delete_mutable("@sortingview/@workspaces/w1") is True
        assert st.delete_mutable("@sortingview/@workspaces/w1") is False
        assert st.list_mutables("@sortingview/@workspaces") == ["w2"]
        sv_store.set_mutable("@a/b", "1")
        assert sv_store.get_mutable("@a/b") == "1"

    def test_mutable_names_that_look_like_temp_files_are_listed(self, harness):
        harness.store.set_mutable("@f/v.tmp", "1")
        harness.store.set_mutable("@f/.hidden", "2")
        assert harness.store.list_mutables("@f") == [".hidden", "v.tmp"]

    @pytest.mark.parametrize("key,words", [
        ("@a/../b", ["'..'", "@group"]),
        ("../../etc/passwd", ["'..'"]),
        ("a/b", ["'@a'"]),
        ("@a/@b", ["must not start with '@'"]),
        ("@a//b", ["empty"]),
        ("", ["non-empty"]),
        ("@a/./b", ["'.'"]),
        ("@a\\..\\b/c", ["not allowed"]),
    ])
    def test_bad_mutable_keys(self, harness, key, words):
        with pytest.raises(InvalidMutableKeyError) as ei:
            harness.store.set_mutable(key, "v")
        for w in words:
            assert w in str(ei.value)
        with pytest.raises(InvalidMutableKeyError):
            harness.store.get_mutable(key)

    def test_bad_mutable_folder(self, harness):
        with pytest.raises(InvalidMutableKeyError):
            harness.store.list_mutables("@a/../@b")
        with pytest.raises(InvalidMutableKeyError):
            harness.store.list_mutables("plain")

    def test_mutable_value_must_be_text(self, harness):
        with pytest.raises(InvalidMutableValueError, match="json.dumps"):
            harness.store.set_mutable("@a/b", {"x": 1})

    # feeds --------------------------------------------------------------------------------------------
    def test_feed_append_and_read(self, harness):
        feed = sv_store.create_feed()
        assert feed.uri.startswith("feed://")
        assert feed.get_records() == [] and feed.num_messages == 0
        assert feed.append_message({"action": "ADD_UNIT_LABEL", "unitId": 3}, user_id="alice") == 0
        assert feed.append_messages([{"i": 1}, {"i": 2}, {"é": 1.5}]) == [1, 2, 3]
        recs = feed.get_records()
        assert [r["messageNumber"] for r in recs] == [0, 1, 2, 3]
        assert recs[0]["userId"] == "alice" and recs[1]["userId"] is None
        assert all(isinstance(r["timestamp"], (int, float)) and r["timestamp"] > 1.6e12 for r in recs)
        assert feed.get_messages(2) == [{"i": 2}, {"é": 1.5}]
        assert feed.num_messages == 4
        again = sv_store.load_feed(feed.uri)
        assert again.get_records() == recs
        assert feed.feed_id in list(harness.store.feed_ids())

    def test_feed_read_from_every_start(self, harness):
        feed = sv_store.create_feed()
        feed.append_message({"n": 0})
        feed.append_messages([{"n": 1}, {"n": 2}, {"n": 3}])
        feed.append_message({"n": 4})
        feed.append_messages([{"n": 5}, {"n": 6}])
        everything = feed.get_records()
        for start in range(9):
            assert feed.get_records(start) == everything[start:]
            assert [m["n"] for m in feed.get_messages(start)] == list(range(start, 7))

    def test_feed_records_are_copies(self, harness):
        feed = sv_store.create_feed()
        feed.append_message({"labels": ["good"]})
        feed.get_messages()[0]["labels"].append("changed by caller")
        assert feed.get_messages() == [{"labels": ["good"]}]

    def test_feed_refuses_bad_messages_without_writing(self, harness):
        feed = sv_store.create_feed()
        with pytest.raises(SerializationError, match="feed message 1"):
            feed.append_messages([{"ok": 1}, {"bad": float("nan")}])
        with pytest.raises(FeedError, match="list"):
            harness.store.feed_append(feed.feed_id, {"not": "a list"})
        with pytest.raises(FeedError, match="user_id"):
            feed.append_message({"a": 1}, user_id=7)
        assert feed.num_messages == 0

    def test_missing_and_duplicate_feeds(self, harness):
        with pytest.raises(FeedError) as ei:
            sv_store.load_feed("feed://" + "ab" * 20)
        assert "KACHERY_CLOUD_DIR" in str(ei.value)
        with pytest.raises(FeedError, match="create"):
            harness.store.feed_append("ab" * 20, [{"a": 1}])
        with pytest.raises(FeedError):
            harness.store.feed_read("ab" * 20)
        feed = sv_store.create_feed()
        with pytest.raises(FeedError, match="already exists"):
            harness.store.feed_create(feed.feed_id)

    @pytest.mark.parametrize("bad", ["feed://", "feed://../../x", "feed://XYZ", "sha1://" + "a" * 40, "feed://ab"])
    def test_bad_feed_uris(self, harness, bad):
        with pytest.raises(InvalidUriError) as ei:
            sv_store.load_feed(bad)
        assert "feed://" in str(ei.value) and "created" in str(ei.value)

    def test_wait_for_records_returns_existing_and_times_out_empty(self, harness):
        feed = sv_store.create_feed()
        assert feed.wait_for_records(0, timeout=0.05) == []
        feed.append_message({"a": 1})
        assert [r["message"] for r in feed.wait_for_records(0, timeout=5)] == [{"a": 1}]

    # task results -------------------------------------------------------------------------------------
    def test_task_results(self, harness):
        st = harness.store
        job = hashlib.sha1(b"job").hexdigest()
        assert st.get_task_result("sortingview.unit_metrics.1", job) is None
        payload = json.dumps({"metrics": []}).encode()
        st.put_task_result("sortingview.unit_metrics.1", job, payload)
        assert st.get_task_result("sortingview.unit_metrics.1", job) == payload
        assert st.get_task_result("sortingview.sorting_info.1", job) is None

    @pytest.mark.parametrize("name,job", [("../x", "a" * 40), ("ok.1", "../" + "a" * 37), ("a/b", "a" * 40)])
    def test_task_result_names_cannot_escape(self, harness, name, job):
        with pytest.raises(SortingviewError) as ei:
            harness.store.put_task_result(name, job, b"{}")
        assert "like 'sortingview.unit_metrics.1'" in str(ei.value) or "sha1 hash" in str(ei.value)


def test_large_arrays_are_stored_through_a_temp_file(store_dir, tmp_path):
    """A memmapped array bigger than the in-memory limit is written without loading it whole."""
    mm = np.lib.format.open_memmap(str(tmp_path / "big.npy"), mode="w+", dtype=np.int16, shape=(40_000_000,))
    mm[::1000] = np.arange(40_000, dtype=np.int16)
    mm.flush()
    tracemalloc.start()
    try:
        uri = sv_store.store_npy(mm, label="big.npy")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20, f"store_npy of an 80 MB memmap allocated {peak / 2**20:.0f} MiB"
    assert sv_store.parse_uri(uri).sha1 == hashlib.sha1((tmp_path / "big.npy").read_bytes()).hexdigest()
    back = sv_store.load_npy(uri, mmap=True)
    assert back.shape == (40_000_000,) and back[5000] == 5 and back[5001] == 0
