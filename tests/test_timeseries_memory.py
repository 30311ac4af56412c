"""The timeseries pyramid of a 2-hour, 384-channel int16 recording (166 GB sparse file) stays in bounded memory.

As tests/test_memory.py: the recording is a sparse file with a few spikes written into it, and the task body
(``timeseries_segment_of``: everything after loading the recording) runs in a child process whose peak
resident memory is compared with its memory before the work.
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
GAIN = 0.195
SPIKES = {3_600 * FS + 123_457: (200, -769), 3_600 * FS + 900_001: (17, 555)}  # frame: (channel, raw value)

CHILD = textwrap.dedent("""
    import json, sys, time
    import numpy as np
    from spikeinterface.core import BinaryRecordingExtractor
    from sortingview.tasks.timeseries import timeseries_segment_of

    a = json.loads(sys.argv[1])
    rec = BinaryRecordingExtractor(a["path"], a["fs"], "int16", a["channels"], gain_to_uV=a["gain"], offset_to_uV=0.0)
    timeseries_segment_of(rec, None, 0, 100, None, 2000)  # imports and first allocations
    def rss_mb():
        # VmHWM (peak resident set of this program) starts afresh at exec; ru_maxrss would carry over the
        # peak of the forked parent (pytest), which can hide the child's own growth
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024
    base = rss_mb()
    out = {"base": base, "windows": []}
    for start, end, max_samples in a["windows"]:
        t0 = time.perf_counter()
        r = timeseries_segment_of(rec, a["pyramid"], start, end, None, max_samples)
        tr = r["traces"]
        out["windows"].append({"ds": r["dsFactor"], "startFrame": r["startFrame"], "rows": len(tr),
                               "min": tr.min(axis=0).tolist(), "max": tr.max(axis=0).tolist(),
                               "argmin": tr.argmin(axis=0).tolist(), "seconds": time.perf_counter() - t0})
    out["peak"] = rss_mb()
    print(json.dumps(out))
""")


def test_pyramid_of_a_166_gb_recording_stays_under_a_memory_bound(tmp_path):
    path = str(tmp_path / "two_hours_384ch.int16")
    with open(path, "wb"):
        pass
    os.truncate(path, NUM_FRAMES * NUM_CHANNELS * 2)
    try:
        with open(path, "r+b") as f:
            for frame, (channel, value) in SPIKES.items():
                os.pwrite(f.fileno(), np.int16(value).tobytes(), (frame * NUM_CHANNELS + channel) * 2)
        pyramid = tmp_path / "pyramid"
        pyramid.mkdir()
        middle = 3_600 * FS
        windows = [(middle, middle + 60 * FS, 2000),  # one minute at factor 2187, built from 3.2 M frames
                   (middle + 30 * FS, middle + 40 * FS, 2000),  # zoom in: factor 729, from the same level-4 chunks
                   (middle, middle + 60 * FS, 2000)]  # again: from the cache
        args = {"path": path, "fs": FS, "channels": NUM_CHANNELS, "gain": GAIN, "pyramid": str(pyramid),
                "windows": windows}
        proc = subprocess.run([sys.executable, "-c", CHILD, json.dumps(args)], capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        stored = sum(os.stat(p).st_blocks * 512 for p in pyramid.iterdir())
    finally:
        os.remove(path)
    growth = out["peak"] - out["base"]
    assert growth < 150, out  # the file is 166 GB; a level-4 chunk of traces is 45 MB
    first, zoomed, again = out["windows"]
    assert (first["ds"], zoomed["ds"], again["ds"]) == (2187, 729, 2187)
    for w in (first, again):
        # the spike on channel 200 is the minimum of its bin, the one on channel 17 the maximum of its bin
        assert w["min"][200] == np.float32(-769 * GAIN) and w["max"][17] == np.float32(555 * GAIN)
        spike_bin = (middle + 123_457) // 2187 - w["startFrame"] // 2187
        assert w["argmin"][200] == 2 * spike_bin
        assert max(w["max"][:17] + w["max"][18:]) == 0 and w["rows"] <= 2000
    assert zoomed["min"][200] == 0 and zoomed["max"][17] == np.float32(555 * GAIN)  # only the second spike
    assert again["seconds"] < first["seconds"] / 5
    # only the touched chunks take disk space: 2 chunks of level 7 summarize 3.2 M frames (2.4 GB of traces)
    # in 54 + 18 + 6 + 2 chunks of levels 4 to 7, 1.1 MB each
    assert stored < 100 * 2**20, stored
