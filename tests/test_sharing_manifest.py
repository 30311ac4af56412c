"""The chunk manifest of a linked recording file is computed in the same read as the link's sha1.

Bytes read are counted with the kernel's per-process counter (/proc/self/io ``rchar``), so "one read" is a
count, not a time."""
from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest
import spikeinterface.core as si
from sharing_support import assert_manifest_of

from sortingview import store
from sortingview.extractors import store_recording
from sortingview.store.chunk_manifest import build_manifest, hash_in_chunks, manifest_key, parse_manifest

CHUNK = 16 * 384 * 2  # the recordings' chunk: 16 frames of 384 int16 channels


def _rchar() -> int:
    with open("/proc/self/io") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("rchar:"))


@pytest.fixture
def big_file(tmp_path):
    path = tmp_path / "traces.raw"
    rng = np.random.default_rng(3)
    data = rng.integers(-300, 300, size=384 * 40_000 + 123, dtype=np.int16)  # ends in a partial chunk
    path.write_bytes(data.tobytes())
    return str(path)


def test_the_manifest_from_the_links_read_is_the_one_computed_separately(store_dir, big_file):
    size = os.path.getsize(big_file)
    before = _rchar()
    uri, manifest_uri = store.link_file_with_manifest(big_file, CHUNK)
    read = _rchar() - before
    assert size <= read < 1.2 * size  # one read of the file (plus the store's small files)
    sha1 = store.parse_uri(uri).sha1
    with open(big_file, "rb") as f:
        assert sha1 == hashlib.sha1(f.read()).hexdigest()
    data = store.load_bytes(manifest_uri)
    assert data == build_manifest(big_file, sha1, CHUNK).to_bytes()  # the separate two-hash pass
    m = parse_manifest(data, sha1, CHUNK)
    assert m.version == 2  # the file's own sha1 gave every chunk's entry
    assert_manifest_of(m, big_file)
    assert store.get_store().get_mutable(manifest_key(sha1, CHUNK)) == store.parse_uri(manifest_uri).sha1
    assert store.load_bytes(uri) == open(big_file, "rb").read()  # the link serves the file
    # linking the unchanged file again reads nothing of it: the sha1 and the manifest are reused
    before = _rchar()
    assert store.link_file_with_manifest(big_file, CHUNK) == (uri, manifest_uri)
    assert _rchar() - before < size / 100


def test_the_two_read_path_it_replaces_reads_twice(store_dir, big_file):
    """What the single read saves (the counter sees it: the old path, link then manifest, read the file twice)."""
    from sortingview.store.chunk_manifest import manifest_of_local

    size = os.path.getsize(big_file)
    before = _rchar()
    sha1 = store.parse_uri(store.link_file(big_file)).sha1
    manifest_of_local(store.get_store(), sha1, CHUNK)
    assert _rchar() - before >= 2 * size


def test_a_stored_binary_recording_reads_its_file_once_and_names_the_same_manifest(store_dir, tmp_path):
    path = tmp_path / "rec.raw"
    rng = np.random.default_rng(4)
    path.write_bytes(rng.integers(-500, 500, size=(30_000, 64), dtype=np.int16).tobytes())
    rec = si.BinaryRecordingExtractor(str(path), sampling_frequency=30_000.0, dtype="int16", num_channels=64)
    before = _rchar()
    obj = store.load_json(store_recording(rec))
    assert _rchar() - before < 1.2 * os.path.getsize(path)
    seg = obj["data"]["segments"][0]
    sha1 = store.parse_uri(seg["fileUri"]).sha1
    chunk = parse_manifest(store.load_bytes(seg["chunkManifest"]), sha1, None).chunk_size
    assert store.load_bytes(seg["chunkManifest"]) == build_manifest(str(path), sha1, chunk).to_bytes()


def test_a_file_that_is_not_the_linked_one_is_not_given_its_manifest(tmp_path):
    path = tmp_path / "f.raw"
    path.write_bytes(b"x" * 5000)
    m = hash_in_chunks(str(path), 1024)
    assert m.sha1 == hashlib.sha1(b"x" * 5000).hexdigest() and m.num_chunks == 5 and m.size == 5000
    from sortingview.errors import IntegrityError

    with pytest.raises(IntegrityError, match="no longer hashes to"):
        build_manifest(str(path), "0" * 40, 1024)


def test_chunks_of_a_multiple_of_64_bytes_take_their_entries_from_the_files_one_sha1(tmp_path, monkeypatch):
    """Version 2 when the chunks are whole SHA-1 blocks and OpenSSL's SHA-1 is reachable, version 1 otherwise;
    both describe the file, and version 2 chunks check with the numba SHA-1 too (a Python without OpenSSL's
    symbols reading another site's manifest)."""
    from sortingview.store import sha1_chain

    rng = np.random.default_rng(5)
    for size in (0, 100, 4096, 4096 * 7, 4096 * 7 + 1000):
        path = tmp_path / f"f{size}.raw"
        path.write_bytes(rng.bytes(size))
        m = hash_in_chunks(str(path), 4096)
        assert m.version == 2 and m.sha1 == hashlib.sha1(path.read_bytes()).hexdigest()
        assert_manifest_of(parse_manifest(m.to_bytes(), m.sha1, 4096), str(path))
        odd = hash_in_chunks(str(path), 4000)  # not whole 64-byte blocks: each chunk's own sha1
        assert odd.version == 1 and odd.sha1 == m.sha1
        assert_manifest_of(odd, str(path))
    path = tmp_path / f"f{4096 * 7 + 1000}.raw"
    with monkeypatch.context() as mp:
        mp.setattr(sha1_chain, "available", lambda: False)
        assert hash_in_chunks(str(path), 4096).version == 1
    with monkeypatch.context() as mp:
        mp.setattr(sha1_chain, "_kernels", lambda: None)  # checks by the numba SHA-1
        assert_manifest_of(m, str(path))


def test_a_manifest_of_an_unknown_version_or_not_ending_in_the_files_sha1_is_refused(tmp_path):
    from sortingview.store.chunk_manifest import ManifestError

    path = tmp_path / "f.raw"
    path.write_bytes(b"y" * 9000)
    m = hash_in_chunks(str(path), 4096)
    data = m.to_bytes()
    assert parse_manifest(data, m.sha1, 4096).num_chunks == 3
    with pytest.raises(ManifestError, match="version b'3', which this sortingview does not read"):
        parse_manifest(data.replace(b"manifest 2", b"manifest 3", 1), m.sha1, 4096)
    with pytest.raises(ManifestError, match="ends in the file's sha1"):
        parse_manifest(data[:-20] + bytes(20), m.sha1, 4096)
    with pytest.raises(ManifestError, match="lists chaining values"):
        m.chunk_sha1(0)
