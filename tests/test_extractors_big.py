"""A 384-channel Neuropixels recording behind a filter chain is stored as a link and read in bounded memory.

The SpikeGLX .bin is a sparse file of several gigabytes (only the spikes written here hold data), so this test
costs little disk; a task that loaded it, or its filtered float32 version, into RAM would grow the process by
more than the file's size, far above the bound checked here.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
from test_extractors_si import write_spikeglx

import sortingview as sv

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FS = 30000
SECONDS = 60
N_SAVED = 385  # 384 channels and the sync channel
UNIT_CHANNELS = {1: 40, 2: 200, 3: 350}  # where each unit's spikes are written
RSS_BOUND_MB = 500


def sparse_spikeglx(folder, rng) -> dict:
    """A sparse .bin of SECONDS s with 150 spikes per unit on its channel (and weaker on the two neighbours)."""
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "run_g0_t0.imec0.ap.bin")
    nbytes = FS * SECONDS * N_SAVED * 2
    with open(path, "wb") as f:
        f.truncate(nbytes)
    shape = np.array([0, -30, -120, -300, -200, -80, 40, 60, 30, 10], dtype=np.int16)
    trains = {}
    with open(path, "r+b") as f:
        for unit, ch in UNIT_CHANNELS.items():
            frames = np.sort(rng.choice(np.arange(1000, FS * SECONDS - 1000), 150, replace=False))
            trains[unit] = frames
            for t in frames:
                block = np.zeros((len(shape), N_SAVED), dtype=np.int16)
                block[:, ch] = shape
                block[:, [ch - 2, ch + 2]] = (shape // 3)[:, None]
                f.seek(int(t) * N_SAVED * 2)
                f.write(block.tobytes())
    write_spikeglx(folder, np.zeros((0, N_SAVED), dtype=np.int16))
    return trains


def test_filtered_384_channel_recording_is_linked_and_read_in_bounded_memory(store_dir, tmp_path):
    import spikeinterface.extractors as se
    import spikeinterface.preprocessing as spre
    from spikeinterface.core import NumpySorting

    trains = sparse_spikeglx(tmp_path / "glx", np.random.default_rng(7))
    raw = se.read_spikeglx(tmp_path / "glx", stream_id="imec0.ap")
    assert raw.get_num_channels() == 384 and raw.get_num_frames() == FS * SECONDS
    chain = spre.common_reference(spre.bandpass_filter(raw, freq_min=300, freq_max=6000), operator="median")
    W = sv.create_workspace(label="np1")
    rid = W.add_recording(label="filtered", recording=chain)
    sorting = sv.copy_sorting_extractor(NumpySorting.from_unit_dict(trains, FS))
    sid = W.add_sorting(recording_id=rid, label="s", sorting=sorting)
    stored = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(store_dir) for f in fs)
    assert stored < 5_000_000  # links and JSON, not the 1.4 GB of traces
    script = textwrap.dedent(f"""
        import json, resource, sortingview as sv
        from sortingview.extractors import load_recording
        rec = load_recording({W.get_recording_record(rid)["recordingUri"]!r})
        rec.get_traces(start_frame=0, end_frame=100)  # imports and file headers, before the baseline
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        out = sv.run_task("sortingview.average_waveforms.1", {{
            "recording": {W.get_recording_record(rid)["recordingUri"]!r},
            "sorting": {W.get_sorting_record(sid)["sortingUri"]!r}}}, inline=True)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({{"growthMB": (peak - base) / 1024, "peaks": {{
            str(w["unitId"]): w["peakChannelId"] for w in out["averageWaveforms"]}}}}))
    """)
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"peak RSS growth while averaging waveforms over the filtered 384-channel recording: "
          f"{result['growthMB']:.0f} MB (file {FS * SECONDS * N_SAVED * 2 / 1e9:.2f} GB)")
    assert result["peaks"] == {str(u): raw.channel_ids[ch] for u, ch in UNIT_CHANNELS.items()}
    assert result["growthMB"] < RSS_BOUND_MB
