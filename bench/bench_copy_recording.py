"""Benchmark of copy_recording_extractor against SpikeInterface's own binary save, on a lazy recording.

    python bench/bench_copy_recording.py                  # 384 channels x 30 kHz x 30 s float32 (1.4 GB)
    python bench/bench_copy_recording.py --seconds 120 --rounds 3

Each run happens in a fresh subprocess (so peak RSS is its own) on the same seeded, lazily generated
``NoiseGeneratorRecording`` (nothing is held in memory up front), written under a temp store (removed at the
end). Measured, in the same run:

* ``sv.copy_recording_extractor(recording)`` (chunks of 32 MB, one process; includes linking the file into the
  store, which hashes it once) vs ``recording.save(format="binary", n_jobs=1, chunk_memory="32M")``
  (SpikeInterface's writer, the peer; it does not hash). Reported: wall time, MB/s, and peak RSS growth.
* ``sv.extractors.load_recording(uri)`` vs ``spikeinterface.load(folder)`` (opening the copy again).

With ``--rounds N`` the two alternate N times and medians are printed (the machine may be shared).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap

CHILD = textwrap.dedent("""
    import json, os, sys, threading, time
    import psutil
    from spikeinterface.generation import NoiseGeneratorRecording
    mode, seconds, channels, out = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    rec = NoiseGeneratorRecording(num_channels=channels, sampling_frequency=30000.0, durations=[seconds], seed=0,
                                  strategy="on_the_fly", dtype="float32")
    proc = psutil.Process()
    base = proc.memory_info().rss
    peak = [base]
    done = threading.Event()
    def sample():
        while not done.wait(0.02):
            peak[0] = max(peak[0], proc.memory_info().rss)
    threading.Thread(target=sample, daemon=True).start()
    t0 = time.perf_counter()
    if mode == "sortingview":
        import sortingview as sv
        from sortingview.extractors import store_recording, load_recording
        copy = sv.copy_recording_extractor(rec, progress=False)
        uri = store_recording(copy)
    else:
        from spikeinterface.core import load
        copy = rec.save(format="binary", folder=out, n_jobs=1, chunk_memory="32M", progress_bar=False)
    write_s = time.perf_counter() - t0
    done.set()
    t0 = time.perf_counter()
    for _ in range(20):
        again = load_recording(uri) if mode == "sortingview" else load(out)
    load_ms = (time.perf_counter() - t0) / 20 * 1000
    assert again.get_num_frames() == rec.get_num_frames()
    print(json.dumps({"write_s": write_s, "peak_growth_mb": (peak[0] - base) / 1e6, "load_ms": load_ms}))
""")


def run(mode: str, seconds: float, channels: int, tmp: str) -> dict:
    env = dict(os.environ, KACHERY_CLOUD_DIR=os.path.join(tmp, f"store-{mode}"))
    out = subprocess.run([sys.executable, "-c", CHILD, mode, str(seconds), str(channels),
                          os.path.join(tmp, f"si-{mode}")], capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        sys.exit(f"{mode} run failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--channels", type=int, default=384)
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args()
    size_mb = args.seconds * 30000 * args.channels * 4 / 1e6
    print(f"{platform.node()}  python {platform.python_version()}  {os.cpu_count()} cpus")
    print(f"recording: {args.channels} channels x 30 kHz x {args.seconds:g} s float32 = {size_mb:.0f} MB (lazy)")
    results: dict[str, list[dict]] = {"sortingview": [], "spikeinterface": []}
    for i in range(args.rounds):
        order = ["sortingview", "spikeinterface"] if i % 2 == 0 else ["spikeinterface", "sortingview"]
        for mode in order:
            tmp = tempfile.mkdtemp(prefix="sv-bench-copy-")
            try:
                results[mode].append(run(mode, args.seconds, args.channels, tmp))
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    sv, si = ({k: statistics.median(r[k] for r in results[m]) for k in results[m][0]} for m in results)
    for name, r in (("sortingview copy_recording_extractor + store", sv), ("spikeinterface save(binary)", si)):
        print(f"{name:<46} {r['write_s']:7.2f} s  {size_mb / r['write_s']:7.0f} MB/s  "
              f"peak RSS +{r['peak_growth_mb']:6.0f} MB  reopen {r['load_ms']:6.1f} ms")
    print(f"ratio write time sortingview/spikeinterface: {sv['write_s'] / si['write_s']:.2f}x  "
          f"(sortingview also hashes the copy once to link it)")
    print(f"ratio peak RSS growth: {sv['peak_growth_mb'] / max(si['peak_growth_mb'], 1e-3):.2f}x; "
          f"reopen: {sv['load_ms'] / si['load_ms']:.2f}x")


if __name__ == "__main__":
    main()
