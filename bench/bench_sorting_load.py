"""Time to first answer on an uncached sorting: sorting_info, autocorrelograms and spike trains, cold process.

A seeded sorting (default 500 units, 1.5 M spikes, 10 minutes at 30 kHz) is stored as an npz sorting object in
a fresh store. Each measurement is a new Python process (cold object caches, nothing precomputed) that imports
sortingview, spikeinterface and the task registry (as a backend worker has), then times one
``run_task_inline(..., use_cache=False)`` (what ``sv.run_task(..., inline=True)`` runs, without the result
cache) of ``sorting_info.1`` or ``autocorrelograms.2``, or the per-unit spike-train access every task does
(``spike_trains``: load_sorting, resolve_units, unit_spike_train of each unit). With ``--compare-with DIR`` the
same measurements run alternately with ``PYTHONPATH=DIR`` (e.g. the main checkout), so both codes meet the same
machine load; the load average is printed beside the figures.

Run: ``python bench/bench_sorting_load.py [--units 500] [--spikes 1500000] [--rounds 3] [--compare-with /work/main]``.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TASKS = {"sorting_info": ("sortingview.sorting_info.1", {}),
         "autocorrelograms": ("sortingview.autocorrelograms.2", {"windowMs": 50.0, "binMs": 1.0}),
         "spike_trains": (None, {})}  # load_sorting + resolve_units + unit_spike_train of every unit: what tasks do


def make_sorting_uri(num_units: int, num_spikes: int, seed: int = 0) -> str:
    """Store a seeded NumpySorting (per-unit rates spread over two decades) and return its object's URI."""
    import numpy as np
    import spikeinterface.core as sc

    from sortingview.extractors import store_sorting

    fs, duration = 30000.0, 600.0
    rng = np.random.default_rng(seed)
    rates = rng.lognormal(0.0, 1.0, num_units)
    labels = rng.choice(num_units, size=num_spikes, p=rates / rates.sum())
    frames = rng.integers(0, int(fs * duration), size=num_spikes)
    order = np.argsort(frames, kind="stable")
    sorting = sc.NumpySorting.from_samples_and_labels([frames[order]], [labels[order]], fs,
                                                      unit_ids=np.arange(num_units))
    path = os.path.join(tempfile.mkdtemp(prefix="sv-bench-npz-"), "sorting.npz")
    sc.NpzSortingExtractor.write_sorting(sorting, path)
    return store_sorting(sc.NpzSortingExtractor(path))


def child(task: str, uri: str) -> None:
    import spikeinterface.core  # noqa: F401  (a backend worker has its imports done, its caches are cold)

    import sortingview  # noqa: F401
    from sortingview.tasks import run_task_inline
    from sortingview.tasks._objects import load_sorting, resolve_units, unit_spike_train
    from sortingview.tasks.registry import get_task

    name, extra = TASKS[task]
    get_task(name or "sortingview.sorting_info.1")  # the registry imports every task module once, as a worker's has
    t0 = time.perf_counter()
    if name is None:
        sorting = load_sorting(uri)
        for unit in resolve_units(sorting, None):
            unit_spike_train(sorting, unit)
    else:
        run_task_inline(name, {"sorting": uri, **extra}, use_cache=False)
    print(json.dumps({"sec": time.perf_counter() - t0}))


def measure(code_dir: str, task: str, uri: str) -> tuple[float, float]:
    """(task seconds, whole process seconds) in a new process importing sortingview from ``code_dir``."""
    env = dict(os.environ, PYTHONPATH=code_dir)
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", task, uri], env=env,
                         capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    return json.loads(out.stdout.strip().splitlines()[-1])["sec"], wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--units", type=int, default=500)
    ap.add_argument("--spikes", type=int, default=1_500_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--compare-with", default=None, help="another checkout to time alternately (e.g. /work/main)")
    ap.add_argument("--child", nargs=2, metavar=("TASK", "URI"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(*args.child)
    os.environ.setdefault("KACHERY_CLOUD_DIR", tempfile.mkdtemp(prefix="sv-bench-load-"))
    sys.path.insert(0, HERE)
    uri = make_sorting_uri(args.units, args.spikes)
    codes = {"this": HERE, **({"other": args.compare_with} if args.compare_with else {})}
    print(f"{args.units} units, {args.spikes} spikes; loadavg before {os.getloadavg()[0]:.1f}")
    for task in TASKS:
        times: dict[str, list[tuple[float, float]]] = {k: [] for k in codes}
        for _ in range(args.rounds):
            for label, code_dir in codes.items():
                times[label].append(measure(code_dir, task, uri))
        for label, code_dir in codes.items():
            task_s = statistics.median(t for t, _ in times[label])
            wall_s = statistics.median(w for _, w in times[label])
            print(f"{task:18s} {label:5s} ({code_dir}): task {task_s:.3f} s, process {wall_s:.2f} s (median of "
                  f"{args.rounds})")
    print(f"loadavg after {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
