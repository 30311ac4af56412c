"""Memory stays bounded: waveforms and metrics of a 2-hour, 384-channel int16 recording (166 GB).

The recording is a sparse file (``os.truncate``: no disk blocks, reads of holes are zeros) with a few hundred
spike waveforms written into it. The work runs in a child process whose peak resident memory
(``VmHWM``) is compared with its resident memory before the work.

The big file is opened as the ``BinaryRecordingExtractor`` that ``load_recording`` returns for a linked binary
file, and the task bodies (``average_waveforms_of``, ``unit_metrics_of``: everything after loading) run on
it. Linking it into the store would hash 166 GB (about 3 s per GB on the CI machine); the store's tests
cover linking, and tests/test_waveforms.py checks that a recording loaded from the store takes the same
memory-mapped path.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np

FS = 30000
NUM_CHANNELS = 384
NUM_FRAMES = 2 * 3600 * FS
UNIT_CHANNELS = {"u1": 17, "u2": 200, "u3": 371}
PEAK_UV = -150.0
GAIN = 0.195

CHILD = textwrap.dedent("""
    import json, sys
    import numpy as np
    from spikeinterface.core import BinaryRecordingExtractor, NumpySorting
    from sortingview.tasks.metrics import unit_metrics_of
    from sortingview.tasks.waveforms import average_waveforms_of

    args = json.loads(sys.argv[1])
    rec = BinaryRecordingExtractor(args["path"], args["fs"], "int16", args["channels"], gain_to_uV=args["gain"],
                                   offset_to_uV=0.0)
    # a Neuropixels-like layout: two columns, 20 um between rows
    ch = np.arange(args["channels"])
    rec.set_dummy_probe_from_locations(np.c_[(ch % 2) * 32.0, (ch // 2) * 20.0])
    trains = {u: np.asarray(t, dtype=np.int64) for u, t in args["trains"].items()}
    sorting = NumpySorting.from_unit_dict([trains], sampling_frequency=args["fs"])
    units = list(trains)
    # load the compiled kernels first: numba's code is a fixed cost, not memory that grows with the recording
    from sortingview.compute.snippets import accumulate_moments, gather_snippets
    z = np.zeros((4, 2, 3))
    accumulate_moments(np.zeros((10, 3), np.int16), np.array([5]), np.array([0]), 1, z, z.copy())
    gather_snippets(np.zeros((10, 3), np.int16), np.array([5]), np.array([0]), np.zeros((1, 1), np.int64), 1,
                    np.zeros((1, 2, 1), np.float32), np.array([0]))
    def rss_mb():
        # VmHWM: this process's own peak RSS (ru_maxrss would start from the parent's peak, through fork+exec)
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024
    base = rss_mb()
    wf = average_waveforms_of(rec, sorting, units, 30, 60, 500, 7)
    after_waveforms = rss_mb()
    metrics = unit_metrics_of(rec, sorting, units, 1.5, 60.0, 30, 60, 500)
    out = {"base": base, "afterWaveforms": after_waveforms, "peak": rss_mb(), "units": []}
    for e in wf["averageWaveforms"]:
        k = e["channelIds"].index(e["peakChannelId"])
        out["units"].append({"unitId": e["unitId"], "numSpikes": e["numSpikes"],
                             "peakChannelId": int(e["peakChannelId"]), "peak": float(e["waveform"][:, k].min()),
                             "std": float(e["waveformStdDev"].max())})
    out["metrics"] = {m["name"]: {k: (None if v != v else v) for k, v in m["data"].items()}
                      for m in metrics["metrics"]}
    print(json.dumps(out))
""")


def _spike_shape() -> np.ndarray:
    t = np.arange(90) - 30
    return (PEAK_UV * np.exp(-0.5 * (t / 4.0) ** 2) / GAIN).round().astype(np.int16)


def _write_spikes(path: str, trains: dict) -> None:
    """Write each unit's spike shape on its channel around each spike frame (30 before, 60 after)."""
    shape = _spike_shape()
    with open(path, "r+b") as f:
        for unit, frames in trains.items():
            block = np.zeros((90, NUM_CHANNELS), np.int16)
            block[:, UNIT_CHANNELS[unit]] = shape
            for t in frames:
                if t - 30 >= 0 and t + 60 <= NUM_FRAMES:
                    os.pwrite(f.fileno(), block.tobytes(), (t - 30) * NUM_CHANNELS * 2)


def test_waveforms_and_metrics_of_a_166_gb_recording_stay_under_a_memory_bound(tmp_path):
    path = str(tmp_path / "two_hours_384ch.int16")
    with open(path, "wb"):
        pass
    os.truncate(path, NUM_FRAMES * NUM_CHANNELS * 2)
    try:
        rng = np.random.default_rng(0)
        trains = {u: np.sort(rng.choice(NUM_FRAMES - 100, size=150, replace=False) + 50).tolist()
                  for u in UNIT_CHANNELS}
        trains["u3"] = sorted(trains["u3"] + [5, NUM_FRAMES - 3])  # two edge spikes, left out of the average
        _write_spikes(path, trains)
        args = {"path": path, "fs": FS, "channels": NUM_CHANNELS, "gain": GAIN, "trains": trains}
        proc = subprocess.run([sys.executable, "-c", CHILD, json.dumps(args)], capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        out = json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        os.remove(path)
    file_mb = NUM_FRAMES * NUM_CHANNELS * 2 / 2**20
    assert file_mb > 150_000
    # 166 GB on disk. Waveforms may add at most 60 MB to the process (measured: about 20 MB); the metrics also
    # hold one noise chunk of 10,000 frames x 384 channels and its float copies (measured: about 130 MB)
    assert out["afterWaveforms"] - out["base"] < 60, out
    assert out["peak"] - out["base"] < 250, out
    assert out["peak"] < 1024, out
    for entry in out["units"]:
        unit = entry["unitId"]
        assert entry["numSpikes"] == 150 and entry["peakChannelId"] == UNIT_CHANNELS[unit]
        assert abs(entry["peak"] - PEAK_UV) < GAIN  # every snippet is the same shape: exact mean, zero spread
        assert entry["std"] < 1e-3
    assert out["metrics"]["numEvents"] == {"u1": 150, "u2": 150, "u3": 152}
    assert abs(out["metrics"]["medianAmplitude"]["u2"] - PEAK_UV) < GAIN
    # the traces are zero between spikes: the noise level is 0 and the SNR undefined (null), not infinite
    assert out["metrics"]["snr"] == {"u1": None, "u2": None, "u3": None}
