"""Reading the snippet windows of a binary file with libc's ``pread``, in a numba kernel (threads read at once:
it releases the GIL). Used by :func:`sortingview.tasks._reading.map_blocks`."""
from __future__ import annotations

import numba

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
