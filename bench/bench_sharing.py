"""Bytes a lazily read remote recording sends over the network, per task, against the size of its file.

    python bench/bench_sharing.py                  # 384 channels, 60 s, 100 units at the target's spike density
    python bench/bench_sharing.py --seconds 1800   # the full target: a 30-minute file (41 GB of disk)

Server A (a real ``sortingview-start-backend`` process) owns an int16 recording (linked in place) and a
sorting of ``--units`` units. This process is B, with an empty store whose peer is A; each task runs inline in
B on a fresh store, so every byte it needs crosses the loopback. Reported per task: the file's bytes read
(whole chunks), the bytes received for them (compressed by A, store/chunk_codec.py; ``--plain``: plain ranges),
their shares of the file (chunks only; the chunk manifest is on its own line), the requests, and the time.
The signal is noise at a Neuropixels 1.0 AP-band level (``--noise-uv``, ``--uv-per-bit``; see write_recording):
compression depends on it, bytes read do not.

The target (issue 14) is average waveforms of 100 units x 500 spikes on a 30-minute 384-channel file. A
shorter file keeps the target's spike density (500 spikes per unit per 30 minutes), so the ratio is the one
the full file would show; the line "snippet bytes" is the floor any reader of a time-major file must pay:
whole frames (all channels) of every snippet.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

FS = 30000.0
SNIPPET = (30, 60)


def write_recording(path: str, channels: int, frames: int, seed: int, noise_uv: float, uv_per_bit: float) -> None:
    """Noise as a Neuropixels probe's AP band gives it, as int16 counts: spikeinterface's NoiseGeneratorRecording
    (per-channel levels drawn in ``noise_uv`` +/- 1 uV, spatially correlated as bench/neuropixels_data.py does
    for a 4-column probe, exp(-d / 25 um)), 4 s generated and tiled, at ``uv_per_bit`` (Neuropixels 1.0 AP:
    2.34375 uV per bit). Tiling cannot help the compressor: one compressed answer is at most 32 MiB (about 1.4 s
    of 384 channels) and zlib looks back 32 KB."""
    from spikeinterface.generation import NoiseGeneratorRecording

    block = min(frames, 4 * 30000)
    xy = np.column_stack([16.0 * (np.arange(channels) % 4), 20.0 * (np.arange(channels) // 4)])
    cov = np.exp(-np.linalg.norm(xy[:, None] - xy[None, :], axis=2) / 25.0)
    levels = np.random.default_rng(seed).uniform(noise_uv - 1, noise_uv + 1, channels).astype(np.float32)
    # with a cov_matrix, spikeinterface 0.105 ignores noise_levels (unit variance; measured): scale here
    noise = NoiseGeneratorRecording(channels, FS, [block / FS], cov_matrix=cov, strategy="tile_pregenerated",
                                    noise_block_size=block, seed=seed)
    counts = np.round(noise.get_traces(start_frame=0, end_frame=block) * levels / uv_per_bit)
    data = np.clip(counts, -32768, 32767).astype("<i2")
    print(f"noise: {counts.std():.2f} counts rms ({counts.std() * uv_per_bit:.2f} uV)")
    data = data.tobytes()
    with open(path, "wb") as f:
        left = frames * channels * 2
        while left > 0:
            f.write(data[:left])
            left -= len(data)


def make_site_a(folder: str, channels: int, seconds: float, units: int, spikes_per_unit: int, noise_uv: float,
                uv_per_bit: float) -> dict:
    from spikeinterface.core import BinaryRecordingExtractor, NpzSortingExtractor, NumpySorting

    from sortingview.extractors import store_recording, store_sorting

    frames = int(seconds * FS)
    raw = os.path.join(folder, "traces.bin")
    write_recording(raw, channels, frames, 0, noise_uv, uv_per_bit)
    rec = BinaryRecordingExtractor(raw, sampling_frequency=FS, dtype="int16", num_channels=channels,
                                   gain_to_uV=uv_per_bit, offset_to_uV=0.0)
    rec.set_dummy_probe_from_locations(np.column_stack([np.zeros(channels), 20.0 * np.arange(channels)]))
    rng = np.random.default_rng(1)
    times = np.concatenate([np.sort(rng.choice(np.arange(100, frames - 100), spikes_per_unit, replace=False))
                            for _ in range(units)])
    labels = np.repeat(np.arange(units), spikes_per_unit)
    order = np.argsort(times, kind="stable")
    npz = os.path.join(folder, "sorting.npz")
    NpzSortingExtractor.write_sorting(NumpySorting.from_samples_and_labels(times[order], labels[order], FS), npz)
    return {"recording": store_recording(rec), "sorting": store_sorting(NpzSortingExtractor(npz)),
            "size": os.path.getsize(raw), "frames": frames}


TASKS = [
    ("average waveforms", "sortingview.average_waveforms.1",
     lambda a: {"recording": a["recording"], "sorting": a["sorting"], "maxSpikesPerUnit": 500}),
    ("timeseries segment (1 s)", "sortingview.timeseries_segment.1",
     lambda a: {"recording": a["recording"], "startFrame": a["frames"] // 2, "endFrame": a["frames"] // 2 + 30000}),
    ("recording info (noise)", "sortingview.recording_info.1", lambda a: {"recording": a["recording"]}),
    ("unit metrics", "sortingview.unit_metrics.1", lambda a: {"recording": a["recording"], "sorting": a["sorting"]}),
]


def run_on_b(site_a: dict, a_url: str, workdir: str, tasks: list[str]) -> list[tuple]:
    from sortingview.extractors import load_recording
    from sortingview.store.remote_binary import STATS
    from sortingview.tasks import _objects, run_task_inline

    rows, manifest = [], None
    os.environ["SORTINGVIEW_PEERS"] = a_url
    for i, (label, name, make_input) in enumerate(t for t in TASKS if t[1].split(".")[1] in tasks):
        os.environ["KACHERY_CLOUD_DIR"] = os.path.join(workdir, f"store-b-{i}")
        _objects.load_recording.cache_clear()
        _objects.load_sorting.cache_clear()
        manifest = load_recording(site_a["recording"])._recording_segments[0].remote.manifest
        b0, w0, r0, t0 = STATS.raw_bytes, STATS.bytes_received, STATS.requests, time.perf_counter()
        run_task_inline(name, make_input(site_a), use_cache=False)
        rows.append((label, STATS.raw_bytes - b0, STATS.bytes_received - w0, STATS.requests - r0,
                     time.perf_counter() - t0))
    if manifest is not None:
        n = len(manifest.to_bytes())
        rows.append(("(chunk manifest, once per file)", n, n, 1, 0.0))
    if "fetch" in tasks:  # the whole file, as `sortingview store fetch` gets it (plain, verified by its sha1)
        from sortingview import store

        os.environ["KACHERY_CLOUD_DIR"] = os.path.join(workdir, "store-b-fetch")
        file_uri = store.load_json(site_a["recording"])["data"]["segments"][0]["fileUri"]
        t0 = time.perf_counter()
        path = store.load_file(file_uri)
        rows.append(("whole-file fetch (store fetch)", os.path.getsize(path), os.path.getsize(path), 1,
                     time.perf_counter() - t0))
        os.unlink(path)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--channels", type=int, default=384)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--units", type=int, default=100)
    ap.add_argument("--workdir", default=None, help="Folder for the stores and the file (default: a temp folder).")
    ap.add_argument("--noise-uv", type=float, default=7.0,
                    help="Noise level in uV (default 7: the 6-8 uV of bench/neuropixels_data.py)")
    ap.add_argument("--uv-per-bit", type=float, default=2.34375, help="int16 scale (Neuropixels 1.0 AP band)")
    ap.add_argument("--tasks", default=",".join(t[1].split(".")[1] for t in TASKS) + ",fetch",
                    help="Comma-separated task names to run, and fetch: a whole-file fetch (default: all)")
    ap.add_argument("--plain", action="store_true", help="Ask for plain byte ranges (SORTINGVIEW_PEER_COMPRESS=0).")
    args = ap.parse_args()
    if args.plain:
        os.environ["SORTINGVIEW_PEER_COMPRESS"] = "0"
    spikes = max(1, round(500 * args.seconds / 1800))  # the target's density: 500 spikes per unit in 30 minutes
    workdir = args.workdir or tempfile.mkdtemp(prefix="bench-sharing-")
    os.environ["KACHERY_CLOUD_DIR"] = a_store = os.path.join(workdir, "store-a")
    print(f"writing a {args.seconds:g} s, {args.channels}-channel int16 file, {args.units} units x {spikes} spikes")
    site_a = make_site_a(workdir, args.channels, args.seconds, args.units, spikes, args.noise_uv, args.uv_per_bit)
    from sharing_support import server_process

    try:
        with contextlib.ExitStack() as stack:
            a_url = stack.enter_context(server_process(a_store, workdir))
            rows = run_on_b(site_a, a_url, workdir, args.tasks.split(","))
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    size = site_a["size"]
    floor = args.units * spikes * sum(SNIPPET) * args.channels * 2
    print(f"\nfile: {size / 1e6:.1f} MB; snippet bytes (the floor for average waveforms): {floor / 1e6:.2f} MB "
          f"= {100 * floor / size:.2f}% of the file\n")
    print(f"noise {args.noise_uv:g} uV at {args.uv_per_bit:g} uV/bit; {'plain ranges' if args.plain else 'compressed'};"
          f" load average {os.getloadavg()}")
    print(f"{'task':34} {'file bytes read':>16} {'%':>7} {'bytes received':>15} {'%':>7} {'requests':>9} {'s':>7}")
    for label, raw, wire, requests, secs in rows:
        print(f"{label:34} {raw:16,d} {100 * raw / size:6.2f}% {wire:15,d} {100 * wire / size:6.2f}% {requests:9d} "
              f"{secs:7.2f}")

if __name__ == "__main__":
    main()
