"""What recording a chunk manifest costs when a binary recording is stored (doc/benchmarks.md, "Sharing").

Writes a 384-channel int16 file (``--mb``, default 2048 MB: a few MB of noise tiled) in a temporary folder and
links it into fresh stores two ways, alternately, ``--rounds`` times:

* before: ``store.link_file`` (the link's sha1 pass) then ``manifest_of_local`` (a second read, hashing the
  chunks and the whole file again) -- what recording_to_object did before;
* after: ``store.link_file_with_manifest`` -- one read; a version 2 manifest (chunks of a multiple of 64
  bytes, OpenSSL's SHA-1 reachable) takes every chunk's entry from the file's one sha1, a version 1 manifest
  hashes the whole file in a second thread while the chunks are hashed.

Both from the page cache (the file is read once with ``cat`` first; on a cold disk the second read of the old
path costs a full disk read more). Checks that both give the same manifest, and prints the load average.
``nice -n 19 python bench/bench_manifest_pass.py [--mb 2048] [--rounds 2]``; the file is deleted afterwards.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time

import numpy as np


def _write(path: str, mb: int) -> None:
    block = np.random.default_rng(0).integers(-2000, 2000, size=384 * 10_000, dtype=np.int16).tobytes()
    with open(path, "wb") as f:
        left = mb * 1_000_000
        while left > 0:
            f.write(block[:left])
            left -= len(block)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=int, default=2048)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    from sortingview import store
    from sortingview.extractors.remote import chunk_size_for
    from sortingview.store.chunk_manifest import manifest_of_local

    with tempfile.TemporaryDirectory(prefix="bench-manifest-") as tmp:
        path = os.path.join(tmp, "traces.int16.raw")
        _write(path, args.mb)
        size = os.path.getsize(path)
        chunk = chunk_size_for(384 * 2, size)
        subprocess.run(["cat", path], stdout=subprocess.DEVNULL, check=True)  # every pass from the page cache
        print(f"file {size / 1e6:.0f} MB, chunks of {chunk} bytes; load average before {os.getloadavg()}")
        manifests = set()
        for r in range(args.rounds):
            os.environ["KACHERY_CLOUD_DIR"] = os.path.join(tmp, f"before-{r}")
            t = time.perf_counter()
            sha1 = store.parse_uri(store.link_file(path)).sha1
            link_s = time.perf_counter() - t
            msha1, _ = manifest_of_local(store.get_store(), sha1, chunk)
            before_s = time.perf_counter() - t
            manifests.add(msha1)
            os.environ["KACHERY_CLOUD_DIR"] = os.path.join(tmp, f"after-{r}")
            t = time.perf_counter()
            _, muri = store.link_file_with_manifest(path, chunk)
            after_s = time.perf_counter() - t
            manifests.add(store.parse_uri(muri).sha1)
            print(f"round {r + 1}: before {before_s:.2f} s (link {link_s:.2f} + manifest {before_s - link_s:.2f}); "
                  f"after (one read) {after_s:.2f} s = {after_s / before_s:.2f}x before, {after_s / link_s:.2f}x "
                  f"the link alone ({size / 1e6 / after_s:.0f} MB/s)")
        assert len(manifests) == 1, "the two paths gave different manifests"
        print(f"same manifest sha1://{manifests.pop()} both ways; load average after {os.getloadavg()}")


if __name__ == "__main__":
    main()
