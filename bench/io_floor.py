"""What the disk allows at Neuropixels scale: the time of one read of the traces file, beside the time a
target leaves.

    python bench/io_floor.py --data /work/data/np384 --peer-seconds 121.1 --ratio 5

Prints, for the dataset ``bench/neuropixels_data.py`` wrote:

* the share of the file's 4 KiB pages that hold the peak sample of at least one spike (every spike's amplitude,
  which SortingAnalyzer's ``spike_amplitudes`` and our ``spike_amplitudes.2`` compute, reads at least these
  pages; they are spread over the whole file);
* the time of one sequential read of the whole file (8 MiB reads; the file is larger than the page cache, so a
  read from its start finds none of it cached), the same read with ``O_DIRECT`` as sortingview's passes make it
  (``sortingview.direct_io``), each with the CPU time it took, and sha1 over data already in memory (the store
  names a recording by the sha1 of its bytes);
* the time ``--ratio`` times faster than ``--peer-seconds`` leaves for everything.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import time

import numpy as np

PAGE = 4096


def peak_page_share(data: str) -> float:
    meta = json.load(open(os.path.join(data, "meta.json")))
    frame_bytes = 2 * meta["numChannels"]
    frames = np.load(os.path.join(data, "sorting.npz"))["spike_indexes_seg0"].astype(np.int64)
    pages = np.unique(frames * frame_bytes // PAGE)
    last = np.unique((frames * frame_bytes + frame_bytes - 1) // PAGE)  # a frame may straddle two pages
    return len(np.union1d(pages, last)) / (meta["bytes"] / PAGE)


def sequential_read(path: str, block: int = 8 << 20) -> tuple[float, int]:
    buf = bytearray(block)
    total = 0
    with open(path, "rb", buffering=0) as f:
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
        t = time.perf_counter()
        while n := f.readinto(buf):
            total += n
        return time.perf_counter() - t, total


def direct_read(path: str, block: int = 32 << 20) -> tuple[float, float, int]:
    """One read of the whole file as the passes read a file larger than the page cache (``direct_io``:
    ``O_DIRECT``, three reads in flight): (seconds, CPU seconds of the process, bytes)."""
    from sortingview.direct_io import File, file_blocks

    total = 0
    with File(path, direct=True) as f:
        cpu, t = time.process_time(), time.perf_counter()
        for held in file_blocks(f, block):
            total += len(held.data)
            held.release()
        return time.perf_counter() - t, time.process_time() - cpu, total


def sha1_speed(size: int = 1 << 30) -> float:
    data = np.random.default_rng(0).integers(0, 255, size, dtype=np.uint8).tobytes()
    t = time.perf_counter()
    hashlib.sha1(data).hexdigest()
    return size / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="/work/data/np384")
    ap.add_argument("--peer-seconds", type=float, required=True, help="SortingAnalyzer's end-to-end time")
    ap.add_argument("--ratio", type=float, default=5.0)
    args = ap.parse_args()
    path = os.path.join(args.data, "traces.int16.raw")
    share = peak_page_share(args.data)
    print(f"pages holding a spike's peak sample: {share:.1%} of the file's 4 KiB pages")
    speed = sha1_speed()
    print(f"sha1 in memory: {speed / 1e9:.2f} GB/s (one core)")
    cpu = time.process_time()
    seconds, size = sequential_read(path)
    cpu = time.process_time() - cpu
    print(f"one sequential read of {size / 1e9:.1f} GB through the page cache: {seconds:.1f} s "
          f"({size / seconds / 1e9:.2f} GB/s, {cpu:.1f} s of CPU); sha1 alone would take {size / speed:.1f} s")
    direct, direct_cpu, _ = direct_read(path)
    print(f"the same read with O_DIRECT, three 32 MiB reads in flight (sortingview.direct_io): {direct:.1f} s "
          f"({size / direct / 1e9:.2f} GB/s, {direct_cpu:.1f} s of CPU)")
    seconds = min(seconds, direct)
    left = args.peer_seconds / args.ratio
    print(f"{args.ratio:g}x faster than {args.peer_seconds:g} s leaves {left:.1f} s for everything: "
          f"{left / seconds:.0%} of one read of the file")


if __name__ == "__main__":
    main()
