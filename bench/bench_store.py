"""Benchmark of the store on one large file, against the tools a user would otherwise use.

    python bench/bench_store.py               # 1 GiB file
    python bench/bench_store.py --size-mb 256

On a seeded random file written under a temp folder (removed at the end), measures:

* ``link_file`` of a file the store has not seen vs ``hashlib.sha1`` (``hashlib.file_digest``) over the
  same bytes; target: at least 0.8x the hashing speed. The file is in the page cache for both.
* ``link_file`` of the same unchanged file again; target: under 1 ms (median of many calls).
* ``store_file`` vs ``cp`` (a subprocess) of the same file, and ``store_file`` of the unchanged file again.
  Dirty pages are flushed (``sync``) before each copy so that none pays for another's write-back.
* kachery-cloud's ``link_file`` and ``store_file_local`` on the same file, when the package is installed.

Every repetition runs all the cases, in a rotating order, so that other work on the machine hits them
alike; the table shows medians.
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


def timed(fn, *args) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def fresh_dir(base: str, name: str) -> str:
    d = os.path.join(base, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


class Cases:
    """Each method is one measured case on the file ``path``; it returns seconds."""

    def __init__(self, base: str, path: str):
        self.base, self.path = base, path
        os.environ["KACHERY_CLOUD_SANDBOX_DIR"] = os.path.join(base, "kc-sandbox")
        try:
            import kachery_cloud
        except ImportError:
            kachery_cloud = None
        self.kc = kachery_cloud

    def sha1(self) -> float:
        def digest():
            with open(self.path, "rb") as f:
                return hashlib.file_digest(f, "sha1").hexdigest()
        return timed(digest)

    def link(self) -> float:
        return timed(LocalStore(fresh_dir(self.base, "store")).link, self.path)

    def kc_link(self) -> float:
        os.environ["KACHERY_CLOUD_DIR"] = fresh_dir(self.base, "store")
        with contextlib.redirect_stdout(io.StringIO()):  # it prints "Computing sha1 of ..."
            return timed(self.kc.link_file, self.path)

    def cp(self) -> float:
        dest = os.path.join(fresh_dir(self.base, "store"), "copy")
        os.sync()
        return timed(subprocess.run, ["cp", self.path, dest])

    def store(self) -> float:
        store = LocalStore(fresh_dir(self.base, "store"))
        os.sync()
        return timed(store.put_file, self.path)

    def store_again(self) -> float:
        store = LocalStore(os.path.join(self.base, "store"))  # what store() left
        return timed(store.put_file, self.path)

    def kc_store(self) -> float:
        os.environ["KACHERY_CLOUD_DIR"] = fresh_dir(self.base, "store")
        os.sync()
        with contextlib.redirect_stdout(io.StringIO()):
            return timed(self.kc.store_file_local, self.path)

    def names(self) -> list[list[str]]:
        """Groups of cases; a group runs in this order (store_again needs what store left)."""
        groups = [["sha1"], ["link"], ["cp"], ["store", "store_again"]]
        if self.kc:
            groups += [["kc_link"], ["kc_store"]]
        return groups


def run_rounds(cases: Cases, reps: int) -> dict[str, list[float]]:
    groups = cases.names()
    out: dict[str, list[float]] = {n: [] for g in groups for n in g}
    for rep in range(reps):
        for group in groups[rep % len(groups):] + groups[:rep % len(groups)]:
            for name in group:
                out[name].append(getattr(cases, name)())
    return out


def link_again(cases: Cases, calls: int) -> tuple[list[float], list[float]]:
    ours = LocalStore(fresh_dir(cases.base, "store-again"))
    ours.link(cases.path)
    t_ours = [timed(ours.link, cases.path) for _ in range(calls)]
    t_kc = []
    if cases.kc:
        os.environ["KACHERY_CLOUD_DIR"] = fresh_dir(cases.base, "kc-again")
        with contextlib.redirect_stdout(io.StringIO()):
            cases.kc.link_file(cases.path)
            t_kc = [timed(cases.kc.link_file, cases.path) for _ in range(min(calls, 500))]
    return t_ours, t_kc


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


def report(size: int, t: dict[str, list[float]], again: list[float], kc_again: list[float]) -> None:
    m = {k: statistics.median(v) for k, v in t.items() if v}
    gb = size / 1e9

    def row(label: str, seconds: float, note: str = "", speed: bool = True) -> None:
        print(f"{label:44} {fmt(seconds)} {f'{gb / seconds:7.2f}' if speed else '':>7}   {note}")

    print(f"\n{'case':44} {'median':>13} {'GB/s':>7}   ratio")
    row("hashlib.sha1 (file_digest), warm", m["sha1"])
    row("link_file, unseen file, warm", m["link"], f"{m['sha1'] / m['link']:.2f}x hashing speed (target >= 0.80)")
    p99 = sorted(again)[int(0.99 * (len(again) - 1))]
    row("link_file again, unchanged", statistics.median(again),
        f"p99 {p99 * 1e3:.3f} ms over {len(again)} calls (target < 1 ms)", speed=False)
    row("cp (subprocess)", m["cp"])
    row("store_file", m["store"], f"{m['store'] / m['cp']:.2f}x the time of cp")
    row("store_file again, unchanged", m["store_again"], "(sha1 cache: nothing copied)", speed=False)
    if "kc_link" in m:
        row("kachery_cloud.link_file, unseen", m["kc_link"], f"ours takes {m['link'] / m['kc_link']:.2f}x its time")
        row("kachery_cloud.link_file again", statistics.median(kc_again),
            f"ours takes {statistics.median(again) / statistics.median(kc_again):.2f}x its time", speed=False)
        row("kachery_cloud.store_file_local", m["kc_store"], f"ours takes {m['store'] / m['kc_store']:.2f}x its time")
    print(f"\n(medians of {len(t['sha1'])} rounds on a {size / 2**20:.0f} MiB file; "
          f"load average now {os.getloadavg()[0]:.2f})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=int, default=1024, help="size of the generated file in MiB (default 1024)")
    ap.add_argument("--reps", type=int, default=5, help="rounds of the large-file cases (default 5)")
    ap.add_argument("--again-calls", type=int, default=2000, help="calls of link_file on the unchanged file")
    ap.add_argument("--dir", default=None, help="where to make the temp folder (default: the system temp)")
    args = ap.parse_args()
    size = args.size_mb * 1024 * 1024
    base = tempfile.mkdtemp(prefix="bench-store-", dir=args.dir)
    try:
        path = os.path.join(base, "recording.dat")
        print(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f}")
        print(f"writing {args.size_mb} MiB of seeded random bytes to {path} ...", flush=True)
        write_random_file(path, size)
        warm(path)
        cases = Cases(base, path)
        times = run_rounds(cases, args.reps)
        again, kc_again = link_again(cases, args.again_calls)
        report(size, times, again, kc_again)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
