"""Seeded benchmark datasets, generated once and cached under ``bench/_data/`` (git-ignored).

Two datasets, both at 30 kHz and generated with spikeinterface (``generate_ground_truth_recording`` /
``generate_sorting``) from fixed seeds, so every machine benchmarks the same data:

* ``"large"``: 64 channels, 600 s, 100 units, traces saved as an int16 binary file with a gain of
  0.195 uV per bit (2.3 GB), the sorting as a spikeinterface .npz. Loaded as a ``BinaryRecordingExtractor``
  with the generator's probe (locations), and an ``NpzSortingExtractor``.
* ``"stress"``: a sorting only, 400 units x 600 s at 11.25 Hz: about 2.7 million spikes (the all-pairs
  correlogram load: about 1.2e9 ordered spike pairs within +/-50 ms).

How to use them (other benchmark sections get the same object from ``bench_compute.py``)::

    from _datasets import Datasets          # with bench/ on sys.path, as bench_compute.py sets it
    datasets = Datasets()                   # nothing is built yet
    large = datasets["large"]               # builds on first use (a few minutes), then loads from disk
    large.recording, large.sorting          # spikeinterface extractors
    large.binary_path, large.sorting_path   # the files, e.g. to load them in a child process
    datasets["stress"].sorting

``python bench/_datasets.py`` builds both up front. Delete ``bench/_data/`` to rebuild (a change of
``VERSION`` below rebuilds automatically).
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from typing import Any

import numpy as np

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_data")
VERSION = 1
FS = 30000.0
GAIN_UV = 0.195  # Intan's 0.195 uV per bit: realistic int16 values

SPECS = {
    "large": {"num_channels": 64, "duration_s": 600.0, "num_units": 100, "seed": 0},
    "stress": {"num_units": 400, "duration_s": 600.0, "firing_rate_hz": 11.25, "seed": 1},
}


@dataclass
class Dataset:
    name: str
    sorting: Any
    sorting_path: str
    recording: Any = None
    binary_path: str | None = None
    info: dict = field(default_factory=dict)


class Datasets:
    """Lazy mapping name -> :class:`Dataset`; each is built on first access and cached on disk."""

    def __init__(self, data_dir: str = DATA_DIR, verbose: bool = True):
        self.data_dir = data_dir
        self.verbose = verbose
        self._loaded: dict[str, Dataset] = {}

    def __getitem__(self, name: str) -> Dataset:
        if name not in SPECS:
            raise KeyError(f"unknown benchmark dataset {name!r}; there are {', '.join(SPECS)}")
        if name not in self._loaded:
            folder = os.path.join(self.data_dir, name)
            if not _is_current(folder, name):
                if self.verbose:
                    print(f"building the {name!r} benchmark dataset in {folder} (once) ...", flush=True)
                shutil.rmtree(folder, ignore_errors=True)
                os.makedirs(folder)
                (_build_large if name == "large" else _build_stress)(folder, SPECS[name])
                with open(os.path.join(folder, "meta.json"), "w") as f:
                    json.dump({"version": VERSION, "spec": SPECS[name]}, f)
            self._loaded[name] = _load(folder, name)
        return self._loaded[name]

    def __contains__(self, name: object) -> bool:
        return name in SPECS


def _is_current(folder: str, name: str) -> bool:
    try:
        with open(os.path.join(folder, "meta.json")) as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return False
    return meta == {"version": VERSION, "spec": SPECS[name]}


def _build_large(folder: str, spec: dict) -> None:
    import spikeinterface.core as si
    from spikeinterface.preprocessing import scale

    rec, sorting = si.generate_ground_truth_recording(
        durations=[spec["duration_s"]], sampling_frequency=FS, num_channels=spec["num_channels"],
        num_units=spec["num_units"], seed=spec["seed"])
    as_int16 = scale(rec, gain=1 / GAIN_UV, dtype="int16")  # rounds and clips to int16
    si.write_binary_recording(as_int16, file_paths=[os.path.join(folder, "traces.int16.raw")], dtype="int16",
                              n_jobs=2, chunk_duration="1s", progress_bar=False)
    with open(os.path.join(folder, "locations.json"), "w") as f:
        json.dump(np.asarray(rec.get_channel_locations()).tolist(), f)
    si.NpzSortingExtractor.write_sorting(sorting, os.path.join(folder, "sorting.npz"))


def _build_stress(folder: str, spec: dict) -> None:
    import spikeinterface.core as si

    sorting = si.generate_sorting(num_units=spec["num_units"], sampling_frequency=FS,
                                  durations=[spec["duration_s"]], firing_rates=spec["firing_rate_hz"],
                                  seed=spec["seed"])
    si.NpzSortingExtractor.write_sorting(sorting, os.path.join(folder, "sorting.npz"))


def _load(folder: str, name: str) -> Dataset:
    import spikeinterface.core as si

    sorting_path = os.path.join(folder, "sorting.npz")
    sorting = si.NpzSortingExtractor(sorting_path)
    ds = Dataset(name=name, sorting=sorting, sorting_path=sorting_path,
                 info={"numUnits": len(sorting.unit_ids), "numSpikes": int(sorting.count_total_num_spikes())})
    if name == "large":
        spec = SPECS["large"]
        ds.binary_path = os.path.join(folder, "traces.int16.raw")
        ds.recording = si.BinaryRecordingExtractor(
            file_paths=[ds.binary_path], sampling_frequency=FS, dtype="int16", num_channels=spec["num_channels"],
            gain_to_uV=GAIN_UV, offset_to_uV=0.0)
        with open(os.path.join(folder, "locations.json")) as f:
            ds.recording.set_dummy_probe_from_locations(np.asarray(json.load(f)))
        ds.info["numChannels"] = spec["num_channels"]
        ds.info["durationSec"] = spec["duration_s"]
    return ds


if __name__ == "__main__":
    all_datasets = Datasets()
    for key in SPECS:
        print(key, all_datasets[key].info)
