"""Seeded synthetic datasets for tests: a ground-truth recording stored the way a user's data would be.

``make_dataset(tmp_path, seed=...)`` generates a recording and its ground-truth sorting with
``spikeinterface.core.generate_ground_truth_recording``, writes the traces as a raw binary file scaled to
int16 with a gain (as real acquisition systems do), *links* that file into the current store (use the
``store_dir`` fixture so the store is the test's own), writes the sorting as a spikeinterface .npz, and stores
both objects. The returned :class:`Dataset` holds the object URIs, the extractors loaded back from the store
and the ground-truth numbers to compare results against.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# Intan amplifiers record 0.195 uV per bit; the same gain gives realistic int16 values here
INT16_GAIN_UV = 0.195


@dataclass
class Dataset:
    recording_uri: str
    sorting_uri: str
    recording: object  # spikeinterface BinaryRecordingExtractor loaded from the store
    sorting: object  # spikeinterface NpzSortingExtractor loaded from the store
    gt_recording: object  # the generated recording (float32, microvolts), before quantization
    gt_sorting: object  # the generated sorting
    templates: np.ndarray  # (num_units, num_samples, num_channels) in microvolts
    nbefore: int  # template samples before the spike peak
    sampling_frequency: float
    num_channels: int
    num_units: int
    num_frames: list[int]  # per segment
    channel_ids: list
    unit_ids: list
    spike_counts: dict  # unit id -> number of spikes (all segments)
    gain_to_uv: float
    binary_paths: list[str]
    npz_path: str
    durations: list[float] = field(default_factory=list)

    def spike_train(self, unit_id, segment_index: int = 0) -> np.ndarray:
        return np.asarray(self.gt_sorting.get_unit_spike_train(unit_id, segment_index=segment_index))


def _write_binary(gt_recording, folder: Path, dtype: np.dtype, gain: float) -> list[str]:
    paths = []
    fs = int(gt_recording.get_sampling_frequency())
    for seg in range(gt_recording.get_num_segments()):
        path = folder / f"traces_seg{seg}.bin"
        n = gt_recording.get_num_frames(seg)
        with open(path, "wb") as f:
            for start in range(0, n, fs):  # one second at a time: memory stays small
                chunk = gt_recording.get_traces(start_frame=start, end_frame=min(n, start + fs), segment_index=seg)
                if dtype.kind == "i":
                    info = np.iinfo(dtype)
                    chunk = np.clip(np.round(chunk / gain), info.min, info.max)
                f.write(np.ascontiguousarray(chunk.astype(dtype)).tobytes())
        paths.append(str(path))
    return paths


def make_dataset(
    tmp_path,
    *,
    seed: int = 0,
    num_channels: int = 8,
    durations: float | list[float] = 10.0,
    num_units: int = 6,
    sampling_frequency: float = 30000.0,
    dtype: str = "int16",
) -> Dataset:
    """A seeded ground-truth dataset stored in the current store (see the module docstring)."""
    from spikeinterface.core import BinaryRecordingExtractor, NpzSortingExtractor, generate_ground_truth_recording

    from sortingview.extractors import load_recording, load_sorting, store_recording, store_sorting

    durs = [float(d) for d in (durations if isinstance(durations, (list, tuple)) else [durations])]
    gt_rec, gt_sort = generate_ground_truth_recording(
        durations=durs, sampling_frequency=sampling_frequency, num_channels=num_channels, num_units=num_units,
        seed=seed,
    )
    folder = Path(tmp_path) / f"dataset-seed{seed}-{num_channels}ch-{num_units}u-{dtype}"
    folder.mkdir(parents=True, exist_ok=True)
    dt = np.dtype(dtype)
    gain = INT16_GAIN_UV if dt.kind == "i" else 1.0
    paths = _write_binary(gt_rec, folder, dt, gain)
    rec = BinaryRecordingExtractor(
        file_paths=paths, sampling_frequency=sampling_frequency, dtype=dt.str, num_channels=num_channels,
        channel_ids=list(gt_rec.channel_ids), gain_to_uV=gain, offset_to_uV=0.0,
    )
    rec.set_probegroup(gt_rec.get_probegroup())
    npz_path = str(folder / "sorting.npz")
    NpzSortingExtractor.write_sorting(gt_sort, npz_path)
    recording_uri = store_recording(rec)
    sorting_uri = store_sorting(NpzSortingExtractor(npz_path))
    # the generator keeps its templates (microvolts) and peak offset in its kwargs
    templates = np.asarray(gt_rec._kwargs["templates"], dtype=np.float32)
    nbefore = gt_rec._kwargs["nbefore"]
    nbefore = int(nbefore[0] if isinstance(nbefore, (list, tuple)) else nbefore)
    unit_ids = [u.item() for u in gt_sort.unit_ids]  # plain str/int, as they come back from JSON
    return Dataset(
        recording_uri=recording_uri,
        sorting_uri=sorting_uri,
        recording=load_recording(recording_uri),
        sorting=load_sorting(sorting_uri),
        gt_recording=gt_rec,
        gt_sorting=gt_sort,
        templates=templates,
        nbefore=nbefore,
        sampling_frequency=float(sampling_frequency),
        num_channels=num_channels,
        num_units=num_units,
        num_frames=[int(gt_rec.get_num_frames(s)) for s in range(gt_rec.get_num_segments())],
        channel_ids=[c.item() for c in gt_rec.channel_ids],
        unit_ids=unit_ids,
        spike_counts={u: int(sum(len(gt_sort.get_unit_spike_train(u, segment_index=s))
                                 for s in range(gt_sort.get_num_segments()))) for u in unit_ids},
        gain_to_uv=gain,
        binary_paths=paths,
        npz_path=npz_path,
        durations=durs,
    )
