"""The on-disk feed log: one file ``feeds/<feedId>.jsonl``, one line per append.

A line holds one record ``{"messageNumber", "timestamp", "userId", "message"}`` or, when several messages
were appended in one call, a JSON array of their records. An append is one line, so it lands whole or
not at all: a writer killed half-way leaves a last line without its newline, which readers ignore and the
next writer cuts off before it appends.

Guarantees:

* Durable: an append returns only after ``fsync`` of the file (and, for a new feed, of its folder).
* One order: writers hold an exclusive ``flock`` on the file while they number and write their lines,
  so numbers are consecutive from 0 and every reader sees the same sequence. Readers take no lock.
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import time

from ..errors import FeedError
from ._fs import disk_full_error, file_mode, in_folder, multi_user, write_all

_TAIL = 1 << 16
_FIRST_NUMBER = re.compile(rb'\[?\{"messageNumber":(\d+),')


def create(path: str, feed_id: str) -> None:
    with in_folder(path) as (dfd, name):  # no folder of the store is followed if it is a link
        try:  # O_EXCL: never through a symbolic link
            fd = os.open(name, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC, file_mode(),
                         dir_fd=dfd)
        except FileExistsError:
            raise FeedError(f"feed://{feed_id} already exists; load it with load_feed instead") from None
        except OSError as exc:
            raise disk_full_error(exc, path) from exc
        try:
            if multi_user():
                os.fchmod(fd, file_mode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.fsync(dfd)


def append(path: str, feed_id: str, payloads: list[bytes], user_id: str | None) -> list[int]:
    """Append already-encoded JSON messages as one line; return their numbers."""
    if not payloads:
        return []
    with in_folder(path) as (dfd, name):
        try:
            fd = os.open(name, os.O_RDWR | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dfd)
        except FileNotFoundError:
            raise FeedError(f"feed://{feed_id} does not exist at {path}; create it first with create_feed()") from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise FeedError(f"feed file {path} is a symbolic link; sortingview never appends through one (a "
                                "user with write access to the store may have planted it). Remove it") from None
            raise
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        first = _repair_tail_and_count(fd, path)
        now = time.time() * 1000
        user = json.dumps(user_id)
        records = [
            b'{"messageNumber":%d,"timestamp":%r,"userId":%s,"message":%s}'
            % (first + i, now, user.encode("ascii"), payload)
            for i, payload in enumerate(payloads)
        ]
        line = records[0] if len(records) == 1 else b"[" + b",".join(records) + b"]"
        _write_line(fd, path, line + b"\n")
    finally:
        os.close(fd)  # closing the descriptor releases the lock
    return list(range(first, first + len(payloads)))


def _write_line(fd: int, path: str, line: bytes) -> None:
    """Append and fsync one line; on failure (a full disk) cut the file back, so no part of it stays."""
    size = os.lseek(fd, 0, os.SEEK_END)
    try:
        write_all(fd, line)
        os.fsync(fd)
    except OSError as exc:
        os.ftruncate(fd, size)
        raise disk_full_error(exc, path) from exc


def read(path: str, feed_id: str, start: int = 0) -> list[dict]:
    try:
        with _open_read(path) as f:
            data = f.read()
    except FileNotFoundError:
        raise FeedError(f"feed://{feed_id} does not exist at {path}; check the URI and KACHERY_CLOUD_DIR") from None
    out: list[dict] = []
    lines = data.split(b"\n")[:-1]  # a last line without its newline is an append still under way (or dead)
    for lineno, line in enumerate(lines, 1):
        if start and lineno < len(lines) and _first_number(lines[lineno]) <= start:
            continue  # everything on this line comes before `start`: skip the JSON parsing (readers poll)
        for rec in _parse_line(line, path, lineno):
            if rec["messageNumber"] >= start:
                out.append(rec)
    return out


def count(path: str, feed_id: str) -> int:
    """Number of messages, from the last complete line only (no lock: a torn or growing tail is skipped)."""
    try:
        with _open_read(path) as f:
            size = f.seek(0, os.SEEK_END)
            tail_len = min(size, _TAIL)
            while True:
                f.seek(size - tail_len)
                tail = f.read(tail_len)
                end = tail.rfind(b"\n")
                begin = tail.rfind(b"\n", 0, max(end, 0))
                if end < 0 or begin < 0:
                    if tail_len < size:
                        tail_len = min(size, tail_len * 4)
                        continue
                    if end < 0:
                        return 0
                last = _parse_line(tail[begin + 1:end], path, -1)
                return int(last[-1]["messageNumber"]) + 1
    except FileNotFoundError:
        raise FeedError(f"feed://{feed_id} does not exist at {path}; check the URI and KACHERY_CLOUD_DIR") from None


def _open_read(path: str):
    """The feed file for reading; a symbolic link in its place is refused (FeedError), never read through."""
    try:
        return os.fdopen(os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC), "rb")
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise FeedError(f"feed file {path} is a symbolic link; sortingview never reads through one (a user "
                            "with write access to the store may have planted it). Remove it") from None
        raise


def _first_number(line: bytes) -> int:
    """The number of the first record on a line, read from its fixed prefix; -1 when it cannot be read."""
    m = _FIRST_NUMBER.match(line)
    return int(m.group(1)) if m else -1


def _parse_line(line: bytes, path: str, lineno: int) -> list[dict]:
    try:
        obj = json.loads(line)
        recs = obj if isinstance(obj, list) else [obj]
        for r in recs:
            int(r["messageNumber"])
        return recs
    except (ValueError, KeyError, TypeError) as exc:
        raise FeedError(
            f"feed file {path} is damaged at line {lineno} ({exc}); it was edited outside sortingview. "
            "Restore it from a backup, or remove the damaged line"
        ) from None


def _repair_tail_and_count(fd: int, path: str) -> int:
    """Under the lock: cut off an unfinished last line (its writer died) and return the next number."""
    size = os.lseek(fd, 0, os.SEEK_END)
    tail_len = min(size, _TAIL)
    while size:
        tail = os.pread(fd, tail_len, size - tail_len)
        cut = tail.rfind(b"\n", 0, len(tail) - 1) if tail.endswith(b"\n") else tail.rfind(b"\n")
        if cut < 0 and tail_len < size:
            tail_len = min(size, tail_len * 4)  # a line longer than the tail read so far
            continue
        if not tail.endswith(b"\n"):
            size = size - tail_len + cut + 1
            os.ftruncate(fd, size)
            os.fsync(fd)
            tail_len = min(size, _TAIL)
            continue
        last = _parse_line(tail[cut + 1:-1], path, -1)
        return int(last[-1]["messageNumber"]) + 1
    return 0
