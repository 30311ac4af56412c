"""The templates and the spike pass, computed once for all the processes of a store.

A backend runs ``average_waveforms`` (handler ``waveforms``), ``unit_metrics`` (``metrics``) and
``spike_amplitudes`` (``misc``) in worker processes of their own, and ``W.precompute`` submits the first two
at once. Each starts from the same templates (a pass over the recording on all channels) and the same spike
pass (every spike's amplitude, and the template spikes' deviations). A process keeps its last ones
(``waveforms._LAST_TEMPLATES``, ``spike_pass._LAST_PASS``), which the others cannot see: on a 41.5 GB
recording each worker would read the file twice more (14 + 15 s a read).

For recordings of at least :data:`SHARE_FROM_BYTES` loaded from the store (their object URIs known), both
are kept in the store's ``task_results/`` under the internal names :data:`TEMPLATES` and :data:`PASS`,
keyed by the recording's and sorting's URIs and the arguments, and computed once: a process about to
compute one takes an exclusive lock (``flock`` of a file under ``<store>/sortingview/locks/``), so a second
process asking for the same waits for the first and loads its result. A lock is released when its holder
ends, however it ends; a wait is bounded (:data:`WAIT_S`; then the waiting process computes for itself).
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import time
import weakref
from typing import Any, Iterator

from ..serialize import decode_value, encode_value, task_job_id

TEMPLATES = "sortingview.internal.unit_templates.1"
PASS = "sortingview.internal.spike_pass.1"
#: smaller recordings are not shared: their passes cost less than storing them (an fsync'd write)
SHARE_FROM_BYTES = 1 << 30
#: how long a process waits for another computing the same before it computes for itself
WAIT_S = 3600.0
_POLL_S = 0.05

_URIS: "weakref.WeakKeyDictionary[Any, str]" = weakref.WeakKeyDictionary()


def reusing() -> bool:
    """Whether templates and passes are kept and shared for the next task (``SORTINGVIEW_REUSE_TEMPLATES=0``:
    not, for benchmarks timing each task on its own)."""
    return os.environ.get("SORTINGVIEW_REUSE_TEMPLATES", "1") != "0"


def remember_uri(obj: Any, uri: str) -> None:
    """Record that the extractor ``obj`` was loaded from the object at ``uri`` (``_objects.load_*``)."""
    _URIS[obj] = uri


def uri_of(obj: Any) -> str | None:
    """The URI of the stored object the extractor ``obj`` was loaded from (:func:`remember_uri`), if any."""
    return _URIS.get(obj)


def key_for(recording, sorting, **arguments) -> dict | None:
    """The key of an intermediate result of these extractors, or None when it is not shared (an extractor not
    loaded from the store, a small recording, no store directory, reuse switched off)."""
    from ..store import get_store

    if not reusing() or get_store().directory is None:
        return None
    r, s = _URIS.get(recording), _URIS.get(sorting)
    if r is None or s is None:
        return None
    size = recording.get_num_samples(0) * recording.get_num_channels() * recording.get_dtype().itemsize
    if size < SHARE_FROM_BYTES:
        return None
    return {"recording": r, "sorting": s, **arguments}


class Slot:
    """What :func:`once` found (``value``: the decoded result, or None) and how to store a computed one."""

    def __init__(self, name: str, key: dict, value: Any):
        self.name, self.key, self.value = name, key, value

    def save(self, value: Any) -> None:
        from . import store_result

        store_result(self.name, self.key, encode_value(value, blobs_from=0))


@contextlib.contextmanager
def once(name: str, key: dict) -> Iterator[Slot]:
    """A :class:`Slot` with the stored result of ``name`` for ``key``, or, when there is none yet, held under
    the key's lock while the caller computes and saves it (another process asking meanwhile waits)."""
    hit = _load(name, key)
    if hit is not None:
        yield Slot(name, key, hit)
        return
    try:
        fd = _lock(name, key)
    except OSError:  # no lock file can be made here (a read-only store): compute without waiting for others
        fd = None
    try:
        yield Slot(name, key, _load(name, key))  # another process may have stored it while this one waited
    finally:
        if fd is not None:
            os.close(fd)  # releases the lock


def _load(name: str, key: dict) -> Any:
    from . import cached_result

    hit = cached_result(name, key)
    return None if hit is None else decode_value(hit)


def _lock(name: str, key: dict) -> int | None:
    """An exclusive lock on the key's lock file (its descriptor), or None when the wait ran out."""
    from ..store import get_store
    from ..store._fs import file_mode, open_folder

    folder = open_folder(os.path.join(get_store().directory, "sortingview", "locks"))  # no linked folder followed
    try:
        # read-only is enough for flock, so another user of a shared store can lock a file this one created
        fd = os.open(f"{name}-{task_job_id(name, key)}.lock", os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                     file_mode(), dir_fd=folder)
    finally:
        os.close(folder)
    deadline = time.monotonic() + WAIT_S
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(fd)
                return None
            time.sleep(_POLL_S)
