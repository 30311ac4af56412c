"""Scale-out: the Dask handler (LocalCluster of N worker processes) against the parallel handler (N workers).

    python bench/bench_scaleout.py                  # N = 1, 2, 4; 100 tasks each
    python bench/bench_scaleout.py --workers 1,2 --tasks 60

The workload is ``sortingview.unit_features.1`` for each of the first ``--tasks`` units of the "large"
dataset (64 channels, 600 s, int16; ``bench/_datasets.py``): independent tasks that each read 500 snippets
of one unit and compute its PCA features (the clusters view), so they scale with workers as far as the
cores allow. For each handler type and N: a fresh store (the recording linked, the sorting stored), a real
``sortingview-start-backend --no-server`` with ``clusters: {type: parallel|dask, params: {num_workers: N}}``,
N warm-up tasks (they start the workers and load the objects; not timed), then every task submitted at once
and the wall time until the last result. Speedup is against the same handler with one worker.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _datasets import Datasets  # noqa: E402


def run_config(large, kind: str, workers: int, num_tasks: int) -> float:
    from sortingview.backend.client import submit_task
    from sortingview.extractors import store_recording, store_sorting

    with tempfile.TemporaryDirectory(prefix="sv-bench-scale-") as tmp:
        os.environ["KACHERY_CLOUD_DIR"] = os.path.join(tmp, "store")
        os.makedirs(os.environ["KACHERY_CLOUD_DIR"])
        rec, srt = store_recording(large.recording), store_sorting(large.sorting)
        units = [u.item() for u in large.sorting.unit_ids]
        cfg = os.path.join(tmp, "backend.yaml")
        with open(cfg, "w") as f:
            f.write(f"job_handlers:\n  clusters: {{type: {kind}, params: {{num_workers: {workers}}}}}\n")
        cmd = [sys.executable, "-c", "from sortingview.cli.backend_cmds import start_backend; start_backend()",
               "--no-server", "--config", cfg]
        log = open(os.path.join(tmp, "backend.log"), "w")
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy())
        try:
            def batch(unit_ids, spikes):
                handles = [submit_task("sortingview.unit_features.1", {"recording": rec, "sorting": srt,
                                                                       "unitId": u, "maxSpikesPerUnit": spikes})
                           for u in unit_ids]
                for h in handles:
                    h.wait(timeout=1800)

            batch(units[-workers:], 499)  # warm-up: other units and inputs, so nothing timed is cached
            t = time.perf_counter()
            batch(units[:num_tasks], 500)
            return time.perf_counter() - t
        finally:
            proc.terminate()
            proc.wait(120)
            log.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--tasks", type=int, default=100)
    ap.add_argument("--kinds", default="parallel,dask")
    args = ap.parse_args()
    os.environ.pop("SORTINGVIEW_JOB_HANDLER_CONFIG", None)
    large = Datasets()["large"]
    counts = [int(n) for n in args.workers.split(",")]
    times: dict[tuple[str, int], float] = {}
    print(f"{os.cpu_count()} cores; {args.tasks} unit_features tasks per run", flush=True)
    for n in counts:  # the handler types alternate at each size, so load changes hit both alike
        for kind in args.kinds.split(","):
            load = " ".join(f"{x:.2f}" for x in os.getloadavg())
            times[kind, n] = run_config(large, kind, n, args.tasks)
            print(f"  {kind:8s} x{n}: {times[kind, n]:7.2f} s ({args.tasks / times[kind, n]:.2f} tasks/s), "
                  f"load average at start {load}", flush=True)
    print("\nhandler   workers   time (s)   speedup vs 1 worker   dask / parallel")
    for n in counts:
        for kind in args.kinds.split(","):
            base = times.get((kind, counts[0]))
            other = times.get(("parallel", n))
            vs = f"{other / times[kind, n]:.2f}x" if kind == "dask" and other else ""
            print(f"{kind:9s} {n:7d} {times[kind, n]:10.2f} {base / times[kind, n]:20.2f}x   {vs}")


if __name__ == "__main__":
    main()
