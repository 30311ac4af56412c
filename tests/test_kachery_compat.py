"""Byte compatibility with the real kachery-cloud package's local store (``*_local`` functions).

kachery-cloud reads ``KACHERY_CLOUD_DIR`` at each call, so pointing it at the test's store directory makes
both tools share one store. At import it also picks a sandbox folder from the environment; the fixture sets
that first, so importing it touches nothing outside the test's directory.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import sortingview.store as sv_store
from sortingview.errors import LinkedFileChangedError, NotFoundError, SerializationError
from sortingview.serialize import store_json_bytes

JSON_OBJECTS = [
    {"b": 1, "a": 2, "c": {"z": [1, 2, {"y": None, "x": True}], "a": False}},
    {"unicode": "é ü ß 中文 😀", "ключ": "значение", "ctrl": "line\nnext\ttab\x00\x1f\"'\\/"},
    {"floats": [0.1, 1.5, -2.25, 1e-300, 1.7976931348623157e308, 5e-324, 1.0, -0.0, 123456789.125]},
    {"big": [2**63, -(2**63) - 1, 2**100, 10**40, 0, -1]},
    [[], {}, "", [[[]]], 3.0],
    "just a string",
    12.5,
    None,
    {"samplingFrequency": 30000.0, "channelIds": [1, 2, 3], "label": "tetrode 1/2 & 3"},
]


@pytest.fixture
def kc(store_dir, monkeypatch):
    monkeypatch.setenv("KACHERY_CLOUD_SANDBOX_DIR", str(store_dir / "sandbox"))
    monkeypatch.setenv("KACHERY_CLOUD_USE_SANDBOX", "0")
    import kachery_cloud

    assert kachery_cloud.get_kachery_cloud_dir() == str(store_dir)
    return kachery_cloud


@pytest.fixture
def big_file(tmp_path):
    """Over kachery-cloud's 1 MB threshold for caching sha1s."""
    p = tmp_path / "big.dat"
    p.write_bytes(np.random.default_rng(1).integers(0, 256, 1_500_000, dtype=np.uint8).tobytes())
    return p


@pytest.mark.parametrize("obj", JSON_OBJECTS, ids=range(len(JSON_OBJECTS)))
def test_same_json_same_sha1_both_ways(kc, obj):
    theirs = kc.store_json_local(obj)
    ours = sv_store.store_json(obj)
    assert ours == theirs
    assert sv_store.load_json(theirs) == kc.load_json(ours, local_only=True)
    import simplejson

    expected = simplejson.dumps(obj, separators=(",", ":"), allow_nan=False, sort_keys=True).encode()
    assert store_json_bytes(obj) == expected


def test_nan_is_refused_like_kachery_cloud(kc):
    with pytest.raises(ValueError):
        kc.store_json_local({"a": float("nan")})
    with pytest.raises(SerializationError, match="nan"):
        sv_store.store_json({"a": float("nan")})


def test_their_text_and_files_load_here(kc, tmp_path):
    uri = kc.store_text_local("neuron 7 fires ✓", label="note.txt")
    assert sv_store.load_text(uri) == "neuron 7 fires ✓"
    p = tmp_path / "spikes.npz"
    p.write_bytes(os.urandom(5000))
    uri = kc.store_file_local(str(p), label="spikes.npz")
    assert uri.endswith("?label=spikes.npz")
    path = sv_store.load_file(uri, verify=True)
    assert path == kc.load_file(uri, local_only=True)
    assert open(path, "rb").read() == p.read_bytes()


def test_their_npy_loads_here_and_ours_there(kc):
    a = np.linspace(-1, 1, 24, dtype=np.float32).reshape(4, 6)
    assert np.array_equal(sv_store.load_npy(kc.store_npy_local(a)), a)
    b = np.arange(10, dtype=np.uint64)
    assert np.array_equal(kc.load_npy(sv_store.store_npy(b), local_only=True), b)


def test_our_objects_load_there(kc, tmp_path):
    obj = {"format": "binary_recording", "version": 1, "data": {"numChannels": 4, "fs": 30000.0}}
    assert kc.load_json(sv_store.store_json(obj), local_only=True) == obj
    assert kc.load_text(sv_store.store_text("ü text"), local_only=True) == "ü text"
    p = tmp_path / "x.bin"
    p.write_bytes(b"\x00\x01" * 1000)
    uri = sv_store.store_file(str(p))
    assert open(kc.load_file(uri, local_only=True), "rb").read() == p.read_bytes()


def test_their_links_load_here_and_changes_are_caught(kc, big_file):
    uri = kc.link_file(str(big_file), label="big.dat")
    assert sv_store.load_file(uri, verify=True) == str(big_file)
    with open(big_file, "ab") as f:
        f.write(b"!")
    with pytest.raises(LinkedFileChangedError, match="size"):
        sv_store.load_file(uri)


def test_our_links_load_there(kc, big_file, tmp_path):
    uri = sv_store.link_file(str(big_file))
    assert kc.load_file(uri, local_only=True) == str(big_file)
    small = tmp_path / "small.txt"
    small.write_text("small linked file")
    assert kc.load_text(sv_store.link_file(str(small)), local_only=True) == "small linked file"


def test_link_records_are_byte_identical(kc, big_file, store_dir):
    uri = kc.link_file(str(big_file))
    sha1 = sv_store.parse_uri(uri).sha1
    record = store_dir / "linked_files" / "sha1" / sha1[:2] / sha1[2:4] / sha1[4:6] / sha1
    theirs = record.read_bytes()
    record.unlink()
    assert sv_store.link_file(str(big_file)) == f"sha1://{sha1}?label=big.dat"
    assert record.read_bytes() == theirs
    assert json.loads(theirs)["path"] == str(big_file)


def test_sha1_cache_is_shared(kc, big_file, tmp_path):
    import hashlib

    key = f"@compute_sha1_cache/{hashlib.sha1(str(big_file).encode()).hexdigest()}"
    sha1 = sv_store.parse_uri(sv_store.link_file(str(big_file))).sha1
    cached = json.loads(kc.get_mutable_local(key))
    assert cached == {"path": str(big_file), "size": 1_500_000, "mtime": os.stat(big_file).st_mtime, "sha1": sha1}

    # the other way: a cache entry kachery-cloud wrote is what we use (we plant a marker value in it to
    # see that we read it rather than hashing the file again)
    other = tmp_path / "other.dat"
    other.write_bytes(os.urandom(1_200_000))
    kc.link_file(str(other))
    okey = f"@compute_sha1_cache/{hashlib.sha1(str(other).encode()).hexdigest()}"
    rec = json.loads(kc.get_mutable_local(okey))
    rec["sha1"] = "f" * 40
    kc.set_mutable_local(okey, json.dumps(rec))
    assert sv_store.link_file(str(other)).startswith("sha1://" + "f" * 40)


def test_mutables_both_ways(kc):
    kc.set_mutable_local("@lab/@curations/sorting1", "feed://abcd1234")
    assert sv_store.get_mutable("@lab/@curations/sorting1") == "feed://abcd1234"
    sv_store.set_mutable("@lab/@curations/sorting2", "ünï")
    assert kc.get_mutable_local("@lab/@curations/sorting2") == "ünï"
    assert sv_store.get_store().list_mutables("@lab/@curations") == ["sorting1", "sorting2"]


def test_kachery_cloud_local_functions_need_no_network(store_dir, tmp_path):
    """Import and use kachery-cloud's local functions with every socket connection refused."""
    code = (
        "import socket\n"
        "def refuse(*a, **k): raise OSError('network used')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "import kachery_cloud as kc\n"
        "u = kc.store_json_local({'a': 1})\n"
        "assert kc.load_json(u, local_only=True) == {'a': 1}\n"
        "print(u)\n"
    )
    env = {**os.environ, "KACHERY_CLOUD_DIR": str(store_dir), "KACHERY_CLOUD_SANDBOX_DIR": str(tmp_path / "sb")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == sv_store.store_json({"a": 1})


def test_their_reference_uris_resolve_to_the_file(kc, tmp_path):
    """store_file_local(reference=True) copies nothing and names the file in &location=."""
    p = tmp_path / "referenced.txt"
    p.write_text("referenced, not copied")
    uri = kc.store_file_local(str(p), label="referenced.txt", reference=True)
    assert "location=" in uri
    assert sv_store.load_file(uri) == str(p)
    assert sv_store.load_text(uri) == "referenced, not copied"
    p.write_text("changed content")
    with pytest.raises(NotFoundError):
        sv_store.load_file(uri)
