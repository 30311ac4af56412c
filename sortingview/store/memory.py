"""An in-memory store for tests: the same behaviour as LocalStore, nothing on disk but the temp files
that :meth:`local_path` needs to hand out a path (and the files that :meth:`link` references)."""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import time
from typing import Iterator

from ..errors import FeedError, IntegrityError, LinkedFileChangedError, NotFoundError
from ._fs import existing_file, sha1_of_file
from .base import Store, check_feed_messages, check_mutable_key, check_mutable_value, check_task_result_name
from .uri import check_sha1, parse_feed_uri


class MemoryStore(Store):
    directory = None

    def __init__(self) -> None:
        self._blobs: dict[str, bytes] = {}
        self._links: dict[str, dict] = {}
        self._mutables: dict[tuple, str] = {}
        self._feeds: dict[str, list[dict]] = {}
        self._results: dict[tuple, bytes] = {}
        self._lock = threading.Lock()
        self._update_lock = threading.Lock()
        self._tmp = tempfile.TemporaryDirectory(prefix="sortingview-memstore-")

    # content ------------------------------------------------------------------------------------------
    def put_bytes(self, data: bytes) -> str:
        sha1 = hashlib.sha1(data).hexdigest()
        self._blobs.setdefault(sha1, bytes(data))
        return sha1

    def put_file(self, path: str) -> str:
        with open(existing_file(path), "rb") as f:
            return self.put_bytes(f.read())

    def link(self, path: str) -> str:
        path = existing_file(path)
        st = os.stat(path)
        sha1 = sha1_of_file(path)
        self._links[sha1] = {"path": path, "size": st.st_size, "mtime": st.st_mtime, "sha1": sha1}
        return sha1

    def has(self, sha1: str) -> bool:
        check_sha1(sha1)
        return sha1 in self._blobs or sha1 in self._links

    def local_path(self, sha1: str, *, verify: bool = False) -> str:
        check_sha1(sha1)
        if sha1 in self._blobs:
            data = self._blobs[sha1]
            if verify and hashlib.sha1(data).hexdigest() != sha1:
                raise IntegrityError(f"in-memory content sha1://{sha1} was damaged; delete it and store it again")
            path = os.path.join(self._tmp.name, sha1)
            if verify or not os.path.exists(path):  # the handed-out copy may have been written to
                with open(path, "wb") as f:
                    f.write(data)
            return path
        if sha1 in self._links:
            return self._check_linked(self._links[sha1], verify)
        raise NotFoundError(
            f"sha1://{sha1} is not in the in-memory store; store it first with store_file or store_bytes"
        )

    def _check_linked(self, rec: dict, verify: bool) -> str:
        path, sha1 = rec["path"], rec["sha1"]
        if not os.path.exists(path):
            raise LinkedFileChangedError(
                f"linked file {path} (sha1://{sha1}) no longer exists; restore it at that path, "
                "or link its new location")
        st = os.stat(path)
        if st.st_size != rec["size"]:
            raise LinkedFileChangedError(
                f"linked file {path} (sha1://{sha1}) changed size from {rec['size']} to {st.st_size} bytes "
                "since it was linked; restore the original, or link the new file and use its new URI")
        if (st.st_mtime != rec["mtime"] or verify) and sha1_of_file(path) != sha1:
            raise LinkedFileChangedError(
                f"linked file {path} (sha1://{sha1}) was modified since it was linked; restore the original, "
                "or link the new file and use its new URI")
        rec["mtime"] = st.st_mtime
        return path

    def read_bytes(self, sha1: str, *, verify: bool = False) -> bytes:
        if sha1 in self._blobs and not verify:
            return self._blobs[sha1]
        return super().read_bytes(sha1, verify=verify)

    # mutables -----------------------------------------------------------------------------------------
    def set_mutable(self, key: str, value: str) -> None:
        parts = tuple(check_mutable_key(key))
        self._mutables[parts] = check_mutable_value(key, value)

    def get_mutable(self, key: str) -> str | None:
        return self._mutables.get(tuple(check_mutable_key(key)))

    def delete_mutable(self, key: str) -> bool:
        return self._mutables.pop(tuple(check_mutable_key(key)), None) is not None

    def list_mutables(self, folder: str) -> list[str]:
        prefix = tuple(check_mutable_key(folder.rstrip("/") + "/x")[:-1])
        return sorted(k[-1] for k in self._mutables if k[:-1] == prefix)

    # feeds (records are kept encoded, so a caller that changes a message it read changes nothing here) ---
    def feed_create(self, feed_id: str) -> None:
        feed_id = parse_feed_uri(feed_id)
        with self._lock:
            if feed_id in self._feeds:
                raise FeedError(f"feed://{feed_id} already exists; load it with load_feed instead")
            self._feeds[feed_id] = []

    def feed_exists(self, feed_id: str) -> bool:
        return parse_feed_uri(feed_id) in self._feeds

    def feed_append(self, feed_id: str, messages: list, *, user_id: str | None = None) -> list[int]:
        payloads = check_feed_messages(messages, user_id)
        feed_id = parse_feed_uri(feed_id)
        with self._lock:
            if feed_id not in self._feeds:
                raise FeedError(f"feed://{feed_id} does not exist; create it first with create_feed()")
            recs = self._feeds[feed_id]
            now = time.time() * 1000
            first = len(recs)
            for p in payloads:
                recs.append({"messageNumber": len(recs), "timestamp": now, "userId": user_id, "message": p})
            return list(range(first, len(recs)))

    def feed_read(self, feed_id: str, start: int = 0) -> list[dict]:
        feed_id = parse_feed_uri(feed_id)
        with self._lock:
            if feed_id not in self._feeds:
                raise FeedError(f"feed://{feed_id} does not exist in the in-memory store; check the URI")
            recs = self._feeds[feed_id][max(0, start):]
        return [{**r, "message": json.loads(r["message"])} for r in recs]

    def feed_ids(self) -> Iterator[str]:
        return iter(sorted(self._feeds))

    def feed_delete(self, feed_id: str) -> bool:
        with self._lock:
            return self._feeds.pop(parse_feed_uri(feed_id), None) is not None

    # task results -------------------------------------------------------------------------------------
    def put_task_result(self, task_name: str, job_id: str, data: bytes) -> None:
        check_task_result_name(task_name, job_id)
        self._results[(task_name, job_id)] = bytes(data)

    def get_task_result(self, task_name: str, job_id: str) -> bytes | None:
        check_task_result_name(task_name, job_id)
        return self._results.get((task_name, job_id))

    def delete_task_result(self, task_name: str, job_id: str) -> bool:
        check_task_result_name(task_name, job_id)
        return self._results.pop((task_name, job_id), None) is not None

    def update_mutable(self, key: str, update) -> str | None:
        with self._update_lock:
            return super().update_mutable(key, update)
