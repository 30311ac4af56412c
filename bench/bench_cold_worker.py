"""Cold start of a parallel worker: time of the first ``autocorrelograms.2`` through a fresh backend.

Each run starts a new backend process (a new forkserver and a new correlograms worker) on a fresh store and
times submit -> result of one small autocorrelograms.2 request (6 units, 10 s), then a second request on a
second sorting (the worker is warm by then). Numba's on-disk cache of the kernels is left as it is (run the
script once before measuring so that it is filled, as on a user's machine after the first use).

    PYTHONPATH=$PWD python bench/bench_cold_worker.py --runs 5
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap

CHILD = textwrap.dedent("""
    import sys, threading, time
    sys.path.insert(0, "tests")
    from pathlib import Path
    from datasets import make_dataset
    import sortingview as sv
    from sortingview.backend.client import submit_task
    from sortingview.backend.config import load_config
    from sortingview.backend.daemon import Backend

    tmp = Path(sys.argv[1])
    a = make_dataset(tmp / "a", seed=1, num_channels=4, durations=10.0, num_units=6)
    b = make_dataset(tmp / "b", seed=2, num_channels=4, durations=10.0, num_units=6)
    backend = Backend(load_config(env={}))
    t = threading.Thread(target=backend.run, daemon=True)
    t.start()
    time.sleep(float(sys.argv[2]))  # the backend is up and its forkserver started (warm_up), as in use
    out = []
    for ds in (a, b):
        t0 = time.perf_counter()
        submit_task("sortingview.autocorrelograms.2", {"sorting": ds.sorting_uri}).wait(timeout=120)
        out.append(time.perf_counter() - t0)
    backend.stop(graceful=False)
    print("RESULT", out[0], out[1])
""")


def one_run(settle_s: float) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "KACHERY_CLOUD_DIR": os.path.join(tmp, "store")}
        os.makedirs(env["KACHERY_CLOUD_DIR"])
        out = subprocess.run([sys.executable, "-c", CHILD, tmp, str(settle_s)], env=env, capture_output=True, text=True,
                             timeout=300, check=True).stdout
        first, second = (float(x) for x in out.split("RESULT")[1].split())
        return first, second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--settle", type=float, default=10.0, help="seconds between backend start and request")
    args = parser.parse_args()
    runs = [one_run(args.settle) for _ in range(args.runs)]
    firsts, seconds = [r[0] for r in runs], [r[1] for r in runs]
    print(f"load average {os.getloadavg()[0]:.1f}; {args.runs} fresh backends")
    print(f"first autocorrelograms.2 (cold worker): median {statistics.median(firsts):.3f} s "
          f"(min {min(firsts):.3f}, max {max(firsts):.3f})")
    print(f"second request (warm worker):         median {statistics.median(seconds):.3f} s "
          f"(min {min(seconds):.3f}, max {max(seconds):.3f})")


if __name__ == "__main__":
    main()
