"""A store in a directory, byte-compatible with kachery-cloud's local layout.

``sha1/aa/bb/cc/<sha1>``                     stored files (temp file in the same folder, then rename)
``linked_files/sha1/aa/bb/cc/<sha1>``        JSON ``{path, size, mtime, sha1}`` of a file linked in place
``mutables/@a/@b/key``                       small named values (``@compute_sha1_cache/<sha1 of path>``
                                              caches the sha1 of large files, as kachery-cloud does)
``feeds/<feedId>.jsonl``                     append-only feeds (ours; kachery-cloud kept feeds remotely)
``task_results/<taskName>/aa/bb/cc/<jobId>`` task results (JSON)
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import time
from typing import Iterator

from ..errors import FeedError, IntegrityError, LinkedFileChangedError, NotFoundError
from .base import Store, check_mutable_key, check_task_result_name
from .uri import check_sha1

_CHUNK = 4 * 1024 * 1024
_SHA1_CACHE_MIN_SIZE = 0  # kachery-cloud caches from 1 MB; caching small files too is harmless


def _multi_user() -> bool:
    return os.environ.get("KACHERY_CLOUD_MULTI_USER", "0") == "1"


def _shard(sha1: str) -> str:
    return f"{sha1[0:2]}/{sha1[2:4]}/{sha1[4:6]}"


def sha1_of_file(path: str) -> str:
    """sha1 of a file's bytes, read in large chunks into one reused buffer."""
    h = hashlib.sha1()
    buf = bytearray(_CHUNK)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        while True:
            n = f.readinto(buf)
            if not n:
                break
            h.update(view[:n])
    return h.hexdigest()


class LocalStore(Store):
    def __init__(self, directory: str):
        self.directory = os.path.abspath(os.path.expanduser(directory))
        self._makedirs(self.directory)

    # helpers ------------------------------------------------------------------------------------------
    def _makedirs(self, path: str) -> None:
        if os.path.isdir(path):
            return
        if _multi_user():
            old = os.umask(0o002)
            try:
                os.makedirs(path, mode=0o2775, exist_ok=True)
            finally:
                os.umask(old)
        else:
            os.makedirs(path, exist_ok=True)

    def _finish_file(self, path: str) -> None:
        if _multi_user():
            os.chmod(path, 0o664)

    def _atomic_write(self, path: str, data: bytes, *, fsync: bool = False) -> None:
        self._makedirs(os.path.dirname(path))
        tmp = f"{path}.{secrets.token_hex(5)}.tmp"
        with open(tmp, "wb") as f:
            f.write(data)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        self._finish_file(tmp)
        os.replace(tmp, path)

    def _content_path(self, sha1: str) -> str:
        return os.path.join(self.directory, "sha1", _shard(sha1), sha1)

    def _link_record_path(self, sha1: str) -> str:
        return os.path.join(self.directory, "linked_files", "sha1", _shard(sha1), sha1)

    # content ------------------------------------------------------------------------------------------
    def put_bytes(self, data: bytes) -> str:
        sha1 = hashlib.sha1(data).hexdigest()
        dest = self._content_path(sha1)
        if not os.path.exists(dest):
            self._atomic_write(dest, data)
        return sha1

    def put_file(self, path: str) -> str:
        path = _existing_file(path)
        # one pass: hash while copying into a temp file in the store, then rename into place
        tmp_dir = os.path.join(self.directory, "sha1")
        self._makedirs(tmp_dir)
        tmp = os.path.join(tmp_dir, f".incoming.{secrets.token_hex(6)}.tmp")
        h = hashlib.sha1()
        buf = bytearray(_CHUNK)
        view = memoryview(buf)
        try:
            with open(path, "rb", buffering=0) as src, open(tmp, "wb", buffering=0) as dst:
                while True:
                    n = src.readinto(buf)
                    if not n:
                        break
                    h.update(view[:n])
                    dst.write(view[:n])
            sha1 = h.hexdigest()
            dest = self._content_path(sha1)
            if os.path.exists(dest):
                os.unlink(tmp)
            else:
                self._makedirs(os.path.dirname(dest))
                self._finish_file(tmp)
                os.replace(tmp, dest)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return sha1

    def file_sha1(self, path: str) -> str:
        """sha1 of a file, cached by path+size+mtime in ``@compute_sha1_cache`` (kachery-cloud's key)."""
        path = _existing_file(path)
        st = os.stat(path)
        key = f"@compute_sha1_cache/{hashlib.sha1(path.encode('utf-8')).hexdigest()}"
        cached = self.get_mutable(key)
        if cached:
            try:
                rec = json.loads(cached)
                if rec["size"] == st.st_size and rec["mtime"] == st.st_mtime and rec["path"] == path:
                    return rec["sha1"]
            except (ValueError, KeyError, TypeError):
                pass  # a damaged cache entry is recomputed below
        sha1 = sha1_of_file(path)
        if st.st_size >= _SHA1_CACHE_MIN_SIZE:
            self.set_mutable(key, json.dumps({"path": path, "size": st.st_size, "mtime": st.st_mtime,
                                              "sha1": sha1}))
        return sha1

    def link(self, path: str) -> str:
        path = _existing_file(path)
        sha1 = self.file_sha1(path)
        st = os.stat(path)
        record = json.dumps({"path": path, "size": st.st_size, "mtime": st.st_mtime, "sha1": sha1})
        rec_path = self._link_record_path(sha1)
        try:
            with open(rec_path) as f:
                if f.read() == record:
                    return sha1
        except FileNotFoundError:
            pass
        self._atomic_write(rec_path, record.encode("utf-8"))
        return sha1

    def has(self, sha1: str) -> bool:
        check_sha1(sha1)
        return os.path.exists(self._content_path(sha1)) or os.path.exists(self._link_record_path(sha1))

    def local_path(self, sha1: str, *, verify: bool = False) -> str:
        check_sha1(sha1)
        path = self._content_path(sha1)
        if os.path.exists(path):
            if verify and sha1_of_file(path) != sha1:
                raise IntegrityError(
                    f"stored file {path} no longer matches its sha1 {sha1} (the file was modified or damaged); "
                    "delete it and store the original again with `sortingview store put PATH`"
                )
            return path
        rec_path = self._link_record_path(sha1)
        if os.path.exists(rec_path):
            return self._check_linked(sha1, rec_path, verify)
        raise NotFoundError(
            f"sha1://{sha1} is not in the store at {self.directory}; store it there with "
            "`sortingview store put PATH` (or link it with `sortingview store link PATH`), "
            "or set KACHERY_CLOUD_DIR to the store that holds it"
        )

    def _check_linked(self, sha1: str, rec_path: str, verify: bool) -> str:
        with open(rec_path) as f:
            rec = json.load(f)
        path = rec["path"]
        try:
            st = os.stat(path)
        except FileNotFoundError:
            raise LinkedFileChangedError(
                f"linked file {path} (sha1://{sha1}) no longer exists; restore it at that path, "
                "or link its new location with `sortingview store link NEWPATH`"
            ) from None
        if st.st_size != rec["size"]:
            raise LinkedFileChangedError(
                f"linked file {path} (sha1://{sha1}) changed size from {rec['size']} to {st.st_size} bytes "
                "since it was linked; restore the original, or add the new data as a new recording"
            )
        if st.st_mtime != rec["mtime"] or verify:
            actual = sha1_of_file(path)
            if actual != sha1:
                raise LinkedFileChangedError(
                    f"linked file {path} was modified since it was linked: its sha1 is now {actual}, "
                    f"not {sha1}; restore the original, or add the new data as a new recording"
                )
            if st.st_mtime != rec["mtime"]:  # touched but unchanged: remember the new mtime
                rec["mtime"] = st.st_mtime
                self._atomic_write(rec_path, json.dumps(rec).encode("utf-8"))
        return path

    # mutables -----------------------------------------------------------------------------------------
    def _mutable_path(self, key: str) -> str:
        return os.path.join(self.directory, "mutables", *check_mutable_key(key))

    def set_mutable(self, key: str, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"mutable values are strings; got {type(value).__name__} (use json.dumps)")
        self._atomic_write(self._mutable_path(key), value.encode("utf-8"))

    def get_mutable(self, key: str) -> str | None:
        try:
            with open(self._mutable_path(key), encoding="utf-8") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def delete_mutable(self, key: str) -> bool:
        try:
            os.unlink(self._mutable_path(key))
            return True
        except FileNotFoundError:
            return False

    def list_mutables(self, folder: str) -> list[str]:
        check_mutable_key(folder.rstrip("/") + "/x")
        d = os.path.join(self.directory, "mutables", *folder.strip("/").split("/"))
        try:
            names = os.listdir(d)
        except FileNotFoundError:
            return []
        return sorted(n for n in names if not n.startswith("@") and not n.endswith(".tmp")
                      and os.path.isfile(os.path.join(d, n)))

    # feeds --------------------------------------------------------------------------------------------
    def _feed_path(self, feed_id: str) -> str:
        from .uri import parse_feed_uri

        return os.path.join(self.directory, "feeds", parse_feed_uri(feed_id) + ".jsonl")

    def feed_create(self, feed_id: str) -> None:
        path = self._feed_path(feed_id)
        self._makedirs(os.path.dirname(path))
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o664 if _multi_user() else 0o644)
        except FileExistsError:
            raise FeedError(f"feed {feed_id} already exists") from None
        os.fsync(fd)
        os.close(fd)
        _fsync_dir(os.path.dirname(path))

    def feed_exists(self, feed_id: str) -> bool:
        return os.path.exists(self._feed_path(feed_id))

    def feed_append(self, feed_id: str, messages: list, *, user_id: str | None = None) -> list[int]:
        from ..serialize import store_json_bytes

        path = self._feed_path(feed_id)
        if not os.path.exists(path):
            raise FeedError(f"feed://{feed_id} does not exist in {self.directory}; create it first")
        payloads = [store_json_bytes(m) for m in messages]  # refuse bad messages before taking the lock
        fd = os.open(path, os.O_RDWR | os.O_APPEND)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            next_number = _repair_tail_and_count(fd)
            numbers, lines = [], []
            now = time.time() * 1000
            for payload in payloads:
                head = json.dumps({"messageNumber": next_number, "timestamp": now, "userId": user_id},
                                  separators=(",", ":"))
                lines.append(head[:-1].encode() + b',"message":' + payload + b"}\n")
                numbers.append(next_number)
                next_number += 1
            _write_all(fd, b"".join(lines))
            os.fsync(fd)
        finally:
            os.close(fd)  # closing releases the lock
        return numbers

    def feed_read(self, feed_id: str, start: int = 0) -> list[dict]:
        path = self._feed_path(feed_id)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            raise FeedError(f"feed://{feed_id} does not exist in the store at {self.directory}") from None
        out = []
        for line in data.split(b"\n")[:-1]:  # a last line without newline is an unfinished append
            rec = json.loads(line)
            if rec["messageNumber"] >= start:
                out.append(rec)
        return out

    def feed_ids(self) -> Iterator[str]:
        d = os.path.join(self.directory, "feeds")
        if os.path.isdir(d):
            for name in sorted(os.listdir(d)):
                if name.endswith(".jsonl"):
                    yield name[:-len(".jsonl")]

    # task results -------------------------------------------------------------------------------------
    def _task_result_path(self, task_name: str, job_id: str) -> str:
        check_task_result_name(task_name, job_id)
        return os.path.join(self.directory, "task_results", task_name, _shard(job_id), job_id)

    def put_task_result(self, task_name: str, job_id: str, data: bytes) -> None:
        self._atomic_write(self._task_result_path(task_name, job_id), data)

    def get_task_result(self, task_name: str, job_id: str) -> bytes | None:
        try:
            with open(self._task_result_path(task_name, job_id), "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None


def _existing_file(path: str) -> str:
    path = os.path.abspath(os.fspath(path))
    if not os.path.isfile(path):
        what = "is a directory" if os.path.isdir(path) else "does not exist"
        raise NotFoundError(f"cannot store {path}: it {what}; give the path of an existing file")
    return path


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _repair_tail_and_count(fd: int) -> int:
    """Under the feed lock: drop an unfinished last line (a writer died mid-append) and return the
    number the next message gets."""
    size = os.lseek(fd, 0, os.SEEK_END)
    if size == 0:
        return 0
    tail_len = min(size, 1 << 16)
    while True:
        tail = os.pread(fd, tail_len, size - tail_len)
        if not tail.endswith(b"\n"):
            cut = tail.rfind(b"\n")
            if cut < 0 and tail_len < size:
                tail_len = min(size, tail_len * 4)
                continue
            new_size = size - tail_len + cut + 1
            os.ftruncate(fd, new_size)
            size = new_size
            if size == 0:
                return 0
            continue
        prev = tail.rfind(b"\n", 0, len(tail) - 1)
        if prev < 0 and tail_len < size:
            tail_len = min(size, tail_len * 4)
            continue
        try:
            return json.loads(tail[prev + 1:])["messageNumber"] + 1
        except (ValueError, KeyError) as exc:
            raise FeedError(f"feed file is damaged near its end: {exc}") from exc


__all__ = ["LocalStore", "sha1_of_file"]
