"""No store write follows a symbolic link planted in place of a folder (a member of a shared store could do that).

For each write path a folder inside the store is replaced by a link to an "outside" folder; the write must be
refused with an IntegrityError naming the folder, and nothing may appear (or change) outside.
"""
from __future__ import annotations

import hashlib
import os
import shutil

import pytest

from sortingview.errors import IntegrityError
from sortingview.store import LocalStore
from sortingview.store.private import ensure_file, locked, open_for_write, write_file

FEED = "ab" * 20


@pytest.fixture(params=["0", "1"], ids=["single-user", "multi-user"])
def st(store_dir, monkeypatch, request):
    monkeypatch.setenv("KACHERY_CLOUD_MULTI_USER", request.param)
    return LocalStore(str(store_dir))


@pytest.fixture
def outside(tmp_path):
    d = tmp_path / "outside"
    d.mkdir()
    return d


def plant(st: LocalStore, rel: str, outside) -> str:
    """Replace ``<store>/<rel>`` (a folder, made if missing) by a link to ``outside``; keep its files there."""
    folder = os.path.join(st.directory, rel)
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(folder):
        shutil.move(os.path.join(folder, name), os.path.join(outside, name))
    os.rmdir(folder)
    os.symlink(outside, folder)
    return folder


def snapshot(folder) -> dict:
    return {os.path.relpath(os.path.join(d, f), folder): open(os.path.join(d, f), "rb").read()
            for d, _, files in os.walk(folder) for f in files}


def refused(folder: str, outside, write) -> None:
    before = snapshot(outside)
    with pytest.raises(IntegrityError, match="symbolic link") as info:
        write()
    assert folder in str(info.value)
    assert snapshot(outside) == before


def test_content_put_bytes(st, outside):
    data = b"some bytes"
    sha1 = hashlib.sha1(data).hexdigest()
    refused(plant(st, f"sha1/{sha1[:2]}/{sha1[2:4]}", outside), outside, lambda: st.put_bytes(data))


@pytest.mark.parametrize("rel", ["sha1", "sha1/bb"])
def test_content_put_file(st, outside, tmp_path, rel):
    src = tmp_path / "data.bin"
    src.write_bytes(b"x" * 1000)
    sha1 = hashlib.sha1(src.read_bytes()).hexdigest()
    rel = rel.replace("bb", sha1[:2])  # the temp folder, then the content's own folder
    refused(plant(st, rel, outside), outside, lambda: st.put_file(str(src)))


def test_link_record(st, outside, tmp_path):
    src = tmp_path / "linked.bin"
    src.write_bytes(b"y" * 100)
    refused(plant(st, "linked_files", outside), outside, lambda: st.link(str(src)))


def test_feed_create(st, outside):
    refused(plant(st, "feeds", outside), outside, lambda: st.feed_create(FEED))


def test_feed_append(st, outside):
    st.feed_create(FEED)
    st.feed_append(FEED, [{"n": 0}])
    folder = plant(st, "feeds", outside)  # the feed file now lives outside: appending would change it there
    refused(folder, outside, lambda: st.feed_append(FEED, [{"n": 1}]))


def test_mutable_set(st, outside):
    st.set_mutable("@lab/value", "v")
    refused(plant(st, "mutables/@lab", outside), outside, lambda: st.set_mutable("@lab/value", "new"))


def test_task_result_put(st, outside):
    refused(plant(st, "task_results/sortingview.x.1", outside), outside,
            lambda: st.put_task_result("sortingview.x.1", "cd" * 20, b"{}"))


def test_private_atomic_write_users_channels_pyramids_and_locks(st, outside):
    from sortingview.backend.channel.sqlite_channel import SqliteChannel
    from sortingview.server.auth import UserStore, users_file

    folder = plant(st, "sortingview", outside)
    refused(folder, outside, lambda: write_file(os.path.join(folder, "users.json"), b"{}", private=True))
    refused(folder, outside, lambda: UserStore(users_file()).add_user("alice"))
    refused(folder, outside, lambda: SqliteChannel(os.path.join(folder, "channels", "c.sqlite"), "c"))
    refused(folder, outside, lambda: ensure_file(os.path.join(folder, "pyramids", "e" * 40, "level4.bin"), size=9))
    with pytest.raises(IntegrityError, match="symbolic link"):
        with locked(os.path.join(folder, "users.json")):
            pass
    assert snapshot(outside) == {}


def test_a_pyramid_folder_swapped_after_creation(st, outside):
    level = os.path.join(st.directory, "sortingview", "pyramids", "e" * 40, "level4.bin")
    assert ensure_file(level, size=9)
    folder = plant(st, os.path.join("sortingview", "pyramids", "e" * 40), outside)
    refused(folder, outside, lambda: open_for_write(level))
    refused(folder, outside, lambda: write_file(os.path.join(folder, "pyramid.json"), b"{}"))


def test_a_channel_folder_swapped_after_the_channel_was_made(st, outside):
    from sortingview.backend.channel.sqlite_channel import SqliteChannel

    path = os.path.join(st.directory, "sortingview", "channels", "c.sqlite")
    SqliteChannel(path, "c").close()  # (an open connection keeps writing to its own files wherever they move)
    folder = plant(st, os.path.join("sortingview", "channels"), outside)
    refused(folder, outside, lambda: SqliteChannel(path, "c"))
