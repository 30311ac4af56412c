"""Neuropixels scale: precompute everything the viewer needs vs SpikeInterface's SortingAnalyzer, end to end.

    python bench/neuropixels_data.py --minutes 10 --out /work/data/np384   # the dataset (once)
    python bench/bench_neuropixels.py --data /work/data/np384 [--jobs 2] [--order ours,si]

Each side runs in a fresh child process on the same files (the page cache is shared; the order alternates
with ``--order``); the parent samples the resident memory of the child and all its descendants every 0.2 s
and reports the peak of the sum (resident pages of memory-mapped trace files included, on both sides), and the
peak of the sum of their proportional set sizes (PSS: a page shared by n processes, such as the pages forked
worker processes share with the process they were forked from, counts 1/n in each), the memory the tree
uses; the RSS sum counts shared pages once per process.

* **ours**: a temporary store; the sorting stored and the recording file linked (hashed once: its sha1 and
  chunk manifest); the sorting is named to ``store_recording`` (``--sorting-at-link yes``, the default), so
  the link's read also gives the templates and every spike's amplitude (``tasks/link_pass.py``: the first look
  before the link, the blocks added as they are hashed), and the link answers the viewer's first requests
  into the task results (so the five below are answered from there); then, in
  one process through the task registry (results encoded and written to ``task_results/`` as a backend
  would): the viewer's first requests, as ``W.precompute`` submits them (``precompute.requests_for``:
  recording_info.1, sorting_info.1, autocorrelograms.2, average_waveforms.2, unit_metrics.2, all units),
  then every spike's amplitude (``spike_amplitudes.2``) and all-pairs cross-correlograms
  (``cross_correlograms.2``, +/-25 ms, 1 ms). With ``--sorting-at-link no``, average_waveforms reads the
  recording once more after the link (a first look at a few snippets per unit, then one read for the
  templates' sums on all channels, every spike's amplitude and the deviations around each peak:
  ``tasks/fused_pass.py``); unit_metrics and spike_amplitudes reuse it in the process, and the noise levels
  recording_info computed. Numba kernels and the passes use ``--jobs``
  threads.
  ``PYTHONPATH`` chooses the code (e.g. a checkout of an older commit, to time a change on the same data)
  when the script is run from outside a checkout (the children's current folder comes first on their path).
* **backend** (``--order backend,...``): ours as users run it: a ``sortingview-start-backend`` process (default
  handlers, each task type in worker processes of its own) started first; the file linked and the sorting
  stored; the five requests of ``W.precompute`` submitted at once and waited for; then spike_amplitudes.2
  and cross_correlograms.2 as the viewer submits them. The workers share the templates and the spike pass
  through the store (``tasks/_shared.py``).
* **spikeinterface**: ``create_sorting_analyzer(format="binary_folder", sparse=True)`` with
  ``n_jobs=--jobs``, then random_spikes (500 per unit), waveforms (1 ms / 2 ms), templates (average, std),
  noise_levels, correlograms (+/-25 ms, 1 ms: all pairs), spike_amplitudes, unit_locations,
  template_similarity and quality_metrics (num_spikes, firing_rate, snr, isi_violation, presence_ratio,
  amplitude_median).

Targets: ours >= 5x faster end to end, peak memory < 2 GB.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# both of ours: store the sorting and link the file into the child's store (its steps timed); with the sorting
# named (--sorting-at-link yes), the link's read also gives the templates and the spike pass (tasks/link_pass.py)
STORE = textwrap.dedent("""
    from neuropixels_data import load
    from sortingview.extractors import store_recording, store_sorting
    from sortingview.backend.precompute import requests_for
    rec, srt, meta = load(%(data)r)
    steps = {}
    t = time.perf_counter(); s = store_sorting(srt); steps["store sorting"] = time.perf_counter() - t
    t = time.perf_counter(); r = store_recording(rec%(at_link)s)
    steps["link recording (hash %(gb).1f GB)%(link_note)s"] = time.perf_counter() - t
    units = [u.item() for u in srt.unit_ids]
    first = requests_for(r, s)  # exactly what the viewer asks for first (and W.precompute submits)
    rest = [("sortingview.spike_amplitudes.2", {"recording": r, "sorting": s}),
            ("sortingview.cross_correlograms.2", {"sorting": s, "unitIds": units, "windowMs": 50})]
""")

OURS = textwrap.dedent("""
    import json, os, sys, time
    sys.path.insert(0, %(here)r)
    t0 = time.perf_counter()
    import numba
    numba.set_num_threads(%(jobs)d)
    from sortingview.tasks import run_task_inline
""") + STORE + textwrap.dedent("""
    for name, inp in first + rest:
        t = time.perf_counter(); run_task_inline(name, inp); steps[name] = time.perf_counter() - t
        print(f"  ours {name}: {steps[name]:.2f} s", file=sys.stderr, flush=True)
        if name.startswith("sortingview.unit_metrics"):
            steps["first view ready (from the start)"] = time.perf_counter() - t0
    steps["total"] = time.perf_counter() - t0
    print(json.dumps(steps))
""")

BACKEND = textwrap.dedent("""
    import atexit, ctypes, json, os, signal, subprocess, sys, time
    sys.path.insert(0, %(here)r)
    t0 = time.perf_counter()
    # a backend as users run it (default handlers: waveforms, metrics, misc... in worker processes of their
    # own), started first: users have theirs running before they add data; it ends with this process
    backend = subprocess.Popen([sys.executable, "-c", "from sortingview.cli.backend_cmds import start_backend; "
                                "start_backend()", "--no-server"], stdout=subprocess.DEVNULL,
                               stderr=open(%(folder)r + "-backend.log", "w"),  # its log, beside the analyzer
                               preexec_fn=lambda: ctypes.CDLL(None).prctl(1, signal.SIGTERM))  # PR_SET_PDEATHSIG
    atexit.register(lambda: (backend.terminate(), backend.wait(30)))
    from sortingview.backend.client import submit_task
""") + STORE + textwrap.dedent("""
    t = time.perf_counter()  # as W.precompute: every request submitted at once, then waited for
    for h in [submit_task(name, inp) for name, inp in first]:
        h.wait(3600)
    steps["W.precompute's 5 tasks, submitted at once"] = time.perf_counter() - t
    steps["first view ready (from the start)"] = time.perf_counter() - t0
    for name, inp in rest:
        t = time.perf_counter(); submit_task(name, inp).wait(3600); steps[name] = time.perf_counter() - t
        print(f"  backend {name}: {steps[name]:.2f} s", file=sys.stderr, flush=True)
    steps["total"] = time.perf_counter() - t0
    print(json.dumps(steps))
""")

SI = textwrap.dedent("""
    import json, sys, time
    sys.path.insert(0, %(here)r)
    t0 = time.perf_counter()
    import spikeinterface.core as si
    from spikeinterface.metrics.quality import compute_quality_metrics
    from neuropixels_data import load
    si.set_global_job_kwargs(n_jobs=%(jobs)d, chunk_duration="1s", progress_bar=False)
    rec, srt, meta = load(%(data)r)
    steps = {}
    t = time.perf_counter()
    an = si.create_sorting_analyzer(srt, rec, format="binary_folder", folder=%(folder)r, sparse=True)
    steps["create_sorting_analyzer (sparsity)"] = time.perf_counter() - t
    plan = [("random_spikes", dict(method="uniform", max_spikes_per_unit=500, seed=0)),
            ("waveforms", dict(ms_before=1.0, ms_after=2.0)), ("templates", dict(operators=["average", "std"])),
            ("noise_levels", {}), ("correlograms", dict(window_ms=50.0, bin_ms=1.0)), ("spike_amplitudes", {}),
            ("unit_locations", {}), ("template_similarity", {})]
    for name, params in plan:
        t = time.perf_counter(); an.compute(name, **params); steps[name] = time.perf_counter() - t
        print(f"  spikeinterface {name}: {steps[name]:.2f} s", file=sys.stderr, flush=True)
    t = time.perf_counter()
    compute_quality_metrics(an, metric_names=["num_spikes", "firing_rate", "snr", "isi_violation",
                                              "presence_ratio", "amplitude_median"])
    steps["quality_metrics"] = time.perf_counter() - t
    steps["total"] = time.perf_counter() - t0
    print(json.dumps(steps))
""")


def run_child(code: str, env: dict) -> tuple[dict, float]:
    """Run ``code`` in a child; return its JSON steps and the peak sums of the RSS and of the PSS (MB) of the
    child and its descendants."""
    import psutil

    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, env=env, text=True)
    peak = peak_pss = 0.0
    ps = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            tree = [p for p in [ps] + ps.children(recursive=True) if p.is_running()]
            peak = max(peak, sum(p.memory_info().rss for p in tree) / 2**20)
            peak_pss = max(peak_pss, sum(_pss(p) for p in tree) / 2**20)
        except psutil.Error:
            pass
        time.sleep(0.2)
    out = proc.stdout.read()
    if proc.returncode != 0:
        raise RuntimeError(f"child failed ({proc.returncode})")
    return json.loads(out.strip().splitlines()[-1]), peak, peak_pss


def _pss(p) -> int:
    """A process's proportional set size (bytes), from /proc/<pid>/smaps_rollup; 0 if it ended."""
    try:
        with open(f"/proc/{p.pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _code_version() -> str:
    """The sortingview the children import (PYTHONPATH decides) and its git commit, for the record."""
    import sortingview

    root = os.path.dirname(os.path.dirname(os.path.abspath(sortingview.__file__)))
    try:
        commit = subprocess.run(["git", "-C", root, "describe", "--always", "--dirty"], capture_output=True,
                                text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{root} {commit or '(not a git checkout)'}"


def drop_caches() -> None:
    """Empty the page cache (what neither side wrote is read from the disk again); root only."""
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("1\n")
    except OSError as exc:
        sys.exit(f"--drop-caches: cannot write /proc/sys/vm/drop_caches ({exc}); run as root or leave it out")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="/work/data/np384")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--order", default="ours,si", help="which side runs first (it meets a colder page cache); "
                    "one side alone: --order ours; 'backend' runs ours through a sortingview-start-backend "
                    "process, the tasks submitted as W.precompute and the viewer submit them")
    ap.add_argument("--sorting-at-link", choices=["yes", "no"], default="yes",
                    help="name the stored sorting to store_recording, so that the link's read gives the templates "
                         "and the spike pass (yes), or link the file alone and let average_waveforms read it (no)")
    ap.add_argument("--drop-caches", action="store_true",
                    help="empty the page cache before each side (sync; echo 1 > /proc/sys/vm/drop_caches: root), "
                         "so that both start from the disk")
    args = ap.parse_args()
    with open(os.path.join(args.data, "meta.json")) as f:
        meta = json.load(f)
    print(f"dataset: {meta}", flush=True)
    print(f"code: {_code_version()}; {os.cpu_count()} CPUs, load average {os.getloadavg()}", flush=True)
    results = {}
    with tempfile.TemporaryDirectory(prefix="sv-bench-np-", dir=os.path.dirname(os.path.abspath(args.data))) as tmp:
        env = {**os.environ, "NUMBA_NUM_THREADS": str(args.jobs)}
        env.pop("SORTINGVIEW_JOB_HANDLER_CONFIG", None)
        for side in args.order.split(","):
            env["KACHERY_CLOUD_DIR"] = os.path.join(tmp, f"store-{side}")  # a store of its own: nothing cached
            os.makedirs(env["KACHERY_CLOUD_DIR"])
            if args.drop_caches:
                drop_caches()
            load = " ".join(f"{x:.2f}" for x in os.getloadavg())
            params = {"here": HERE, "jobs": args.jobs, "data": args.data, "gb": meta["bytes"] / 1e9,
                      "folder": os.path.join(tmp, "analyzer"),
                      "at_link": ", sorting=s" if args.sorting_at_link == "yes" else "",
                      "link_note": ", with the templates and spike pass" if args.sorting_at_link == "yes" else ""}
            steps, peak, pss = run_child({"ours": OURS, "backend": BACKEND, "si": SI}[side] % params, env)
            end = " ".join(f"{x:.2f}" for x in os.getloadavg())
            results[side] = {"steps": steps, "peak_mb": peak, "peak_pss_mb": pss, "load_at_start": load,
                             "load_at_end": end}
            print(f"{side} (load average at start {load}, at end {end}): total {steps['total']:.1f} s, "
                  f"peak memory {pss:.0f} MB PSS ({peak:.0f} MB RSS)", flush=True)
            for k, v in steps.items():
                print(f"    {k:45s} {v:8.2f} s")
    ours, si_ = results.get("ours", results.get("backend")), results.get("si")
    if ours and si_:
        ratio = si_["steps"]["total"] / ours["steps"]["total"]
        link = next(v for k, v in ours["steps"].items() if k.startswith("link"))
        print(f"\nspikeinterface / ours, end to end: {ratio:.1f}x (target >= 5x: "
              f"{'met' if ratio >= 5 else 'NOT met'}); ours without the link step"
              f"{' (which read the templates and spike pass too)' if args.sorting_at_link == 'yes' else ''}: "
              f"{si_['steps']['total'] / (ours['steps']['total'] - link):.1f}x")
        print(f"peak memory (PSS): ours {ours['peak_pss_mb']:.0f} MB (target < 2048 MB: "
              f"{'met' if ours['peak_pss_mb'] < 2048 else 'NOT met'}; RSS {ours['peak_mb']:.0f} MB), "
              f"spikeinterface {si_['peak_pss_mb']:.0f} MB (RSS {si_['peak_mb']:.0f} MB)")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
