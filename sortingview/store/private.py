"""Files sortingview keeps for itself beside the store's content: ``<store>/sortingview/...``.

The channel databases, the users file and the timeseries pyramids are written through this one API, so
they follow the store's rules: folders and files honour ``KACHERY_CLOUD_MULTI_USER=1`` (group-writable),
files marked ``private`` are 0600 whatever the mode (the users file), writes are atomic and fsynced, no
write follows a symbolic link, and a full disk is a :class:`~sortingview.errors.DiskFullError` that leaves
nothing partial behind.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import stat
from typing import Iterator

from ..errors import IntegrityError
from ._fs import atomic_write, disk_full_error, file_mode, in_folder, makedirs, multi_user, open_new, register_root


def sortingview_path(*parts: str, directory: str | None = None) -> str:
    """``<store dir>/sortingview/<parts...>``, with the folders above it created (store modes)."""
    if directory is None:
        from . import store_dir

        directory = store_dir()
    else:
        register_root(directory)
    path = os.path.join(directory, "sortingview", *parts)
    makedirs(os.path.dirname(path))
    return path


def refuse_symlink(path: str) -> None:
    """IntegrityError when ``path`` is a symbolic link (a store member may have planted it to redirect a write)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(st.st_mode):
        raise IntegrityError(f"{path} is a symbolic link; sortingview never writes through one (a user with write "
                             "access to the store may have planted it). Remove it and try again")


def check_private(path: str) -> os.stat_result:
    """The lstat of a private file, after checking that only this process's user can have written it.

    In a group-writable folder another member could plant the file (or a link) before the owner writes it, so
    a private file must be a regular file owned by this user with no group or other write permission.
    FileNotFoundError when it does not exist.
    """
    st = os.lstat(path)
    if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o022:
        what = ("not a regular file" if not stat.S_ISREG(st.st_mode) else
                f"owned by uid {st.st_uid}, not {os.geteuid()}" if st.st_uid != os.geteuid() else
                f"writable by others (mode {stat.S_IMODE(st.st_mode):o})")
        raise IntegrityError(f"{path} must be a private file of this user, but it is {what}; someone with write "
                             "access to the store may have put it there. Check it, then remove it (and add the "
                             "users again) or fix it with chown/chmod 600")
    return st


def write_file(path: str, data: bytes, *, private: bool = False) -> None:
    """Atomically and durably replace ``path`` with ``data`` (0600 when ``private``)."""
    atomic_write(path, data, fsync=True, private=private)


def ensure_file(path: str, *, size: int = 0, private: bool = False) -> bool:
    """Create ``path`` as a (sparse) file of ``size`` bytes unless it exists; True when this call created it.

    Racing creators are safe: the file is prepared under a temp name and linked into place, so nobody sees it
    half made and the first one wins. A symbolic link at ``path`` is refused, not followed.
    """
    with in_folder(path) as (dfd, name):  # no folder of the store is followed if it is a link
        if _lexists(name, dfd):
            refuse_symlink(path)
            return False
        tmp = f"@tmp.{secrets.token_hex(6)}.{name}"
        try:
            fd = open_new(tmp, file_mode(private), dfd)
            try:
                if size:
                    os.ftruncate(fd, size)
                if multi_user() or private:
                    os.fchmod(fd, file_mode(private))
            finally:
                os.close(fd)
            try:
                os.link(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd, follow_symlinks=False)
                return True
            except FileExistsError:
                refuse_symlink(path)
                return False
        except OSError as exc:
            raise disk_full_error(exc, path) from exc
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp, dir_fd=dfd)


def open_for_write(path: str) -> int:
    """A write descriptor of the existing file ``path``, reached without following any link (IntegrityError)."""
    with in_folder(path) as (dfd, name):
        try:
            return os.open(name, os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dfd)
        except OSError as exc:
            refuse_symlink(path)
            raise disk_full_error(exc, path) from exc


def _lexists(name: str, dir_fd: int) -> bool:
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        return True
    except FileNotFoundError:
        return False


@contextlib.contextmanager
def locked(path: str) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``<path>.lock`` (created with the store's modes, never through a link).

    Processes that read, modify and write one file take this lock around the three steps, so no update is lost.
    """
    lock_path = path + ".lock"
    with in_folder(lock_path) as (dfd, name):  # no folder of the store is followed if it is a link
        try:
            fd = os.open(name, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, file_mode(), dir_fd=dfd)
        except OSError as exc:
            refuse_symlink(lock_path)
            raise disk_full_error(exc, lock_path) from exc
    try:
        if multi_user() and os.fstat(fd).st_uid == os.getuid():
            os.fchmod(fd, file_mode())
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


__all__ = ["sortingview_path", "refuse_symlink", "check_private", "write_file", "ensure_file", "open_for_write",
           "locked", "makedirs", "file_mode"]
