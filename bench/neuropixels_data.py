"""A Neuropixels-size ground-truth dataset on disk: 384 channels, 30 kHz, int16, 500 drifting units.

    python bench/neuropixels_data.py --minutes 30 --out /work/data/np384    # ~41 GB (check `df -h` first)
    python bench/neuropixels_data.py --minutes 5 --out /tmp/np384           # 6.9 GB

Made with spikeinterface's generators (``generate_drifting_recording``): a Neuropixels-like probe (4 columns x
96 rows, 16 um x 20 um pitch; 384 contacts), 500 units at uniformly drawn positions with ellipsoid templates
(100-500 uV), firing rates drawn in 2-8 Hz with a 4 ms refractory period, a zigzag drift of +/-20 um (200 s
period, from 60 s on, or a quarter of a shorter recording; 5 um steps), spatially correlated noise of 6-8 uV
(exp(-d / 25 um) covariance; one 4-s block generated and tiled, see NOISE_BLOCK_FRAMES). The traces are
written as int16 at 2.34375 uV per bit (Neuropixels 1.0 AP band: 1.2 V / 1024 / gain 500), one second per
chunk by two threads, so memory stays bounded whatever the length (the generator holds ~0.9 GB of moved
templates).

The folder gets ``traces.int16.raw`` (time x channel), ``locations.json``, ``sorting.npz`` (the ground truth),
and ``meta.json`` (parameters, seed, size, how long writing took). Nothing here goes into the repository.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import time

import numpy as np

FS = 30000.0
NUM_CHANNELS = 384
#: the noise is generated once for this many frames and tiled (generating it for every frame, spikeinterface's
#: "on_the_fly", ran at ~6 s per second of data on the loaded 2-core machine): it repeats every 4 s
NOISE_BLOCK_FRAMES = 120_000
GAIN_UV = 1.2e6 / 1024 / 500  # 2.34375 uV per bit
PROBE = {"num_columns": 4, "num_contact_per_column": 96, "xpitch": 16.0, "ypitch": 20.0,
         "contact_shapes": "square", "contact_shape_params": {"width": 12.0}}
DRIFT = {"displacement_sampling_frequency": 5.0, "drift_start_um": [0, 20], "drift_stop_um": [0, -20],
         "drift_step_um": 5,
         "motion_list": [{"drift_mode": "zigzag", "non_rigid_gradient": None, "t_start_drift": 60.0,
                          "t_end_drift": None, "period_s": 200}]}


def _probe():
    import probeinterface

    return probeinterface.generate_multi_columns_probe(**PROBE)


def _noise_covariance() -> np.ndarray:
    """exp(-distance / 25 um) between contacts: spikeinterface's spatially correlated noise."""
    locs = _probe().contact_positions
    return np.exp(-np.linalg.norm(locs[:, None] - locs[None, :], axis=2) / 25.0)


def bytes_needed(minutes: float) -> int:
    return int(minutes * 60 * FS) * NUM_CHANNELS * 2


def generate(out: str, minutes: float, num_units: int = 500, seed: int = 384, n_jobs: int = 2) -> dict:
    """Write the dataset into ``out`` (replaced) and return its meta."""
    import spikeinterface.core as si
    from spikeinterface.generation import NoiseGeneratorRecording, generate_drifting_recording
    from spikeinterface.preprocessing import scale

    free = shutil.disk_usage(os.path.dirname(os.path.abspath(out)) or ".").free
    need = bytes_needed(minutes)
    if need > 0.8 * free:
        raise SystemExit(f"{minutes} min need {need / 1e9:.1f} GB but only {free / 1e9:.1f} GB are free; "
                         "choose fewer --minutes (keep 20 % of the disk free)")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    t0 = time.perf_counter()
    levels = np.random.default_rng(seed).uniform(6.0, 8.0, NUM_CHANNELS)
    # spikeinterface (0.105) draws from cov_matrix as given and ignores noise_levels when both are passed: the
    # levels go into the covariance (diag(levels) C diag(levels)), else the noise is 1 uV rms (0.43 counts)
    noise = NoiseGeneratorRecording(
        num_channels=NUM_CHANNELS, sampling_frequency=FS, durations=[minutes * 60], dtype="float32",
        noise_levels=levels, cov_matrix=_noise_covariance() * np.outer(levels, levels),
        strategy="tile_pregenerated", noise_block_size=NOISE_BLOCK_FRAMES, seed=seed)
    noise.probe = _probe()  # generate_drifting_recording checks a given noise's probe (generate_noise sets none)
    drift = {**DRIFT, "motion_list": [{**DRIFT["motion_list"][0], "t_start_drift": min(60.0, minutes * 15)}]}
    _, drifting, sorting = generate_drifting_recording(
        num_units=num_units, duration=minutes * 60, sampling_frequency=FS, generate_probe_kwargs=PROBE,
        generate_displacement_vector_kwargs=drift, noise=noise, seed=seed)
    as_int16 = scale(drifting, gain=1 / GAIN_UV, dtype="int16")  # rounds and clips to int16
    t1 = time.perf_counter()
    si.write_binary_recording(as_int16, file_paths=[os.path.join(out, "traces.int16.raw")], dtype="int16",
                              n_jobs=n_jobs, pool_engine="thread", chunk_duration="1s", progress_bar=False)
    t2 = time.perf_counter()
    with open(os.path.join(out, "locations.json"), "w") as f:
        json.dump(np.asarray(drifting.get_channel_locations()).tolist(), f)
    si.NpzSortingExtractor.write_sorting(sorting, os.path.join(out, "sorting.npz"))
    meta = {"minutes": minutes, "numChannels": NUM_CHANNELS, "samplingFrequency": FS, "gainToUv": GAIN_UV,
            "numUnits": num_units, "numSpikes": int(sorting.count_total_num_spikes()), "seed": seed,
            "bytes": os.path.getsize(os.path.join(out, "traces.int16.raw")), "setupSec": round(t1 - t0, 1),
            "writeSec": round(t2 - t1, 1), "loadAverage": os.getloadavg()}
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    return meta


def load(folder: str):
    """(recording, sorting, meta) of a generated folder: a BinaryRecordingExtractor with the probe, and the npz."""
    import spikeinterface.core as si

    with open(os.path.join(folder, "meta.json")) as f:
        meta = json.load(f)
    rec = si.BinaryRecordingExtractor(file_paths=[os.path.join(folder, "traces.int16.raw")],
                                      sampling_frequency=meta["samplingFrequency"], dtype="int16",
                                      num_channels=meta["numChannels"], gain_to_uV=meta["gainToUv"], offset_to_uV=0.0)
    with open(os.path.join(folder, "locations.json")) as f:
        rec.set_dummy_probe_from_locations(np.asarray(json.load(f)))
    return rec, si.NpzSortingExtractor(os.path.join(folder, "sorting.npz")), meta


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--out", default="/work/data/np384")
    ap.add_argument("--units", type=int, default=500)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    print(f"writing {bytes_needed(args.minutes) / 1e9:.1f} GB to {args.out} ...", flush=True)
    print(json.dumps(generate(args.out, args.minutes, args.units, n_jobs=args.jobs), indent=1))


if __name__ == "__main__":
    main()
