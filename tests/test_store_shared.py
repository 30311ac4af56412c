"""A store shared by a Unix group (KACHERY_CLOUD_MULTI_USER=1): what one member can do to the others.

Members may write anywhere in the store. They must not be able to read files through the server that they
could not read themselves, redirect a write through a symbolic link, or mint sign-in tokens; and every file
sortingview creates must be usable by the whole group.
"""
from __future__ import annotations

import os
import stat

import pytest
from datasets import make_dataset

from sortingview import store
from sortingview.errors import FeedError, IntegrityError
from sortingview.store import LocalStore

NOBODY = 65534
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="making a file another user's (chown) needs root")


@pytest.fixture
def shared(store_dir, monkeypatch):
    monkeypatch.setenv("KACHERY_CLOUD_MULTI_USER", "1")
    old = os.umask(0o022)
    try:
        yield store_dir
    finally:
        os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_channel_databases_and_the_sortingview_folder_are_group_writable(shared):
    from sortingview.backend.channel import TaskRequest, open_channel

    chan = open_channel("lab")
    chan.submit(TaskRequest("a" * 40, "svtest.add.1", "calculation", "misc", {"a": 1}))
    sv_dir = shared / "sortingview"
    assert mode(sv_dir) == mode(sv_dir / "channels") == 0o2775
    for suffix in ("", "-wal", "-shm"):
        assert mode(sv_dir / "channels" / f"lab.sqlite{suffix}") == 0o664, suffix


def test_pyramids_are_group_writable(shared, tmp_path):
    from sortingview.tasks import run_task_inline

    ds = make_dataset(tmp_path, seed=1, num_channels=2, durations=30.0, num_units=2)
    run_task_inline("sortingview.timeseries_segment.1",
                    {"recording": ds.recording_uri, "startFrame": 0, "endFrame": ds.num_frames[0], "maxSamples": 100})
    root = shared / "sortingview" / "pyramids"
    [folder] = list(root.iterdir())
    assert mode(root) == mode(folder) == 0o2775
    names = sorted(p.name for p in folder.iterdir())
    assert "pyramid.json" in names and any(n.startswith("level") for n in names)
    assert all(mode(p) == 0o664 for p in folder.iterdir())


def test_the_users_file_stays_private_to_the_servers_user(shared):
    from sortingview.server.auth import UserStore, users_file

    users = UserStore(users_file())
    token = users.add_user("alice")
    assert mode(users_file()) == 0o600
    assert users.verify(token) == "alice"


@needs_root
def test_a_users_file_planted_or_opened_to_the_group_is_refused(shared):
    from sortingview.server.auth import UserStore, users_file

    path = users_file()
    UserStore(path).add_user("alice")
    os.chmod(path, 0o660)
    with pytest.raises(IntegrityError, match="writable by others"):
        UserStore(path).list_users()
    os.chmod(path, 0o600)
    os.chown(path, NOBODY, -1)  # as if a member had created it before the server did
    with pytest.raises(IntegrityError, match=f"owned by uid {NOBODY}"):
        UserStore(path).list_users()


@needs_root
def test_a_link_record_to_a_file_its_writer_cannot_read_is_refused(shared, tmp_path):
    import tempfile

    with tempfile.TemporaryDirectory(prefix="sv-shared-") as open_dir:
        os.chmod(open_dir, 0o755)  # a folder everyone may search (pytest's own tmp folders are 0700)
        secret = os.path.join(open_dir, "secret.key")
        public = os.path.join(open_dir, "public.bin")
        for path, data, m in ((secret, b"root only", 0o600), (public, b"anyone may read", 0o644)):
            with open(path, "wb") as f:
                f.write(data)
            os.chmod(path, m)
        hidden = tmp_path / "hidden.bin"  # readable, but in a folder nobody else may search
        hidden.write_bytes(b"behind a closed folder")
        os.chmod(hidden, 0o644)
        os.chmod(tmp_path, 0o700)
        for f, ok in ((secret, False), (public, True), (str(hidden), False)):
            uri = store.link_file(f)
            sha1 = store.parse_uri(uri).sha1
            rec = os.path.join(shared, "linked_files", "sha1", sha1[:2], sha1[2:4], sha1[4:6], sha1)
            assert store.load_bytes(uri)  # the server's own records are fine
            os.chown(rec, NOBODY, -1)  # now a record that a group member wrote
            if ok:
                assert store.load_bytes(uri) == b"anyone may read"
            else:
                with pytest.raises(IntegrityError, match=f"its writer \\(uid {NOBODY}\\) may not read"):
                    store.load_file(uri)


def test_no_store_write_follows_a_symbolic_link(shared, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    st = LocalStore(str(shared))
    # feeds: a member replaces a feed file with a link to a file the server's user can write
    st.feed_create("ab" * 20)
    feed_path = os.path.join(shared, "feeds", "ab" * 20 + ".jsonl")
    os.unlink(feed_path)
    os.symlink(victim, feed_path)
    with pytest.raises(FeedError, match="symbolic link"):
        st.feed_append("ab" * 20, [{"x": 1}])
    with pytest.raises(FeedError, match="symbolic link"):
        st.feed_read("ab" * 20)
    # mutables: a write replaces the link itself; a read refuses it
    st.set_mutable("@lab/value", "v")
    mpath = os.path.join(shared, "mutables", "@lab", "value")
    os.unlink(mpath)
    os.symlink(victim, mpath)
    with pytest.raises(IntegrityError, match="symbolic link"):
        st.get_mutable("@lab/value")
    st.set_mutable("@lab/value", "new")
    assert not os.path.islink(mpath) and st.get_mutable("@lab/value") == "new"
    # task results: a planted link is never read, only removed (the result is computed again)
    rpath = os.path.join(shared, "task_results", "sortingview.x.1", "cd", "cd", "cd", "cd" * 20)
    os.makedirs(os.path.dirname(rpath))
    os.symlink(victim, rpath)
    with store.use_store(st):
        assert store.load_task_result("sortingview.x.1", "cd" * 20) is store.MISSING
    assert not os.path.lexists(rpath)
    # channels and pyramids: a link where the file belongs is refused
    from sortingview.backend.channel.sqlite_channel import SqliteChannel
    from sortingview.store.private import ensure_file, sortingview_path

    db = sortingview_path("channels", "planted.sqlite")
    os.symlink(victim, db)
    with pytest.raises(IntegrityError, match="symbolic link"):
        SqliteChannel(db, "planted")
    level = sortingview_path("pyramids", "e" * 40, "level4.bin")
    os.symlink(victim, level)
    with pytest.raises(IntegrityError, match="symbolic link"):
        ensure_file(level, size=100)
    assert victim.read_text() == "precious"


@needs_root
def test_the_server_does_not_serve_a_file_through_a_planted_link_record(shared, tmp_path):
    from test_server_support import http, running_server

    secret = tmp_path / "server-only.key"
    secret.write_bytes(b"the server's secret")
    os.chmod(secret, 0o600)
    uri = store.link_file(str(secret))
    sha1 = store.parse_uri(uri).sha1
    rec = os.path.join(shared, "linked_files", "sha1", sha1[:2], sha1[2:4], sha1[4:6], sha1)
    os.chown(rec, NOBODY, -1)  # the record a group member planted
    with running_server() as srv:
        status, r = http(f"{srv.url}/api/file/{sha1}")
    assert status >= 400 and b"server's secret" not in (r if isinstance(r, bytes) else str(r).encode())
    assert "may not read" in str(r)
