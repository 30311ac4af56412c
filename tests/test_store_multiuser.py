"""KACHERY_CLOUD_MULTI_USER=1: everything the store creates is group-writable (a store shared by a lab)."""
from __future__ import annotations

import os
import stat

import pytest

from sortingview.store import LocalStore


@pytest.fixture
def umask_022():
    old = os.umask(0o022)  # the usual default; the test must not depend on the runner's umask
    try:
        yield
    finally:
        os.umask(old)


def _fill(directory: str, tmp_path) -> None:
    st = LocalStore(directory)
    st.put_bytes(b"content")
    src = tmp_path / "src.bin"
    src.write_bytes(b"file content")
    st.put_file(str(src))
    st.link(str(src))
    st.set_mutable("@lab/@shared/value", "x")
    st.feed_create("ab" * 20)
    st.feed_append("ab" * 20, [{"a": 1}])
    st.put_task_result("sortingview.sorting_info.1", "cd" * 20, b"{}")


def _walk(directory: str):
    for root, _dirs, files in os.walk(directory):
        yield root, "dir"
        for f in files:
            yield os.path.join(root, f), "file"


def test_multi_user_makes_files_and_folders_group_writable(tmp_path, monkeypatch, umask_022):
    monkeypatch.setenv("KACHERY_CLOUD_MULTI_USER", "1")
    d = str(tmp_path / "shared" / "store")
    _fill(d, tmp_path)
    seen = {"dir": 0, "file": 0}
    for path, kind in _walk(d):
        mode = os.stat(path).st_mode
        assert mode & stat.S_IWGRP and mode & stat.S_IRGRP, f"{path} is {stat.filemode(mode)}"
        if kind == "dir":
            assert mode & stat.S_ISGID, f"{path} should pass its group on ({stat.filemode(mode)})"
        seen[kind] += 1
    assert seen["dir"] >= 15 and seen["file"] >= 6  # sha1/, linked_files/, mutables/, feeds/, task_results/
    assert os.stat(tmp_path / "shared").st_mode & stat.S_IWGRP  # parents the store created too


def test_without_multi_user_nothing_is_group_writable(tmp_path, monkeypatch, umask_022):
    monkeypatch.delenv("KACHERY_CLOUD_MULTI_USER", raising=False)
    d = str(tmp_path / "private" / "store")
    _fill(d, tmp_path)
    for path, _kind in _walk(d):
        mode = os.stat(path).st_mode
        assert not mode & stat.S_IWGRP, f"{path} is {stat.filemode(mode)}"
