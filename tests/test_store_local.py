"""LocalStore specifics that the conformance suite cannot see: the files on disk."""
from __future__ import annotations

import hashlib
import json
import os

import pytest

from sortingview.errors import IntegrityError, NotFoundError
from sortingview.store import LocalStore


@pytest.fixture
def store(store_dir):
    return LocalStore(str(store_dir))


@pytest.fixture
def data_file(tmp_path):
    p = tmp_path / "rec.dat"
    p.write_bytes(os.urandom(100_000))
    return p


def _all_files(directory) -> list[str]:
    return sorted(os.path.relpath(os.path.join(r, f), directory) for r, _d, fs in os.walk(directory) for f in fs)


def test_layout_is_kacherys(store, store_dir, data_file):
    sha1 = store.put_bytes(b"abc")
    assert sha1 == "a9993e364706816aba3e25717850c26c9cd0d89d"
    assert (store_dir / "sha1" / "a9" / "99" / "3e" / sha1).read_bytes() == b"abc"
    lsha1 = store.link(str(data_file))
    rec = json.loads((store_dir / "linked_files" / "sha1" / lsha1[:2] / lsha1[2:4] / lsha1[4:6] / lsha1).read_text())
    assert rec == {"path": str(data_file), "size": 100_000, "mtime": os.stat(data_file).st_mtime, "sha1": lsha1}
    store.set_mutable("@a/@b/c", "v")
    assert (store_dir / "mutables" / "@a" / "@b" / "c").read_text() == "v"


def test_no_temp_files_are_left_behind(store, store_dir, data_file):
    store.put_file(str(data_file))
    store.put_file(str(data_file))
    store.put_bytes(b"x")
    store.set_mutable("@a/b", "1")
    store.put_task_result("t.1", "a" * 40, b"{}")
    assert not [f for f in _all_files(store_dir) if "@tmp." in f]


def test_special_files_are_refused_before_anything_is_written(store, store_dir, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # reading it would block forever
    with pytest.raises(NotFoundError, match="not a regular file"):
        store.put_file(str(fifo))
    with pytest.raises(NotFoundError, match="not a regular file"):
        store.link(str(fifo))
    assert not [f for f in _all_files(store_dir) if "@tmp." in f]


def test_linking_unchanged_file_again_writes_nothing(store, store_dir, data_file):
    sha1 = store.link(str(data_file))
    before = {f: os.stat(store_dir / f).st_mtime_ns for f in _all_files(store_dir)}
    for _ in range(3):
        assert store.link(str(data_file)) == sha1
    assert {f: os.stat(store_dir / f).st_mtime_ns for f in _all_files(store_dir)} == before


def test_storing_an_unchanged_file_again_uses_the_sha1_cache(store, data_file):
    sha1 = store.put_file(str(data_file))
    key = f"@compute_sha1_cache/{hashlib.sha1(str(data_file).encode()).hexdigest()}"
    assert json.loads(store.get_mutable(key))["sha1"] == sha1
    assert store.put_file(str(data_file)) == sha1


def test_damaged_sha1_cache_entry_is_recomputed(store, data_file):
    key = f"@compute_sha1_cache/{hashlib.sha1(str(data_file).encode()).hexdigest()}"
    store.set_mutable(key, "{not json")
    assert store.link(str(data_file)) == hashlib.sha1(data_file.read_bytes()).hexdigest()
    assert json.loads(store.get_mutable(key))["size"] == 100_000


def test_damaged_link_record_is_an_integrity_error(store, store_dir, data_file):
    sha1 = store.link(str(data_file))
    (store_dir / "linked_files" / "sha1" / sha1[:2] / sha1[2:4] / sha1[4:6] / sha1).write_text("{}")
    with pytest.raises(IntegrityError) as ei:
        store.local_path(sha1)
    assert "damaged" in str(ei.value) and "link the file again" in str(ei.value)


def test_touched_linked_file_record_is_updated(store, store_dir, data_file):
    sha1 = store.link(str(data_file))
    st = os.stat(data_file)
    os.utime(data_file, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert store.local_path(sha1) == str(data_file)
    rec_path = store_dir / "linked_files" / "sha1" / sha1[:2] / sha1[2:4] / sha1[4:6] / sha1
    assert json.loads(rec_path.read_text())["mtime"] == os.stat(data_file).st_mtime


CONCURRENT = r"""
import sys
from sortingview.store import LocalStore
st = LocalStore(sys.argv[1]); path = sys.argv[2]; w = sys.argv[3]
for i in range(20):
    print(st.put_file(path), st.link(path), st.put_bytes(f"{w}-{i}".encode()), flush=True)
    st.set_mutable("@race/value", f"{w}-{i}")
"""


def test_processes_storing_at_once_do_not_clash(store, store_dir, tmp_path):
    import subprocess
    import sys

    big = tmp_path / "shared.bin"
    big.write_bytes(os.urandom(3_000_000))
    expected = hashlib.sha1(big.read_bytes()).hexdigest()
    procs = [subprocess.Popen([sys.executable, "-c", CONCURRENT, str(store_dir), str(big), str(w)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for w in range(4)]
    for w, p in enumerate(procs):
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        lines = [line.split() for line in out.splitlines()]
        assert len(lines) == 20
        assert {(a, b) for a, b, _ in lines} == {(expected, expected)}
        assert [c for _, _, c in lines] == [hashlib.sha1(f"{w}-{i}".encode()).hexdigest() for i in range(20)]
    assert store.read_bytes(expected, verify=True) == big.read_bytes()
    assert store.get_mutable("@race/value") in {f"{w}-19" for w in range(4)}
    assert not [f for f in _all_files(store_dir) if "@tmp." in f]
