"""The link's read alone: the whole-file sha1 and the chunk manifest of a file, as ``store_recording`` computes
them (``chunk_manifest.hash_in_chunks``, chunks sized for a binary recording's rows), with wall and CPU time.

    python bench/bench_link_hash.py PATH [--row-bytes 768] [--repeats 2] [--switch-intervals 0.005,0.0005]

``--switch-intervals``: repeat with each of these as the interpreter's switch interval while hashing
(``chunk_manifest.SWITCH_S``; Python's default is 0.005 s), alternating.

A file of at least half the machine's memory is read with ``O_DIRECT`` (the page cache does not matter); a
smaller one may be served from the cache after the first repeat.
"""
from __future__ import annotations

import argparse
import os
import resource
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path")
    ap.add_argument("--row-bytes", type=int, default=384 * 2, help="bytes of one frame (channels x sample size)")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--switch-intervals", default="", help="comma-separated seconds (default: the code's own)")
    args = ap.parse_args()
    from sortingview.extractors.remote import chunk_size_for
    from sortingview.store import chunk_manifest
    from sortingview.store.chunk_manifest import hash_in_chunks

    intervals = [float(x) for x in args.switch_intervals.split(",") if x] or [chunk_manifest.SWITCH_S]

    size = os.path.getsize(args.path)
    chunk = chunk_size_for(args.row_bytes, size)
    print(f"{args.path}: {size / 1e9:.1f} GB, chunks of {chunk} bytes")
    for _ in range(args.repeats):
        for interval in intervals:
            chunk_manifest.SWITCH_S = interval
            t, r0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
            hash_in_chunks(args.path, chunk)
            r1 = resource.getrusage(resource.RUSAGE_SELF)
            print(f"  switch interval {interval:g} s: {time.perf_counter() - t:.1f} s wall, "
                  f"{r1.ru_utime - r0.ru_utime:.1f} s user, {r1.ru_stime - r0.ru_stime:.1f} s system", flush=True)


if __name__ == "__main__":
    main()
