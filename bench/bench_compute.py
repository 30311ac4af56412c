"""Benchmark of the compute tasks against spikeinterface 0.105 and phylib, in the same run.

    python bench/bench_compute.py                    # everything, peers on the full data (several minutes)
    python bench/bench_compute.py --peer-units 100   # peers' all-pairs runs on 100 units, scaled (said so)
    python bench/bench_compute.py --only correlograms,memory

Sections (datasets from ``bench/_datasets.py``, built once under ``bench/_data/``):

* ``correlograms`` on "stress" (400 units, ~2.7 M spikes):
  - all autocorrelograms, +/-25 ms, 1 ms bins: ours vs spikeinterface ``compute_auto_correlograms`` (numba,
    numpy); target >= 5x faster than spikeinterface's best;
  - all-pairs cross-correlograms, +/-50 ms, 1 ms bins: ours vs phylib ``correlograms`` and spikeinterface
    ``compute_correlograms`` (numba, numpy); targets >= 10x phylib, >= 25x spikeinterface's best;
  - one cross-correlogram of two 20,000-spike units: target < 10 ms.
  Ours is timed from the sorting (spike trains read from the extractor) to the counts, best of three runs;
  the first run (numba loading its cached machine code) is printed too. Peers run once, as a user calls them.
  The extractor's own caches (spike vector, spike trains) are filled before any timing, for everyone.
* ``memory``: peak resident memory of each task of this part on "large" (64 channels, 600 s, int16), each in
  a fresh process through the task registry with a store in a temporary folder; target < 1 GB.
* ``waveforms``: the other compute section, ``bench/_compute_waveforms_section.py`` (when present), called
  as ``run(datasets, results)``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _datasets import Datasets  # noqa: E402

TARGETS = {"autos_vs_si": 5.0, "cross_vs_phylib": 10.0, "cross_vs_si": 25.0, "pair_ms": 10.0, "memory_mb": 1024.0}


class Timing(float):
    """Wall seconds, with the CPU seconds of this process (all threads) in ``.cpu``."""

    cpu: float


def _timed(fn):
    cpu, wall = time.process_time(), time.perf_counter()
    out = fn()
    timing = Timing(time.perf_counter() - wall)
    timing.cpu = time.process_time() - cpu
    return timing, out


def _best_of(fn, repeat: int = 3):
    """Our runs. spikeinterface's numba functions call numba.set_num_threads(n_jobs) and leave it there
    (1 by default), which would make our threaded kernels run on one core after a peer ran: restore it."""
    import numba

    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    times, out = [], None
    for _ in range(repeat):
        t, out = _timed(fn)
        times.append(t)
    return times, out


def _trains(sorting):
    return [np.asarray(sorting.get_unit_spike_train(u)) for u in sorting.unit_ids]


def _cpu(t) -> str:
    return f" (cpu {t.cpu:6.2f} s)" if isinstance(t, Timing) else " (scaled)      "


def _row(results, section, what, ours_s, peer, peer_s, target, note=""):
    ratio = peer_s / ours_s
    met = ratio >= target
    cpu_ratio = peer_s.cpu / ours_s.cpu if isinstance(peer_s, Timing) and isinstance(ours_s, Timing) else None
    print(f"  {what:44s} ours {ours_s:7.3f} s{_cpu(ours_s)} | {peer:34s} {peer_s:7.2f} s{_cpu(peer_s)} | "
          f"ratio {ratio:6.1f}x (target >= {target:g}x) {'OK' if met else 'MISSED'}"
          f"{'' if cpu_ratio is None else f'; cpu ratio {cpu_ratio:.1f}x'}{note}")
    results.append({"section": section, "what": what, "ours_s": ours_s, "peer": peer, "peer_s": peer_s,
                    "ours_cpu_s": getattr(ours_s, "cpu", None), "peer_cpu_s": getattr(peer_s, "cpu", None),
                    "ratio": ratio, "target": target, "met": met, "note": note.strip()})


# --- correlograms --------------------------------------------------------------------------------------------
def bench_autocorrelograms(sorting, results) -> None:
    from spikeinterface.postprocessing.correlograms import compute_auto_correlograms

    from sortingview.compute.correlograms import autocorrelograms

    fs = sorting.get_sampling_frequency()
    times, ours = _best_of(lambda: autocorrelograms(_trains(sorting), window_ms=50, bin_ms=1, sampling_frequency=fs))
    print(f"\n== all autocorrelograms, {len(sorting.unit_ids)} units, {sorting.count_total_num_spikes()} spikes, "
          f"+/-25 ms, 1 ms bins ==\n  ours: runs {', '.join(f'{t:.3f}' for t in times)} s "
          f"({int(ours.sum())} pairs counted)")
    best = None
    for method in ("numba", "numpy"):
        t, (theirs, _) = _timed(lambda m=method: compute_auto_correlograms(sorting, window_ms=50.0, bin_ms=1.0,
                                                                          method=m))
        same = np.array_equal(theirs, ours)
        print(f"  spikeinterface compute_auto_correlograms {method}: {t:.3f} s, counts identical to ours: {same}")
        best = (t, method) if best is None or t < best[0] else best
    _row(results, "correlograms", "all autocorrelograms (stress, +/-25 ms)", min(times),
         f"spikeinterface best ({best[1]})", best[0], TARGETS["autos_vs_si"])


def _subset(sorting, n_units: int | None):
    if n_units is None or n_units >= len(sorting.unit_ids):
        return sorting, 1.0
    return sorting.select_units(list(sorting.unit_ids[:n_units])), None


def bench_cross_correlograms(sorting, results, peer_units: int | None) -> None:
    from phylib.stats.ccg import correlograms as phylib_correlograms
    from spikeinterface.postprocessing import compute_correlograms

    from sortingview.compute.correlograms import cross_correlograms

    fs = sorting.get_sampling_frequency()
    times, ours = _best_of(lambda: cross_correlograms(_trains(sorting), window_ms=100, bin_ms=1,
                                                      sampling_frequency=fs))
    pairs = int(ours.sum())
    print(f"\n== all-pairs cross-correlograms, {len(sorting.unit_ids)} units, +/-50 ms, 1 ms bins ==\n"
          f"  ours: runs {', '.join(f'{t:.3f}' for t in times)} s; {pairs:.3e} ordered spike pairs in the window "
          f"({min(times) / pairs * 1e9:.2f} ns per pair)")
    peer_sorting, scale = _subset(sorting, peer_units)
    note = ""
    if scale is None:
        n = len(peer_sorting.unit_ids)
        sub = cross_correlograms(_trains(peer_sorting), window_ms=100, bin_ms=1, sampling_frequency=fs)
        scale = pairs / max(1, int(sub.sum()))
        note = f"  [peers ran on {n} units and were scaled x{scale:.1f} by spike pairs in the window]"
        print(f"  peers run on the first {n} units; their times are scaled by the ratio of spike pairs in the "
              f"window (full / subset = {scale:.2f})")
    spikes = peer_sorting.to_spike_vector()
    t_sec = spikes["sample_index"] / fs
    t_phy, _ = _timed(lambda: phylib_correlograms(t_sec, spikes["unit_index"].astype(np.int64),
                                                  cluster_ids=np.arange(len(peer_sorting.unit_ids)), sample_rate=fs,
                                                  bin_size=0.001, window_size=0.1, symmetrize=True))
    print(f"  phylib correlograms: {t_phy:.2f} s (x{scale:.2f} = {t_phy * scale:.2f} s)")
    best = None
    for method in ("numba", "numpy"):
        t, (theirs, _) = _timed(lambda m=method: compute_correlograms(peer_sorting, window_ms=100.0, bin_ms=1.0,
                                                                     method=m))
        exact = ""
        if scale == 1.0:
            exact = f"; counts identical to ours (transposed): {np.array_equal(theirs.transpose(1, 0, 2), ours)}"
        print(f"  spikeinterface compute_correlograms {method}: {t:.2f} s (x{scale:.2f} = {t * scale:.2f} s){exact}")
        scaled = t if scale == 1.0 else t * scale
        best = (scaled, method) if best is None or scaled < best[0] else best
    _row(results, "correlograms", "all-pairs cross-correlograms (stress)", min(times), "phylib correlograms",
         t_phy if scale == 1.0 else t_phy * scale, TARGETS["cross_vs_phylib"], note)
    _row(results, "correlograms", "all-pairs cross-correlograms (stress)", min(times),
         f"spikeinterface best ({best[1]})", best[0], TARGETS["cross_vs_si"], note)


def bench_one_pair(results) -> None:
    import spikeinterface.core as si
    from spikeinterface.postprocessing import compute_correlograms

    from sortingview.compute.correlograms import cross_correlogram

    sorting = si.generate_sorting(num_units=2, sampling_frequency=30000.0, durations=[600.0],
                                  firing_rates=33.4, seed=2)
    a, b = _trains(sorting)
    kw = dict(window_ms=100, bin_ms=1, sampling_frequency=30000.0)
    cross_correlogram(a, b, **kw)
    times = [_timed(lambda: cross_correlogram(a, b, **kw))[0] for _ in range(30)]
    t_si, _ = _timed(lambda: compute_correlograms(sorting, window_ms=100.0, bin_ms=1.0, method="numba"))
    med = statistics.median(times) * 1e3
    print(f"\n== one cross-correlogram, units of {len(a)} and {len(b)} spikes, +/-50 ms ==\n"
          f"  ours: median {med:.2f} ms, best {min(times) * 1e3:.2f} ms over 30 runs (target < "
          f"{TARGETS['pair_ms']:g} ms) {'OK' if med < TARGETS['pair_ms'] else 'MISSED'}; "
          f"spikeinterface compute_correlograms numba (2 units, once): {t_si * 1e3:.1f} ms")
    results.append({"section": "correlograms", "what": "one pair of 20,000-spike units", "ours_ms_median": med,
                    "ours_ms_best": min(times) * 1e3, "spikeinterface_ms": t_si * 1e3,
                    "target_ms": TARGETS["pair_ms"], "met": med < TARGETS["pair_ms"]})


# --- memory --------------------------------------------------------------------------------------------------
CHILD = textwrap.dedent("""
    import json, sys, time
    from sortingview.tasks import execute_task
    name, task_input = sys.argv[1], json.loads(sys.argv[2])
    t = time.perf_counter()
    execute_task(name, task_input)
    # VmHWM: the peak resident set of this program; unlike ru_maxrss it does not carry over, across exec,
    # the memory of the (large) benchmark process that forked it
    with open("/proc/self/status") as f:
        peak = next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024
    print(json.dumps({"seconds": time.perf_counter() - t, "peakMb": peak}))
""")


def bench_memory(large, results) -> None:
    from sortingview.extractors import store_recording, store_sorting

    print(f"\n== peak memory of each task on 'large' ({large.info}), fresh process each ==")
    with tempfile.TemporaryDirectory(prefix="sv-bench-store-") as store_dir:
        os.environ["KACHERY_CLOUD_DIR"] = store_dir
        t, rec_uri = _timed(lambda: store_recording(large.recording))
        sort_uri = store_sorting(large.sorting)
        print(f"  (recording linked into a temporary store in {t:.1f} s)")
        n_frames = large.recording.get_num_samples()
        units = [u.item() for u in large.sorting.unit_ids]
        jobs = [
            ("sortingview.recording_info.1", {"recording": rec_uri}),
            ("sortingview.sorting_info.1", {"sorting": sort_uri}),
            ("sortingview.autocorrelograms.1", {"sorting": sort_uri}),
            ("sortingview.cross_correlograms.1", {"sorting": sort_uri, "unitIds": units, "windowMs": 100}),
            ("sortingview.compare_sortings.1", {"sorting": sort_uri, "groundTruthSorting": sort_uri}),
            ("sortingview.timeseries_segment.1", {"recording": rec_uri, "startFrame": 0, "endFrame": n_frames}),
            ("sortingview.timeseries_segment.1", {"recording": rec_uri, "startFrame": n_frames // 2,
                                                  "endFrame": n_frames // 2 + 300_000}),
        ]
        for name, task_input in jobs:
            proc = subprocess.run([sys.executable, "-c", CHILD, name, json.dumps(task_input)], capture_output=True,
                                  text=True, env={**os.environ, "KACHERY_CLOUD_DIR": store_dir})
            if proc.returncode != 0:
                print(f"  {name}: FAILED\n{proc.stderr[-2000:]}")
                results.append({"section": "memory", "what": name, "met": False, "error": proc.stderr[-500:]})
                continue
            out = json.loads(proc.stdout.strip().splitlines()[-1])
            what = name + (" (whole recording)" if task_input.get("endFrame") == n_frames else
                           " (10 s window)" if "endFrame" in task_input else "")
            met = out["peakMb"] < TARGETS["memory_mb"]
            print(f"  {what:58s} {out['seconds']:7.2f} s, peak {out['peakMb']:7.1f} MB (target < 1024 MB) "
                  f"{'OK' if met else 'MISSED'}")
            results.append({"section": "memory", "what": what, "seconds": out["seconds"], "peak_mb": out["peakMb"],
                            "target_mb": TARGETS["memory_mb"], "met": met})


# --- main ----------------------------------------------------------------------------------------------------
def machine() -> str:
    import numba
    import spikeinterface

    try:
        import phylib
        phy = phylib.__version__
    except (ImportError, AttributeError):
        phy = "?"
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"{cpu}, {os.cpu_count()} cores, numba {numba.__version__} ({numba.config.NUMBA_NUM_THREADS} threads), "
            f"numpy {np.__version__}, spikeinterface {spikeinterface.__version__}, phylib {phy}, "
            f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="correlograms,memory,waveforms",
                        help="comma-separated sections: correlograms, memory, waveforms")
    parser.add_argument("--peer-units", type=int, default=None,
                        help="run the peers' all-pairs correlograms on this many units and scale their time by "
                             "the spike pairs in the window (this underestimates them, e.g. phylib 9 s scaled from "
                             "60 units vs 15 s on all 400: the ratios come out conservative)")
    parser.add_argument("--json", default=None, help="also write the result rows to this file")
    args = parser.parse_args(argv)
    sections = set(args.only.split(","))
    print("machine:", machine())
    datasets = Datasets()
    results: list[dict] = []
    if "correlograms" in sections:
        stress = datasets["stress"].sorting
        # warm the extractor's caches (its spike vector and per-unit trains) so that nobody pays for them:
        # the first to_spike_vector() of an NpzSortingExtractor of 2.7 M spikes alone takes seconds
        t, _ = _timed(lambda: (stress.to_spike_vector(), _trains(stress)))
        print(f"(sorting caches warmed in {t:.1f} s, outside every timing)")
        bench_autocorrelograms(stress, results)
        bench_cross_correlograms(stress, results, args.peer_units)
        bench_one_pair(results)
    if "memory" in sections:
        bench_memory(datasets["large"], results)
    if "waveforms" in sections:
        section = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_compute_waveforms_section.py")
        if os.path.exists(section):
            import _compute_waveforms_section

            _compute_waveforms_section.run(datasets, results)
        else:
            print("\n(no bench/_compute_waveforms_section.py: waveform section skipped)")
    missed = [r for r in results if r.get("met") is False]
    print(f"\n{len(results) - len(missed)} of {len(results)} targets met" +
          ("".join(f"\n  MISSED: {r['section']}: {r['what']}" for r in missed)))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine(), "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
