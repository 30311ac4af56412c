"""Overhead of sorting through the backend (``sortingview.run_sorter.1``) against calling ``run_sorter`` directly.

One generated ground-truth recording is copied into a fresh store. Then each round times, in alternating
order:

* direct: ``spikeinterface.sorters.run_sorter`` on the stored recording, in this process, into a temp folder;
* job path: ``submit_task("sortingview.run_sorter.1", ...).wait()`` on a warm backend
  (``sortingview-start-backend --no-server``, a ``sorting`` handler with 1 worker), as a user gets it. This
  includes the channel, the worker's load of the recording, the log capture, and storing the sorting
  (.npz) and its log.

Each round uses another sorter seed, so the job path never answers from the cache. Both the backend's
worker and this process first sort a 2-second recording, so both have imported and compiled the sorter.
The issue's target is an overhead under 5% on a 5-minute recording (``--duration 300``).

Besides the two medians it prints the part of the job path spent outside the task's own run in the worker
(queueing, claiming, the client's wait and reading the result), which machine load does not blur.

Run: ``python bench/bench_sorting.py [--duration 60] [--channels 8] [--sorter simple] [--rounds 2]``.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

_RUN_SEC: list[float] = []  # the task's own time in the worker, per job


def _recording(duration: float, channels: int, seed: int):
    import spikeinterface.core as sc

    import sortingview as sv
    from sortingview.extractors import store_recording

    rec, _ = sc.generate_ground_truth_recording(durations=[duration], num_channels=channels,
                                                num_units=max(4, channels), seed=seed)
    return store_recording(sv.copy_recording_extractor(rec, progress=False))


def _start_backend(folder: str, channel: str) -> subprocess.Popen:
    cfg = os.path.join(folder, "backend.yaml")
    with open(cfg, "w") as f:
        f.write(f"channel: {channel}\njob_handlers:\n  sorting: {{type: parallel, params: {{num_workers: 1}}}}\n")
    cmd = [sys.executable, "-c", "from sortingview.cli.backend_cmds import start_backend; start_backend()",
           "--no-server", "--config", cfg]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)


def _direct(uri: str, sorter: str, params: dict) -> float:
    import spikeinterface.sorters as ss

    from sortingview.extractors import load_recording

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        ss.run_sorter(sorter, load_recording(uri), folder=os.path.join(tmp, "out"), **params)
    return time.perf_counter() - t0


def _job(uri: str, sorter: str, params: dict, channel: str) -> float:
    from sortingview.backend.client import submit_task
    from sortingview.tasks.sorting import TASK_NAME, sorting_task_input

    t0 = time.perf_counter()
    result = submit_task(TASK_NAME, sorting_task_input(uri, sorter, params), channel=channel).wait(timeout=7200)
    _RUN_SEC.append(result["runSec"])
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of recording (issue target: 300)")
    ap.add_argument("--channels", type=int, default=8)
    ap.add_argument("--sorter", default="simple", help="a sorter with a 'seed' parameter (simple, tridesclous2)")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-sorting-") as store:
        os.environ["KACHERY_CLOUD_DIR"] = store
        channel = "bench-sorting"
        backend = _start_backend(store, channel)
        try:
            warm = _recording(2.0, args.channels, 1)  # the worker and this process import and compile the sorter
            _job(warm, args.sorter, {"seed": 10_000}, channel)
            _direct(warm, args.sorter, {"seed": 10_000})
            uri = _recording(args.duration, args.channels, 0)
            direct, job = [], []
            for r in range(args.rounds):
                params = {"seed": r}
                first, second = (_direct, _job) if r % 2 == 0 else (_job, _direct)
                for fn in (first, second):
                    t = fn(uri, args.sorter, params, channel) if fn is _job else fn(uri, args.sorter, params)
                    (job if fn is _job else direct).append(t)
        finally:
            backend.terminate()
            backend.wait(60)
    d, j = statistics.median(direct), statistics.median(job)
    outside = statistics.median(t - r for t, r in zip(job, _RUN_SEC[1:], strict=True))
    print(f"{args.sorter} on {args.duration:g} s x {args.channels} channels, {args.rounds} round(s), medians:")
    print(f"  run_sorter directly : {d:8.2f} s   {[round(x, 2) for x in direct]}")
    print(f"  through the backend : {j:8.2f} s   {[round(x, 2) for x in job]}")
    print(f"  overhead            : {j - d:+8.2f} s  ({100 * (j - d) / d:+.1f}%; target < 5% at 300 s)")
    print(f"  of which outside the worker's task (channel, wait, result): {outside:.3f} s; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
