"""The Store abstraction: the smallest surface every store implements, and the checks they share."""
from __future__ import annotations

import abc
import re
from typing import Callable, Iterator

from ..errors import FeedError, InvalidMutableKeyError, InvalidMutableValueError, SerializationError

_TASK_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")


def check_mutable_key(key: str) -> list[str]:
    """Split ``@a/@b/name`` into parts, refusing anything that could escape the mutables folder."""
    if not isinstance(key, str) or not key:
        raise InvalidMutableKeyError(f"mutable key must be a non-empty string like '@group/name', got {key!r}")
    parts = key.split("/")
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part in ("", ".", "..") or "\\" in part or "\x00" in part:
            raise InvalidMutableKeyError(
                f"invalid mutable key {key!r}: component {part!r} is not allowed "
                "(no empty, '.' or '..' components); use a key like '@group/@sub/name'"
            )
        if not last and not part.startswith("@"):
            raise InvalidMutableKeyError(
                f"invalid mutable key {key!r}: every component but the last must start with '@' "
                f"(write '@{part}' instead of '{part}')"
            )
        if last and part.startswith("@"):
            raise InvalidMutableKeyError(
                f"invalid mutable key {key!r}: the last component names the value and must not start with '@'"
            )
    return parts


def check_mutable_value(key: str, value: str) -> str:
    if not isinstance(value, str):
        raise InvalidMutableValueError(
            f"the value of mutable {key!r} must be a str, got {type(value).__name__}; "
            "store structured values as text with json.dumps"
        )
    return value


def check_feed_messages(messages: list, user_id: str | None) -> list[bytes]:
    """Encode feed messages (JSON-able values) before any lock is taken; refuse what cannot be stored."""
    from ..serialize import store_json_bytes

    if isinstance(messages, (str, bytes, dict)) or not isinstance(messages, (list, tuple)):
        raise FeedError(f"feed messages must be given as a list, got {type(messages).__name__}; "
                        "use append_message(msg) for a single message")
    if user_id is not None and not isinstance(user_id, str):
        raise FeedError(f"user_id must be a string or None, got {type(user_id).__name__}")
    payloads = []
    for i, m in enumerate(messages):
        try:
            payloads.append(store_json_bytes(m))
        except SerializationError as exc:
            raise SerializationError(f"feed message {i} cannot be stored: {exc}") from None
    return payloads


def check_task_result_name(task_name: str, job_id: str) -> None:
    from .uri import check_sha1

    if not _TASK_NAME.match(task_name or ""):
        raise InvalidMutableKeyError(
            f"invalid task name {task_name!r} for a task result: use letters, digits, '.', '_' and '-' "
            "only, like 'sortingview.unit_metrics.1'"
        )
    check_sha1(job_id)


class Store(abc.ABC):
    """Content-addressed files, linked files, mutables, feeds and task results.

    Implementations: :class:`~sortingview.store.local.LocalStore` (a kachery-cloud compatible directory)
    and :class:`~sortingview.store.memory.MemoryStore` (tests). ``directory`` is None for stores that
    have no directory on disk.
    """

    directory: str | None = None

    # content ------------------------------------------------------------------------------------------
    @abc.abstractmethod
    def put_bytes(self, data: bytes) -> str:
        """Store bytes; return their sha1."""

    @abc.abstractmethod
    def put_file(self, path: str) -> str:
        """Copy a file into the store; return its sha1."""

    @abc.abstractmethod
    def link(self, path: str) -> str:
        """Reference a file in place (no copy); return its sha1."""

    def link_with_manifest(self, path: str, chunk_size: int) -> tuple[str, str]:
        """Link ``path``; return its sha1 and the sha1 of its chunk manifest in chunks of ``chunk_size`` (stored).

        This default reads the file twice (the link, then the manifest); LocalStore reads it once."""
        from .chunk_manifest import manifest_of_local

        sha1 = self.link(path)
        return sha1, manifest_of_local(self, sha1, chunk_size)[0]

    @abc.abstractmethod
    def has(self, sha1: str) -> bool:
        """True when the content is stored or linked (without verifying it)."""

    @abc.abstractmethod
    def local_path(self, sha1: str, *, verify: bool = False) -> str:
        """Path of a local file holding the content (NotFoundError, IntegrityError,
        LinkedFileChangedError)."""

    def read_bytes(self, sha1: str, *, verify: bool = False) -> bytes:
        with open(self.local_path(sha1, verify=verify), "rb") as f:
            return f.read()

    # mutables -----------------------------------------------------------------------------------------
    @abc.abstractmethod
    def set_mutable(self, key: str, value: str) -> None: ...

    @abc.abstractmethod
    def get_mutable(self, key: str) -> str | None: ...

    @abc.abstractmethod
    def delete_mutable(self, key: str) -> bool:
        """Delete a mutable; return whether it existed."""

    def update_mutable(self, key: str, update: Callable[[str | None], str | None]) -> str | None:
        """Set a mutable to ``update(old value)`` (None deletes it) with no update lost to a concurrent one.

        Stores shared between processes override this with a lock all of them take; return the new value.
        """
        new = update(self.get_mutable(key))
        if new is None:
            self.delete_mutable(key)
        else:
            self.set_mutable(key, new)
        return new

    @abc.abstractmethod
    def list_mutables(self, folder: str) -> list[str]:
        """Names of the values directly inside a mutable folder such as ``@sortingview/@workspaces``."""

    # feeds --------------------------------------------------------------------------------------------
    @abc.abstractmethod
    def feed_create(self, feed_id: str) -> None: ...

    @abc.abstractmethod
    def feed_exists(self, feed_id: str) -> bool: ...

    @abc.abstractmethod
    def feed_append(self, feed_id: str, messages: list, *, user_id: str | None = None) -> list[int]:
        """Append messages atomically and durably; return their numbers (0-based, consecutive)."""

    @abc.abstractmethod
    def feed_read(self, feed_id: str, start: int = 0) -> list[dict]:
        """Records ``{messageNumber, timestamp, userId, message}`` from ``start`` on."""

    def feed_count(self, feed_id: str) -> int:
        """Number of messages in a feed (stores may answer without reading them all)."""
        return len(self.feed_read(feed_id, 0))

    @abc.abstractmethod
    def feed_ids(self) -> Iterator[str]: ...

    def feed_delete(self, feed_id: str) -> bool:
        """Delete a feed and its messages; return whether it existed (used by workspace deletion)."""
        raise NotImplementedError(f"{type(self).__name__} cannot delete feeds")

    # task results -------------------------------------------------------------------------------------
    @abc.abstractmethod
    def put_task_result(self, task_name: str, job_id: str, data: bytes) -> None: ...

    @abc.abstractmethod
    def get_task_result(self, task_name: str, job_id: str) -> bytes | None: ...

    @abc.abstractmethod
    def delete_task_result(self, task_name: str, job_id: str) -> bool:
        """Forget a stored result (a damaged one, so that it is computed again); return whether it existed."""
