"""A store in a directory, byte-compatible with kachery-cloud's local layout.

``sha1/aa/bb/cc/<sha1>``                     stored files (temp file in the same folder, then rename)
``linked_files/sha1/aa/bb/cc/<sha1>``        JSON ``{path, size, mtime, sha1}`` of a file linked in place
``mutables/@a/@b/key``                       small named values (``@compute_sha1_cache/<sha1 of path>``
                                              caches the sha1 of large files, as kachery-cloud does)
``feeds/<feedId>.jsonl``                     append-only feeds (ours; kachery-cloud kept feeds remotely)
``task_results/<taskName>/aa/bb/cc/<jobId>`` task results (JSON)
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
from typing import Callable, Iterator

from ..errors import IntegrityError, LinkedFileChangedError, NotFoundError
from . import feedlog
from ._fs import (
    atomic_write,
    copy_and_hash,
    disk_full_error,
    existing_file,
    in_folder,
    makedirs,
    register_root,
    sha1_of_file,
    shard,
    temp_name,
)
from .base import Store, check_feed_messages, check_mutable_key, check_mutable_value, check_task_result_name
from .owner import check_owner_can_read
from .private import locked
from .uri import check_sha1, parse_feed_uri

# kachery-cloud caches the sha1 of files above 1 MB; we cache every linked file (a cache hit is what makes
# linking an unchanged file again cost microseconds), with the same key and record, so the caches are shared
SHA1_CACHE_FOLDER = "@compute_sha1_cache"

class LocalStore(Store):
    """The store in a directory (created when missing), laid out as kachery-cloud's local store."""

    def __init__(self, directory: str):
        self.directory = os.path.abspath(os.path.expanduser(os.fspath(directory)))
        makedirs(self.directory)
        register_root(self.directory)

    def _content_path(self, sha1: str) -> str:
        return os.path.join(self.directory, "sha1", shard(sha1), sha1)

    def _link_record_path(self, sha1: str) -> str:
        return os.path.join(self.directory, "linked_files", "sha1", shard(sha1), sha1)

    # content ------------------------------------------------------------------------------------------
    def put_bytes(self, data: bytes) -> str:
        sha1 = hashlib.sha1(data).hexdigest()
        dest = self._content_path(sha1)
        if not os.path.exists(dest):
            atomic_write(dest, data)
        return sha1

    def put_file(self, path: str) -> str:
        path = existing_file(path)
        st = os.stat(path)
        known = self._cached_sha1(path, st)
        if known and os.path.exists(self._content_path(known)):
            return known  # this unchanged file was stored before: nothing to copy
        # copy into a temp file inside the store, name it by the sha1 of the copy, rename into place; both
        # folders are reached without following links (a shared store's member may have planted one)
        with in_folder(os.path.join(self.directory, "sha1", "incoming")) as (ifd, _):
            tmp = os.path.basename(temp_name("incoming"))
            sha1 = copy_and_hash(path, tmp, ifd, os.path.join(self.directory, "sha1", tmp))
            dest = self._content_path(sha1)
            try:
                after = os.stat(path)
                if (after.st_size, after.st_mtime) == (st.st_size, st.st_mtime):
                    self._remember_sha1(path, after, sha1)
                with in_folder(dest) as (dfd, name):
                    os.replace(tmp, name, src_dir_fd=ifd, dst_dir_fd=dfd)
            except BaseException as exc:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp, dir_fd=ifd)
                if isinstance(exc, OSError):
                    raise disk_full_error(exc, dest) from exc
                raise
        return sha1

    def file_sha1(self, path: str) -> str:
        """sha1 of a file, cached by path+size+mtime in ``@compute_sha1_cache`` (kachery-cloud's key)."""
        path = existing_file(path)
        st = os.stat(path)
        sha1 = self._cached_sha1(path, st)
        if sha1 is None:
            sha1 = sha1_of_file(path)
            self._remember_sha1(path, st, sha1)
        return sha1

    @staticmethod
    def _sha1_cache_key(path: str) -> str:
        return f"{SHA1_CACHE_FOLDER}/{hashlib.sha1(path.encode('utf-8')).hexdigest()}"

    def _cached_sha1(self, path: str, st: os.stat_result) -> str | None:
        cached = self.get_mutable(self._sha1_cache_key(path))
        if not cached:
            return None
        try:
            rec = json.loads(cached)
            if rec["size"] == st.st_size and rec["mtime"] == st.st_mtime and check_sha1(rec["sha1"]):
                return rec["sha1"]
        except (ValueError, KeyError, TypeError):
            pass  # a damaged cache entry is as good as none: the caller recomputes and rewrites it
        return None

    def _remember_sha1(self, path: str, st: os.stat_result, sha1: str) -> None:
        self.set_mutable(self._sha1_cache_key(path), _file_record(path, st, sha1))

    def link(self, path: str) -> str:
        path = existing_file(path)
        sha1 = self.file_sha1(path)
        record = _file_record(path, os.stat(path), sha1)
        rec_path = self._link_record_path(sha1)
        try:
            with open(rec_path, encoding="utf-8") as f:
                if f.read() == record:
                    return sha1  # linking an unchanged file again writes nothing
        except FileNotFoundError:
            pass
        atomic_write(rec_path, record.encode("utf-8"))
        return sha1

    def link_with_manifest(self, path: str, chunk_size: int) -> tuple[str, str]:
        """Link ``path`` and store its chunk manifest from one read of the file: the whole-file sha1 and the
        chunks' are computed in the same pass (chunk_manifest.hash_in_chunks). A file whose sha1 is cached (an
        unchanged file linked before) keeps its sha1, and its manifest is reused or built (a pass that checks
        the sha1 again)."""
        from .chunk_manifest import check_chunk_size, hash_in_chunks, remember_manifest

        path = existing_file(path)
        st = os.stat(path)
        check_chunk_size(chunk_size, st.st_size)
        if self._cached_sha1(path, st) is not None:
            return super().link_with_manifest(path, chunk_size)
        manifest = hash_in_chunks(path, chunk_size)
        after = os.stat(path)
        if (after.st_size, after.st_mtime) != (st.st_size, st.st_mtime) or manifest.size != st.st_size:
            raise LinkedFileChangedError(f"{path} changed while it was being linked (size or modification time); "
                                         "link it again once nothing writes to it")
        self._remember_sha1(path, st, manifest.sha1)
        sha1 = self.link(path)  # the sha1 just remembered: no second read
        return sha1, remember_manifest(self, manifest)  # the same bytes as a manifest stored before, if any

    def has(self, sha1: str) -> bool:
        check_sha1(sha1)
        return os.path.exists(self._content_path(sha1)) or os.path.exists(self._link_record_path(sha1))

    def local_path(self, sha1: str, *, verify: bool = False) -> str:
        check_sha1(sha1)
        path = self._content_path(sha1)
        if os.path.exists(path):
            if verify and sha1_of_file(path) != sha1:
                raise IntegrityError(
                    f"stored file {path} no longer matches its sha1 {sha1} (it was modified or damaged); "
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
        rec = _read_link_record(rec_path, sha1)
        path = rec["path"]
        # a record anyone in the store's group could have written must not reach files its writer cannot read
        check_owner_can_read(rec_path, path, sha1)
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
                "since it was linked; restore the original, or link the new file and use its new URI"
            )
        if st.st_mtime != rec["mtime"] or verify:
            actual = sha1_of_file(path)
            if actual != sha1:
                raise LinkedFileChangedError(
                    f"linked file {path} was modified since it was linked: its sha1 is now {actual}, "
                    f"not {sha1}; restore the original, or link the new file and use its new URI"
                )
            if st.st_mtime != rec["mtime"]:  # touched but unchanged: remember the new mtime (as kachery-cloud)
                atomic_write(rec_path, _file_record(path, st, sha1).encode("utf-8"))
        return path

    # mutables -----------------------------------------------------------------------------------------
    def _mutable_path(self, key: str) -> str:
        return os.path.join(self.directory, "mutables", *check_mutable_key(key))

    def set_mutable(self, key: str, value: str) -> None:
        path = self._mutable_path(key)
        atomic_write(path, check_mutable_value(key, value).encode("utf-8"))

    def get_mutable(self, key: str) -> str | None:
        try:
            data = _read_nofollow(self._mutable_path(key))
        except IsADirectoryError:
            return None  # '@a/b' where b is a folder would be '@a/@b'; no value of that name exists
        return None if data is None else data.decode("utf-8")

    def update_mutable(self, key: str, update: Callable[[str | None], str | None]) -> str | None:
        """Read, modify and write a mutable under an exclusive lock shared by every process on the store.

        ``update(old)`` returns the new value (None deletes it); the new value is returned. Two processes that
        add to one list at once both land.
        """
        path = self._mutable_path(key)
        lock_path = os.path.join(os.path.dirname(path), "@lock." + os.path.basename(path))
        with locked(lock_path):
            new = update(self.get_mutable(key))
            if new is None:
                self.delete_mutable(key)
            else:
                self.set_mutable(key, new)
        return new

    def delete_mutable(self, key: str) -> bool:
        try:
            os.unlink(self._mutable_path(key))
            return True
        except FileNotFoundError:
            return False

    def list_mutables(self, folder: str) -> list[str]:
        parts = check_mutable_key(folder.rstrip("/") + "/x")[:-1]
        d = os.path.join(self.directory, "mutables", *parts)
        try:
            names = os.listdir(d)
        except FileNotFoundError:
            return []
        return sorted(n for n in names if not n.startswith("@") and os.path.isfile(os.path.join(d, n)))

    # feeds --------------------------------------------------------------------------------------------
    def _feed_path(self, feed_id: str) -> str:
        return os.path.join(self.directory, "feeds", parse_feed_uri(feed_id) + ".jsonl")

    def feed_create(self, feed_id: str) -> None:
        feedlog.create(self._feed_path(feed_id), parse_feed_uri(feed_id))

    def feed_exists(self, feed_id: str) -> bool:
        return os.path.exists(self._feed_path(feed_id))

    def feed_append(self, feed_id: str, messages: list, *, user_id: str | None = None) -> list[int]:
        payloads = check_feed_messages(messages, user_id)  # refuse bad messages before taking the lock
        return feedlog.append(self._feed_path(feed_id), parse_feed_uri(feed_id), payloads, user_id)

    def feed_read(self, feed_id: str, start: int = 0) -> list[dict]:
        return feedlog.read(self._feed_path(feed_id), parse_feed_uri(feed_id), start)

    def feed_count(self, feed_id: str) -> int:
        return feedlog.count(self._feed_path(feed_id), parse_feed_uri(feed_id))

    def feed_delete(self, feed_id: str) -> bool:
        try:
            os.remove(self._feed_path(feed_id))
            return True
        except FileNotFoundError:
            return False

    def feed_ids(self) -> Iterator[str]:
        d = os.path.join(self.directory, "feeds")
        if os.path.isdir(d):
            for name in sorted(os.listdir(d)):
                if name.endswith(".jsonl"):
                    yield name[:-len(".jsonl")]

    # task results -------------------------------------------------------------------------------------
    def _task_result_path(self, task_name: str, job_id: str) -> str:
        check_task_result_name(task_name, job_id)
        return os.path.join(self.directory, "task_results", task_name, shard(job_id), job_id)

    def put_task_result(self, task_name: str, job_id: str, data: bytes) -> None:
        # fsync before the rename: after a crash a result is whole or absent, never a stub that looks cached
        atomic_write(self._task_result_path(task_name, job_id), bytes(data), fsync=True)

    def get_task_result(self, task_name: str, job_id: str) -> bytes | None:
        return _read_nofollow(self._task_result_path(task_name, job_id), writable=True)

    def delete_task_result(self, task_name: str, job_id: str) -> bool:
        try:
            os.unlink(self._task_result_path(task_name, job_id))
            return True
        except FileNotFoundError:
            return False


def _read_nofollow(path: str, writable: bool = False) -> bytes | bytearray | None:
    """The bytes of ``path`` (None when absent); a symbolic link there is refused, never read through.

    ``writable``: a bytearray, so arrays read from a result bundle are the caller's without a copy.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise IntegrityError(f"{path} is a symbolic link; the store never reads or writes through one (a user "
                                 "with write access to the store may have planted it). Remove it") from None
        raise
    with os.fdopen(fd, "rb") as f:
        if not writable:
            return f.read()
        buf = bytearray(os.fstat(f.fileno()).st_size)
        got = f.readinto(buf)  # a result is replaced by rename, never written in place: the size holds
        return buf if got == len(buf) else buf[:got]


def _file_record(path: str, st: os.stat_result, sha1: str) -> str:
    """The JSON text kachery-cloud writes for linked files and the sha1 cache (json.dumps defaults)."""
    return json.dumps({"path": path, "size": st.st_size, "mtime": st.st_mtime, "sha1": sha1})


def _read_link_record(rec_path: str, sha1: str) -> dict:
    try:
        with open(rec_path, encoding="utf-8") as f:
            rec = json.load(f)
        if not (isinstance(rec["path"], str) and isinstance(rec["size"], int)):
            raise TypeError("path must be a string and size an integer")
        if not isinstance(rec.get("mtime"), (int, float)):
            raise KeyError("mtime")
        return rec
    except (ValueError, KeyError, TypeError) as exc:
        raise IntegrityError(
            f"the link record {rec_path} of sha1://{sha1} is damaged ({exc}); link the file again with "
            "`sortingview store link PATH`"
        ) from None


__all__ = ["LocalStore", "sha1_of_file", "SHA1_CACHE_FOLDER"]
