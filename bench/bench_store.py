"""Benchmark of the store on one large file, against the tools a user would otherwise use.

    python bench/bench_store.py               # 1 GB file
    python bench/bench_store.py --size-mb 256

Measures, on a seeded random file written under a temp folder (removed at the end):

* ``link_file`` of a file the store has not seen, vs ``hashlib.sha1`` over the same bytes (target: at least
  0.8x the hashing speed). Both run with the file in the page cache (it is read once before), alternated.
* ``link_file`` of the same unchanged file again (target: under 1 ms; median of many calls).
* ``store_file`` vs ``cp`` (a subprocess) of the same file; dirty pages are flushed before each run so
  neither pays for the other's write-back.
* kachery-cloud's ``link_file`` and ``store_file_local`` on the same file, when the package is installed.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

from sortingview.store import LocalStore

CHUNK = 64 * 1024 * 1024


def write_random_file(path: str, size: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(CHUNK, left)
            f.write(rng.bytes(n))
            left -= n


def warm(path: str) -> None:
    with open(path, "rb", buffering=0) as f:
        while f.read(CHUNK):
            pass


def plain_sha1(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha1").hexdigest()


def timed(fn, *args) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def fresh_dir(base: str, name: str) -> str:
    d = os.path.join(base, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def bench_link_unseen(base: str, path: str, reps: int) -> tuple[list[float], list[float]]:
    t_link, t_sha1 = [], []
    for i in range(reps):
        store = LocalStore(fresh_dir(base, f"store-link-{i}"))
        t_sha1.append(timed(plain_sha1, path))
        t_link.append(timed(store.link, path))
    return t_link, t_sha1


def bench_link_again(base: str, path: str, calls: int) -> list[float]:
    store = LocalStore(fresh_dir(base, "store-again"))
    store.link(path)
    out = []
    for _ in range(calls):
        t0 = time.perf_counter()
        store.link(path)
        out.append(time.perf_counter() - t0)
    return out


def bench_store_vs_cp(base: str, path: str, reps: int) -> tuple[list[float], list[float], list[float]]:
    t_store, t_cp, t_again = [], [], []
    for i in range(reps):
        d = fresh_dir(base, "copies")
        os.sync()
        t_cp.append(timed(subprocess.run, ["cp", path, os.path.join(d, f"copy{i}")]))
        os.sync()
        store = LocalStore(fresh_dir(base, f"store-put-{i}"))
        t_store.append(timed(store.put_file, path))
        t_again.append(timed(store.put_file, path))
        shutil.rmtree(store.directory)
    shutil.rmtree(os.path.join(base, "copies"), ignore_errors=True)
    return t_store, t_cp, t_again


def bench_kachery(base: str, path: str, reps: int) -> dict[str, float] | None:
    """kachery-cloud's own local functions on the same file (medians), when the package is installed."""
    try:
        os.environ["KACHERY_CLOUD_SANDBOX_DIR"] = os.path.join(base, "kc-sandbox")
        import kachery_cloud as kc
    except ImportError:
        return None
    link, again, store = [], [], []
    quiet = contextlib.redirect_stdout(io.StringIO())  # it prints "Computing sha1 of ..." for large files
    with quiet:
        for _ in range(reps):
            _kachery_round(kc, base, path, link, again, store)
    med = statistics.median
    return {"link": med(link), "link_again": med(again), "store": med(store)}


def _kachery_round(kc, base: str, path: str, link: list, again: list, store: list) -> None:
    os.environ["KACHERY_CLOUD_DIR"] = fresh_dir(base, "kc-link")
    link.append(timed(kc.link_file, path))
    again.append(timed(kc.link_file, path))
    os.environ["KACHERY_CLOUD_DIR"] = fresh_dir(base, "kc-put")
    os.sync()
    store.append(timed(kc.store_file_local, path))


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, Python {platform.python_version()}, {platform.system()}"


def fmt(seconds: float) -> str:
    return f"{seconds * 1e3:10.3f} ms" if seconds < 1 else f"{seconds:10.3f} s "


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=int, default=1024, help="size of the generated file in MiB (default 1024)")
    ap.add_argument("--reps", type=int, default=5, help="repetitions of the large-file measurements (median)")
    ap.add_argument("--again-calls", type=int, default=2000, help="calls of link_file on the unchanged file")
    ap.add_argument("--dir", default=None, help="where to write the temp folder (default: the system temp)")
    args = ap.parse_args()
    size = args.size_mb * 1024 * 1024
    base = tempfile.mkdtemp(prefix="bench-store-", dir=args.dir)
    try:
        path = os.path.join(base, "recording.dat")
        print(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f}")
        print(f"writing {args.size_mb} MiB of seeded random bytes to {path} ...", flush=True)
        write_random_file(path, size)
        warm(path)
        t_link, t_sha1 = bench_link_unseen(base, path, args.reps)
        again = bench_link_again(base, path, args.again_calls)
        t_store, t_cp, t_store_again = bench_store_vs_cp(base, path, args.reps)
        kc = bench_kachery(base, path, args.reps)
        report(size, t_link, t_sha1, again, t_store, t_cp, t_store_again, kc)
        print(f"load average at the end: {os.getloadavg()[0]:.2f} (other work on the machine makes times noisy)")
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


def report(size, t_link, t_sha1, again, t_store, t_cp, t_store_again, kc) -> None:
    med = statistics.median
    gbps = size / 1e9
    link, sha1, store, cp = med(t_link), med(t_sha1), med(t_store), med(t_cp)
    again_sorted = sorted(again)
    p99 = again_sorted[int(0.99 * (len(again) - 1))]
    print()
    print(f"{'measurement':44} {'time':>13} {'GB/s':>7}   ratio")
    print(f"{'hashlib.sha1 (file_digest), warm':44} {fmt(sha1)} {gbps / sha1:7.2f}")
    print(f"{'link_file, unseen file, warm':44} {fmt(link)} {gbps / link:7.2f}   "
          f"{sha1 / link:.2f}x hashing speed (target >= 0.80)")
    print(f"{'link_file again, unchanged (median)':44} {fmt(med(again))} {'':7}   "
          f"p99 {p99 * 1e3:.3f} ms, n={len(again)} (target < 1 ms)")
    print(f"{'cp (subprocess)':44} {fmt(cp)} {gbps / cp:7.2f}")
    print(f"{'store_file':44} {fmt(store)} {gbps / store:7.2f}   {store / cp:.2f}x the time of cp")
    print(f"{'store_file again, unchanged (sha1 cache)':44} {fmt(med(t_store_again))}")
    if kc:
        print(f"{'kachery_cloud.link_file, unseen':44} {fmt(kc['link'])} {gbps / kc['link']:7.2f}   "
              f"ours is {kc['link'] / link:.2f}x faster")
        print(f"{'kachery_cloud.link_file again':44} {fmt(kc['link_again'])} {'':7}   "
              f"ours is {kc['link_again'] / med(again):.1f}x faster")
        print(f"{'kachery_cloud.store_file_local':44} {fmt(kc['store'])} {gbps / kc['store']:7.2f}   "
              f"ours is {kc['store'] / store:.2f}x faster")
    print(f"\n(medians of {len(t_link)} runs on a {size / 2**20:.0f} MiB file)")


if __name__ == "__main__":
    sys.exit(main())
