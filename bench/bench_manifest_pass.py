"""What recording a chunk manifest costs when a binary recording is stored (doc/sharing.md).

Writes a 522 MB 384-channel int16 file in a temporary store, times the link's sha1 pass (store.link_file)
and the manifest pass recording_to_object adds (chunk sha1s plus the whole-file check), and checks the
manifest against the file. ``python bench/bench_manifest_pass.py``
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
import time

import numpy as np


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-manifest-") as tmp:
        os.environ["KACHERY_CLOUD_DIR"] = os.path.join(tmp, "store")
        from sortingview import store
        from sortingview.extractors.remote import chunk_size_for
        from sortingview.store.chunk_manifest import manifest_of_local

        path = os.path.join(tmp, "traces.int16.raw")
        rng = np.random.default_rng(0)
        with open(path, "wb") as f:
            for _ in range(8):
                f.write(rng.integers(-2000, 2000, size=384 * 85_000, dtype=np.int16).tobytes())
        size = os.path.getsize(path)
        subprocess.run(["cat", path], stdout=subprocess.DEVNULL, check=True)  # both passes from the page cache
        t = time.perf_counter()
        sha1 = store.parse_uri(store.link_file(path)).sha1
        link_s = time.perf_counter() - t
        chunk = chunk_size_for(384 * 2, size)
        t = time.perf_counter()
        _, manifest = manifest_of_local(store.get_store(), sha1, chunk)
        manifest_s = time.perf_counter() - t
        with open(path, "rb") as f:
            expected = [hashlib.sha1(c).hexdigest() for c in iter(lambda: f.read(chunk), b"")]
        assert [manifest.chunk_sha1(i) for i in range(manifest.num_chunks)] == expected
        print(f"file {size / 1e6:.0f} MB: link sha1 pass {link_s:.2f} s ({size / 1e6 / link_s:.0f} MB/s); manifest "
              f"pass in {chunk}-byte chunks {manifest_s:.2f} s ({size / 1e6 / manifest_s:.0f} MB/s, "
              f"{manifest_s / link_s:.2f}x the link); manifest {len(manifest.to_bytes())} bytes")


if __name__ == "__main__":
    main()
