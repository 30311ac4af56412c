"""Whether the user who wrote a link record could read the file it points to.

In a store shared by a Unix group, any member can write a link record. The server (or a backend) reading a
linked file for a client must not become a way to read files that member could not read: the record's
owner uid must have read permission on the file and search permission on every folder above it.
"""
from __future__ import annotations

import os
import pwd
import stat

from ..errors import IntegrityError

_R = (stat.S_IRUSR, stat.S_IRGRP, stat.S_IROTH)
_X = (stat.S_IXUSR, stat.S_IXGRP, stat.S_IXOTH)


def _groups(uid: int) -> set[int]:
    try:
        pw = pwd.getpwuid(uid)
    except KeyError:
        return set()  # a uid with no account: only "other" permissions apply
    return set(os.getgrouplist(pw.pw_name, pw.pw_gid))


def _allowed(st: os.stat_result, uid: int, groups: set[int], bits: tuple[int, int, int]) -> bool:
    if st.st_uid == uid:
        return bool(st.st_mode & bits[0])
    if st.st_gid in groups:
        return bool(st.st_mode & bits[1])
    return bool(st.st_mode & bits[2])


def can_read(uid: int, path: str) -> bool:
    """Whether user ``uid`` may read ``path`` (file mode bits, and search permission on each parent folder)."""
    if uid == 0:
        return True
    groups = _groups(uid)
    path = os.path.abspath(path)
    try:
        if not _allowed(os.stat(path), uid, groups, _R):
            return False
        parent = os.path.dirname(path)
        while True:
            if not _allowed(os.stat(parent), uid, groups, _X):
                return False
            if parent == os.path.dirname(parent):
                return True
            parent = os.path.dirname(parent)
    except OSError:
        return False


def check_owner_can_read(record_path: str, target: str, sha1: str) -> None:
    """IntegrityError unless the owner of the link record ``record_path`` can read ``target``."""
    owner = os.stat(record_path).st_uid
    if owner == os.getuid() or can_read(owner, target):
        return
    raise IntegrityError(
        f"the link record of sha1://{sha1} points to {target}, which its writer (uid {owner}) may not read; it is "
        "refused (in a shared store a link record cannot give access to other users' files). The owner of the "
        "file can link it with `sortingview store link PATH`"
    )
