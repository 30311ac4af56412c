"""File-system helpers of the local store: sharding, atomic writes, hashing and the multi-user mode.

``KACHERY_CLOUD_MULTI_USER=1`` (read at each call, as kachery-cloud does) makes every folder the store
creates ``rwxrwsr-x`` and every file ``rw-rw-r--``, so the members of a lab's group can all write to a
shared store. Modes are set with chmod after creation rather than through the umask, because the umask is
process-wide and the server writes from several threads.
"""
from __future__ import annotations

import errno
import hashlib
import os
import secrets
import shutil

from ..errors import DiskFullError, IntegrityError, NotFoundError

CHUNK = 1024 * 1024  # 256 KiB-1 MiB hashes fastest here: the buffer stays in the CPU cache
DIR_MODE_MULTI_USER = 0o2775  # setgid: new entries inherit the folder's group
FILE_MODE_MULTI_USER = 0o664


def multi_user() -> bool:
    return os.environ.get("KACHERY_CLOUD_MULTI_USER", "0") == "1"


def shard(sha1: str) -> str:
    """``aa/bb/cc`` from the first three byte pairs of a hex digest (kachery-cloud's layout)."""
    return f"{sha1[0:2]}/{sha1[2:4]}/{sha1[4:6]}"


def makedirs(path: str) -> None:
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


def open_new(path: str, mode: int) -> int:
    """Create ``path`` (it must not exist, so no symbolic link is followed) and return a write descriptor."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode)


def atomic_write(path: str, data: bytes, *, fsync: bool = False, private: bool = False) -> None:
    """Write ``data`` to ``path`` so that readers see the old content or the new, never a part.

    The temp file is created exclusively (a planted symbolic link is never followed) and the rename replaces
    whatever ``path`` was, a link included. ``fsync`` makes the content durable before the rename. On any
    failure the temp file is removed; a full disk is a :class:`DiskFullError`.
    """
    makedirs(os.path.dirname(path))
    tmp = temp_name(path)
    try:
        fd = open_new(tmp, file_mode(private))
        try:
            write_all(fd, data)
            if fsync:
                os.fsync(fd)
            if multi_user() or private:  # the umask may have taken bits away
                os.fchmod(fd, file_mode(private))
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException as exc:
        _unlink_quietly(tmp)
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


def sha1_of_file(path: str) -> str:
    """sha1 of a file's bytes, read in large chunks into one reused buffer."""
    h = hashlib.sha1()
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(buf):
            h.update(view[:n])
    return h.hexdigest()


def copy_and_hash(src_path: str, dst_path: str) -> str:
    """Copy a file and return the sha1 of the copy.

    The copy is done in the kernel (``shutil.copyfile`` uses ``sendfile``/``copy_file_range``) and the copy is
    hashed afterwards from the page cache: measured faster than one read-hash-write pass in Python
    (bench/bench_store.py), and the hash names exactly the bytes that were stored.
    """
    try:
        shutil.copyfile(src_path, dst_path)
        return sha1_of_file(dst_path)
    except BaseException as exc:
        _unlink_quietly(dst_path)
        if isinstance(exc, OSError):
            raise disk_full_error(exc, dst_path) from exc
        raise
