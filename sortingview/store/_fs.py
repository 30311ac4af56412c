"""File-system helpers of the local store: sharding, atomic writes, hashing and the multi-user mode.

``KACHERY_CLOUD_MULTI_USER=1`` (read at each call, as kachery-cloud does) makes every folder the store
creates ``rwxrwsr-x`` and every file ``rw-rw-r--``, so the members of a lab's group can all write to a
shared store. Modes are set with chmod after creation rather than through the umask, because the umask is
process-wide and the server writes from several threads.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import shutil
import stat
from typing import Iterator

from ..errors import DiskFullError, IntegrityError, NotFoundError

CHUNK = 1024 * 1024  # 256 KiB-1 MiB hashes fastest here: the buffer stays in the CPU cache
DIR_MODE_MULTI_USER = 0o2775  # setgid: new entries inherit the folder's group
FILE_MODE_MULTI_USER = 0o664


def multi_user() -> bool:
    return os.environ.get("KACHERY_CLOUD_MULTI_USER", "0") == "1"


def shard(sha1: str) -> str:
    """``aa/bb/cc`` from the first three byte pairs of a hex digest (kachery-cloud's layout)."""
    return f"{sha1[0:2]}/{sha1[2:4]}/{sha1[4:6]}"


_ROOTS: set[str] = set()  # store folders seen in this process (the current $KACHERY_CLOUD_DIR counts too)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def register_root(directory: str) -> None:
    """Remember ``directory`` as a store root: folders below it are reached without following any link."""
    _ROOTS.add(os.path.abspath(directory))


def _root_of(path: str) -> tuple[str, list[str]] | None:
    """The longest known store root above or at ``path`` and the folder names from it down to ``path``."""
    from . import store_dir

    best = None
    for root in _ROOTS | {store_dir()}:
        if (path == root or path.startswith(root.rstrip("/") + "/")) and (best is None or len(root) > len(best)):
            best = root
    if best is None:
        return None
    return best, [p for p in path[len(best):].split("/") if p]


def open_folder(path: str) -> int:
    """A descriptor of the folder ``path``, created (store modes) when missing, for ``dir_fd=`` writes.

    Below a store root every folder is opened with ``O_NOFOLLOW`` from its parent's descriptor, so a member
    of a shared store who replaces a folder (``feeds/ab``, ``sortingview/channels``, ...) with a symbolic
    link gets an :class:`IntegrityError` naming it, never a write elsewhere. The root itself (the user's
    choice of ``$KACHERY_CLOUD_DIR``) and folders outside any store are opened as given.
    """
    path = os.path.abspath(path)
    found = _root_of(path)
    if found is None:
        _makedirs_plain(path)
        return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    root, names = found
    _makedirs_plain(root)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for i, name in enumerate(names):
            child = _open_child_folder(fd, name, os.path.join(root, *names[: i + 1]))
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def _open_child_folder(parent: int, name: str, where: str) -> int:
    try:
        return _open_dir_at(parent, name, where)
    except FileNotFoundError:
        pass
    try:
        os.mkdir(name, 0o777, dir_fd=parent)
    except FileExistsError:
        return _open_dir_at(parent, name, where)  # another process made it a moment ago
    except OSError as exc:
        raise disk_full_error(exc, where) from exc
    fd = _open_dir_at(parent, name, where)
    if multi_user():
        os.fchmod(fd, DIR_MODE_MULTI_USER)
    return fd


def _open_dir_at(parent: int, name: str, where: str) -> int:
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=parent)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            what = "a symbolic link" if stat.S_ISLNK(os.lstat(name, dir_fd=parent).st_mode) else "not a folder"
            raise IntegrityError(f"{where} is {what} where sortingview expects a folder of the store; sortingview "
                                 "never writes through a link (someone with write access to the store may have "
                                 "put it there). Remove it and try again") from None
        raise


@contextlib.contextmanager
def in_folder(path: str) -> Iterator[tuple[int, str]]:
    """``(descriptor of path's folder, path's name)`` for ``os.open(name, ..., dir_fd=fd)`` and friends."""
    fd = open_folder(os.path.dirname(os.path.abspath(path)))
    try:
        yield fd, os.path.basename(path)
    finally:
        os.close(fd)


def open_file(path: str, flags: int, private: bool = False) -> int:
    """``os.open(path, flags | O_NOFOLLOW)`` with the folder reached as :func:`open_folder` does (store modes)."""
    with in_folder(path) as (dfd, name):
        return os.open(name, flags | os.O_NOFOLLOW | os.O_CLOEXEC, file_mode(private), dir_fd=dfd)


def move_file(src: str, dst: str, *, keep_src: bool = False) -> None:
    """Rename (or hard-link, with ``keep_src``) ``src`` to ``dst``; neither folder is followed if it is a link."""
    with in_folder(src) as (sfd, sname), in_folder(dst) as (dfd, dname):
        if keep_src:
            os.link(sname, dname, src_dir_fd=sfd, dst_dir_fd=dfd, follow_symlinks=False)
        else:
            os.replace(sname, dname, src_dir_fd=sfd, dst_dir_fd=dfd)


def makedirs(path: str) -> None:
    """Create ``path`` and missing parents (store modes), refusing a symbolic link in place of a store folder."""
    os.close(open_folder(path))


def _makedirs_plain(path: str) -> None:
    """Create ``path`` and missing parents; in multi-user mode each folder created here is group-writable."""
    if os.path.isdir(path):
        return
    missing = []
    p = path
    while p and not os.path.isdir(p):
        missing.append(p)
        parent = os.path.dirname(p)
        if parent == p:
            break
        p = parent
    group = multi_user()
    for d in reversed(missing):
        try:
            os.mkdir(d)
        except FileExistsError:
            if os.path.islink(d):
                raise IntegrityError(f"{d} is a symbolic link where sortingview expects a folder; remove it "
                                     "(someone with write access to the store put it there)") from None
            continue  # another process made it first
        except OSError as exc:
            raise disk_full_error(exc, d) from exc
        if group:
            os.chmod(d, DIR_MODE_MULTI_USER)


def file_mode(private: bool = False) -> int:
    """The mode of a new file: 0600 for ``private`` ones, group-writable in multi-user mode, else 0644."""
    if private:
        return 0o600
    return FILE_MODE_MULTI_USER if multi_user() else 0o644


def finish_file(path: str) -> None:
    if multi_user():
        os.chmod(path, FILE_MODE_MULTI_USER)


def temp_name(path: str) -> str:
    """A temp file next to ``path``; the ``@`` prefix can never be a mutable's name, so listings skip it."""
    return os.path.join(os.path.dirname(path), f"@tmp.{secrets.token_hex(6)}.{os.path.basename(path)}")


def open_new(path: str, mode: int, dir_fd: int | None = None) -> int:
    """Create ``path`` (it must not exist, so no symbolic link is followed) and return a write descriptor."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode, dir_fd=dir_fd)


def atomic_write(path: str, data: bytes, *, fsync: bool = False, private: bool = False) -> None:
    """Write ``data`` to ``path`` so that readers see the old content or the new, never a part.

    The folder is reached without following links (:func:`open_folder`), the temp file is created exclusively
    in it and renamed over ``path`` relative to the folder's descriptor, so no link (planted as the file or as
    any folder above it in the store) is followed. ``fsync`` makes the content durable before the rename. On
    any failure the temp file is removed; a full disk is a :class:`DiskFullError`.
    """
    with in_folder(path) as (dfd, name):
        tmp = os.path.basename(temp_name(path))
        try:
            fd = open_new(tmp, file_mode(private), dfd)
            try:
                write_all(fd, data)
                if fsync:
                    os.fsync(fd)
                if multi_user() or private:  # the umask may have taken bits away
                    os.fchmod(fd, file_mode(private))
            finally:
                os.close(fd)
            os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
        except BaseException as exc:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp, dir_fd=dfd)
            if isinstance(exc, OSError):
                raise disk_full_error(exc, path) from exc
            raise


def disk_full_error(exc: OSError, path: str) -> OSError:
    """A :class:`DiskFullError` naming ``path`` when ``exc`` says the disk (or a size limit) is full, else ``exc``."""
    if isinstance(exc, DiskFullError) or exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return exc
    return DiskFullError(exc.errno, f"disk full: cannot write {path} ({os.strerror(exc.errno)}); free space on "
                         "that disk (or raise the quota) and try again; nothing partial was kept", path)


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def existing_file(path: str) -> str:
    """Absolute path of an existing regular file, or a NotFoundError that says what is there instead."""
    path = os.path.abspath(os.fspath(path))
    if not os.path.isfile(path):
        if os.path.isdir(path):
            what = "is a directory"
        elif os.path.exists(path):
            what = "is not a regular file"
        else:
            what = "does not exist"
        raise NotFoundError(f"cannot store {path}: it {what}; give the path of an existing file")
    return path


_DIRECT_BLOCK = 32 * 1024 * 1024


def sha1_of_file(path: str) -> str:
    """sha1 of a file's bytes, read in large chunks into one reused buffer; a file larger than the page cache
    is read ahead on reader threads, with ``O_DIRECT`` (``direct_io``), while this thread hashes."""
    from ..direct_io import File, direct_wanted, file_blocks

    h = hashlib.sha1()
    if direct_wanted(path):
        with File(path, direct=True) as f:
            for held in file_blocks(f, _DIRECT_BLOCK):
                h.update(memoryview(held.data))
                held.release()
        return h.hexdigest()
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(buf):
            h.update(view[:n])
    return h.hexdigest()


def copy_and_hash(src_path: str, dst_name: str, dir_fd: int, shown: str) -> str:
    """Copy a file to a new file ``dst_name`` in the folder ``dir_fd`` and return the sha1 of the copy.

    The copy is done in the kernel (``sendfile``) and the copy is hashed afterwards from the page cache:
    measured faster than one read-hash-write pass in Python (bench/bench_store.py), and the hash names exactly
    the bytes that were stored. ``shown`` names the destination in errors. A failed copy leaves nothing.
    """
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        with open(src_path, "rb", buffering=0) as src:
            out = os.open(dst_name, flags, file_mode(), dir_fd=dir_fd)
            try:
                _copy_fd(src.fileno(), out)
                if multi_user():
                    os.fchmod(out, file_mode())
                return _sha1_of_fd(out)
            finally:
                os.close(out)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(dst_name, dir_fd=dir_fd)
        if isinstance(exc, OSError):
            raise disk_full_error(exc, shown) from exc
        raise


def _copy_fd(src: int, dst: int) -> None:
    offset = 0
    try:
        while n := os.sendfile(dst, src, offset, 1 << 30):
            offset += n
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOSYS) or offset:
            raise
        shutil.copyfileobj(os.fdopen(os.dup(src), "rb"), os.fdopen(os.dup(dst), "wb"), CHUNK)


def _sha1_of_fd(fd: int) -> str:
    h = hashlib.sha1()
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    offset = 0
    while n := os.preadv(fd, [buf], offset):
        h.update(view[:n])
        offset += n
    return h.hexdigest()
