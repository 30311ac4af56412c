"""Reading the snippet windows of a binary file with libc's ``pread``, in a numba kernel (threads read at once:
it releases the GIL). Used by :func:`sortingview.tasks._reading.map_blocks`, the first look of
``fused_pass`` and sparse spike passes (:func:`read_on_threads`)."""
from __future__ import annotations

import numba
import numpy as np

# libc's pread, bound by name when the kernel is compiled (so the compiled kernel can be cached); the buffer
# address is passed as an integer (the same register as a pointer)
_pread = numba.types.ExternalFunction("pread", numba.types.intp(numba.types.intc, numba.types.intp,
                                                                 numba.types.uintp, numba.types.intp))


@numba.njit(nogil=True, cache=True)
def pread_windows(fd, address, file_offset, starts, rows, row_bytes):
    """Read the windows ``[starts[i], starts[i] + rows)`` (rows of ``row_bytes``; sorted starts) of the file
    ``fd`` from ``file_offset`` into the buffer at ``address``, each row to its place; touching or overlapping
    windows in one ``pread``. 0, or 1 on a read error."""
    s, n = 0, starts.shape[0]
    while s < n:
        first, last = starts[s], starts[s] + rows
        s += 1
        while s < n and starts[s] <= last:
            last = max(last, starts[s] + rows)
            s += 1
        done, size = 0, (last - first) * row_bytes
        while done < size:
            got = _pread(fd, address + first * row_bytes + done, size - done, file_offset + first * row_bytes + done)
            if got <= 0:
                return 1
            done += got
    return 0


@numba.njit(nogil=True, cache=True)
def _read_aligned(fd, address, begin, nbytes):
    """Read the 4 KiB pages around bytes ``[begin, begin + nbytes)`` of ``fd`` into the page-aligned buffer at
    ``address`` (as ``O_DIRECT`` needs); where byte ``begin`` landed in the buffer, or -1 on a read error (a
    short read included)."""
    first = begin - begin % 4096
    last = (begin + nbytes + 4095) // 4096 * 4096
    done = 0
    while done < last - first:
        got = _pread(fd, address + done, last - first - done, first + done)
        if got <= 0:
            break
        done += got
    if done < begin + nbytes - first:
        return -1
    return begin - first


def read_on_threads(path: str, threads: int, buffer_bytes: int, read) -> bool:
    """``read(fd, buffer, k)`` for k in ``range(threads)``, each on a thread of its own with a page-aligned
    ``buffer`` of ``buffer_bytes``, ``fd`` the file at ``path`` opened with ``O_DIRECT`` where the file system
    allows it (the kernels' reads are aligned: right for either); whether any of them failed (returned
    non-zero)."""
    from concurrent.futures import ThreadPoolExecutor

    from ..direct_io import File, aligned_buffer

    with File(path) as f:
        fd = f.direct_fd if f.direct else f.fd

        def one(k: int) -> int:
            return read(fd, aligned_buffer(buffer_bytes), k)

        with ThreadPoolExecutor(threads) as pool:
            return any(list(pool.map(one, range(threads))))


@numba.njit(nogil=True, cache=True)
def direct_window_sums(fd, buffer, address, file_offset, row_bytes, starts, groups, length, sums):
    """Add the windows ``[starts[i], starts[i] + length)`` (frames) of a file opened with ``O_DIRECT`` into
    ``sums[groups[i]]`` (frames x channels), each window read on its own into ``buffer`` (page-aligned, at
    ``address``; the samples' dtype; room for a window and two pages): the aligned pages around it, no copy
    through the cache. 0, or 1 on a read error (a short read included)."""
    channels = sums.shape[2]
    itemsize = row_bytes // channels
    for i in range(starts.shape[0]):
        skip = _read_aligned(fd, address, file_offset + starts[i] * row_bytes, length * row_bytes)
        if skip < 0:
            return 1
        at = skip // itemsize
        g = groups[i]
        for t in range(length):
            for c in range(channels):
                sums[g, t, c] += buffer[at + t * channels + c]
    return 0


@numba.njit(nogil=True, cache=True)
def direct_spike_items(fd, buffer, address, file_offset, row_bytes, starts, offsets, groups, value_rows, length,
                       channel_table, peak_channels, sums, sumsq, values):
    """A spike pass's items (``compute.snippets.spike_pass_block``), each read on its own from a file opened
    with ``O_DIRECT`` into ``buffer`` (as :func:`direct_window_sums`): a sample (``value_rows[i] >= 0``) reads
    the pages of its one frame, ``starts[i] + offsets[i]``, and its value on the group's peak channel goes to
    ``values[value_rows[i]]``; a snippet reads its ``length`` frames from ``starts[i]`` and adds them on the
    group's channels to ``sums``/``sumsq``. 0, or 1 on a read error (a short read included)."""
    channels = row_bytes // buffer.itemsize
    for i in range(starts.shape[0]):
        sample = value_rows[i] >= 0
        frame = starts[i] + offsets[i] if sample else starts[i]
        rows = 1 if sample else length
        skip = _read_aligned(fd, address, file_offset + frame * row_bytes, rows * row_bytes)
        if skip < 0:
            return 1
        at = skip // buffer.itemsize
        g = groups[i]
        if sample:
            values[value_rows[i]] = buffer[at + peak_channels[g]]
            continue
        for t in range(length):
            for k in range(channel_table.shape[1]):
                v = np.float64(buffer[at + t * channels + channel_table[g, k]])
                sums[g, t, k] += v
                sumsq[g, t, k] += v * v
    return 0
