"""Reading files larger than memory: direct I/O, several reads in flight, blocks handed on in order.

A file that cannot stay in the page cache (a Neuropixels recording of tens of GB) gains nothing from being
cached on its way through, and copying it out of the cache costs a core: read in 8 MB pieces, 41.5 GB cost
18 s of system time, about as much as the sha1 of the same bytes. Read with ``O_DIRECT`` the disk writes
into the process's buffer and the system time falls to about 1 s; with three or four reads in flight a
sequential read runs at the disk's speed (2.0-2.2 GB/s on the benchmark machine, `bench/io_floor.py`).

:func:`direct_wanted` decides per file: ``SORTINGVIEW_DIRECT_IO=1`` asks for it, ``0`` refuses it, and by
default a file of at least half the machine's memory is read directly when its file system accepts
``O_DIRECT`` (a smaller file may be read again from the cache, which direct reads would bypass).
:func:`prefetched` reads the items of a pass ahead, each into an aligned buffer from a bounded pool, and
hands them on in order; :func:`read_range` reads one byte range of a file into such a buffer, and
:func:`file_blocks` a whole file block after block (for hashing it).
"""
from __future__ import annotations

import collections
import mmap
import os
import queue
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterable, Iterator

import numpy as np

#: offsets, lengths and buffer addresses of direct reads are multiples of this (the largest logical block
#: size of common disks; a buffer from mmap is page-aligned)
ALIGN = 4096
#: how many reads a pass keeps in flight (the disk of the benchmark machine needs 3 for its full speed)
DEPTH = 3

_ENV = "SORTINGVIEW_DIRECT_IO"


def direct_wanted(path: str, size: int | None = None) -> bool:
    """Whether ``path`` is to be read with ``O_DIRECT`` (see the module's docstring)."""
    mode = os.environ.get(_ENV, "auto").strip().lower()
    if mode in ("0", "no", "false", "off"):
        return False
    if mode not in ("1", "yes", "true", "on", "auto", ""):
        raise ValueError(f"{_ENV} must be 1 (read large files with O_DIRECT), 0 (never) or auto; got {mode!r}")
    if mode in ("auto", "") and (os.path.getsize(path) if size is None else size) < _memory_bytes() // 2:
        return False
    return _accepts_direct(path)


def _memory_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not Linux-like: never read directly by default
        return 1 << 62


def _accepts_direct(path: str) -> bool:
    flag = getattr(os, "O_DIRECT", 0)
    if not flag:
        return False
    try:
        fd = os.open(path, os.O_RDONLY | flag)
    except OSError:  # tmpfs and some network file systems refuse O_DIRECT: read through the cache
        return False
    os.close(fd)
    return True


class File:
    """A file open for reading: ``fd`` (through the cache) and, when direct reads are wanted and accepted,
    ``direct_fd``. Close it (or use ``with``)."""

    def __init__(self, path: str, direct: bool | None = None):
        self.path = path
        self.direct = direct_wanted(path) if direct is None else direct
        self.fd = os.open(path, os.O_RDONLY)
        self.direct_fd = -1
        if self.direct:
            try:
                self.direct_fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
            except OSError:
                self.direct = False

    def close(self) -> None:
        for fd in (self.fd, self.direct_fd):
            if fd >= 0:
                os.close(fd)
        self.fd = self.direct_fd = -1

    def __enter__(self) -> File:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def aligned_buffer(nbytes: int) -> np.ndarray:
    """A page-aligned, writable uint8 array of ``nbytes`` (rounded up to :data:`ALIGN`), for direct reads."""
    size = max(ALIGN, -(-nbytes // ALIGN) * ALIGN)
    return np.frombuffer(mmap.mmap(-1, size), np.uint8)


def buffer_bytes_for(nbytes: int) -> int:
    """The buffer :func:`read_range` needs for a range of ``nbytes`` at any offset."""
    return nbytes + 2 * ALIGN


def read_range(f: File, buffer: np.ndarray, start: int, end: int, *, short_ok: bool = False) -> np.ndarray:
    """Bytes ``[start, end)`` of ``f`` read into ``buffer`` (from :func:`aligned_buffer`, at least
    :func:`buffer_bytes_for` ``(end - start)`` bytes); returns the view of exactly those bytes. Directly when
    ``f`` allows it (the aligned range around them is read), else through the cache. When the file ends
    before ``end`` this raises ``OSError``, or with ``short_ok`` returns the bytes up to its end."""
    if end - start > len(buffer) - (2 * ALIGN if f.direct else 0):
        raise ValueError(f"a range of {end - start} bytes does not fit a buffer of {len(buffer)}")
    if not f.direct:
        return buffer[:_read_fully(f.fd, buffer[:end - start], start, f.path, short_ok)]
    first = start - start % ALIGN
    last = -(-end // ALIGN) * ALIGN
    view = memoryview(buffer)[:last - first]
    got = 0
    while got < len(view):
        n = os.preadv(f.direct_fd, [view[got:]], first + got)
        if n <= 0:
            break
        got += n
        if got % ALIGN:  # a short read not on a block boundary (the end of the file): nothing follows directly
            break
    if first + got < end:  # ends short of the range: the rest through the cache says whether the file ended
        got += _read_fully(f.fd, buffer[got:end - first], first + got, f.path, short_ok)
    return buffer[start - first:max(start - first, min(got, end - first))]


def _read_fully(fd: int, out: np.ndarray, offset: int, path: str, short_ok: bool = False) -> int:
    """Read all of ``out`` from ``offset`` (or, with ``short_ok``, up to the end of the file); the count."""
    view = memoryview(out)
    got = 0
    while got < len(view):
        n = os.preadv(fd, [view[got:]], offset + got)
        if n <= 0:
            if short_ok:
                break
            raise OSError(f"{path} ends at byte {offset + got}, before byte {offset + len(view)} that a pass "
                          "needs: the file was truncated or is not the recording it was linked as")
        got += n
    return got


class Held:
    """An item :func:`prefetched` read, with the buffer it was read into; ``release()`` when done with it."""

    __slots__ = ("item", "data", "_buffer", "_free")

    def __init__(self, item: Any, data: Any, buffer: np.ndarray, free: queue.SimpleQueue):
        self.item, self.data, self._buffer, self._free = item, data, buffer, free

    def release(self) -> None:
        if self._buffer is not None:
            self._free.put(self._buffer)
            self._buffer = self.data = None


def prefetched(items: Iterable, fill: Callable[[Any, np.ndarray], Any], buffer_bytes: int, *,
               holders: int = 1, depth: int = DEPTH) -> Iterator[Held]:
    """``fill(item, buffer)`` for each item on ``depth`` reader threads, ahead of the consumer, yielding a
    :class:`Held` per item in the items' order. At most ``holders`` yielded items are held (not released)
    at once; memory is ``depth + holders + 1`` buffers of ``buffer_bytes``. An error of ``fill`` is raised
    where its item would have been yielded; closing the generator waits for the reads in flight."""
    free: queue.SimpleQueue = queue.SimpleQueue()
    for _ in range(depth + holders + 1):
        free.put(aligned_buffer(buffer_bytes))
    pending: collections.deque = collections.deque()
    source = iter(items)
    pool = ThreadPoolExecutor(depth, thread_name_prefix="prefetch")

    def start() -> None:
        item = next(source, _END)
        if item is not _END:
            buffer = free.get()  # waits while every buffer is read into or held
            pending.append((item, buffer, pool.submit(fill, item, buffer)))

    try:
        for _ in range(depth):
            start()
        while pending:
            item, buffer, future = pending.popleft()
            try:
                data = future.result()
            except BaseException:
                free.put(buffer)
                raise
            start()
            yield Held(item, data, buffer, free)
    finally:
        for _, _, future in pending:
            future.cancel()
        pool.shutdown(wait=True)


_END = object()


def file_blocks(f: File, block: int, *, holders: int = 1) -> Iterator[Held]:
    """All of ``f`` in consecutive blocks of ``block`` bytes (the last one shorter), read ahead by
    :func:`prefetched`, each a :class:`Held` to release (at most ``holders`` held at once); a file that shrank
    meanwhile gives shorter blocks."""
    return prefetched(((o, o + block) for o in range(0, os.fstat(f.fd).st_size, block)),
                      lambda r, buffer: read_range(f, buffer, *r, short_ok=True), buffer_bytes_for(block),
                      holders=holders)
