"""Readers of the original's ``h5_v1`` files (labbox-ephys era), as spikeinterface extractors.

Recording: datasets ``num_chunks``, ``chunk_size``, ``padding``, ``num_channels``, ``num_timepoints``,
``sampling_frequency`` (one-element arrays), ``channel_ids``, ``channel_geom`` (channels x dims), and for channel
``m`` and chunk ``c`` the padded trace ``part-<m>-<c>`` (``chunk_size + 2 * padding`` samples, the chunk's first
sample at ``padding``). Sorting: ``sampling_frequency``, ``unit_ids`` and ``unit_spike_trains/<unit id>``.
Only the pieces a request needs are read.
"""
from __future__ import annotations

import numpy as np

from ..errors import InvalidObjectError

MAX_CHUNKS = 10_000_000


def _scalar(f, name: str, path: str):
    if name not in f:
        raise InvalidObjectError(f"h5_v1 file {path} has no dataset {name!r}; it is not an h5_v1 file")
    return np.asarray(f[name]).ravel()[0].item()


def _open(path: str):
    import h5py

    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise InvalidObjectError(f"{path} is not an HDF5 file ({exc})") from exc


def h5_v1_recording(path: str):
    from spikeinterface.core import BaseRecording, BaseRecordingSegment

    with _open(path) as f:
        info = {k: _scalar(f, k, path) for k in ("num_chunks", "chunk_size", "padding", "num_timepoints",
                                                  "sampling_frequency")}
        channel_ids = [int(c) for c in np.asarray(f["channel_ids"]).ravel()]
        geom = np.asarray(f["channel_geom"], dtype=float) if "channel_geom" in f else None
        dtype = f["part-0-0"].dtype if "part-0-0" in f else np.dtype("float64")
    if not (0 < info["chunk_size"] and 0 <= info["padding"] and 0 <= info["num_chunks"] <= MAX_CHUNKS):
        raise InvalidObjectError(f"h5_v1 file {path}: chunk_size/padding/num_chunks are out of range")

    class Segment(BaseRecordingSegment):
        def __init__(self):
            super().__init__(sampling_frequency=float(info["sampling_frequency"]))

        def get_num_samples(self) -> int:
            return int(info["num_timepoints"])

        def get_traces(self, start_frame=None, end_frame=None, channel_indices=None):
            return _read_h5_chunks(path, info, start_frame or 0,
                                   self.get_num_samples() if end_frame is None else end_frame,
                                   np.arange(len(channel_ids))[slice(None) if channel_indices is None
                                                               else channel_indices], dtype)

    rec = BaseRecording(sampling_frequency=float(info["sampling_frequency"]), channel_ids=channel_ids, dtype=dtype)
    rec.add_recording_segment(Segment())
    if geom is not None and geom.ndim == 2 and geom.shape[0] == len(channel_ids):
        rec.set_dummy_probe_from_locations(geom)
    return rec


def _read_h5_chunks(path: str, info: dict, t1: int, t2: int, channels: np.ndarray, dtype) -> np.ndarray:
    size, pad = int(info["chunk_size"]), int(info["padding"])
    out = np.zeros((t2 - t1, len(channels)), dtype=dtype)
    if t2 <= t1:
        return out
    with _open(path) as f:
        for c in range(t1 // size, (t2 - 1) // size + 1):
            a, b = max(t1, c * size), min(t2, (c + 1) * size)
            offset = c * size - pad
            for j, m in enumerate(channels):
                out[a - t1:b - t1, j] = f[f"part-{int(m)}-{c}"][a - offset:b - offset]
    return out


def h5_v1_sorting(path: str):
    from spikeinterface.core import NumpySorting

    with _open(path) as f:
        fs = float(_scalar(f, "sampling_frequency", path))
        unit_ids = [int(u) for u in np.asarray(f["unit_ids"]).ravel()] if "unit_ids" in f else []
        trains = {u: np.asarray(f[f"unit_spike_trains/{u}"], dtype=np.int64).ravel() for u in unit_ids}
    if not np.isfinite(fs) or fs <= 0:
        raise InvalidObjectError(f"h5_v1 sorting {path} has no valid sampling frequency ({fs})")
    return NumpySorting.from_unit_dict(trains, fs)


def save_recording(recording, *, format: str, filename: str, dtype=float, chunk_size: int = 10_000_000,
                   padding: int = 10_000) -> None:
    """The original's ``save_recording(R, format='h5_v1', filename=..., dtype=...)``: write an h5_v1 file (one
    segment), chunk by chunk, that ``{"recording_format": "h5_v1", "data": {"h5_uri": ...}}`` loads."""
    import h5py

    if format != "h5_v1":
        raise InvalidObjectError(f"save_recording writes format 'h5_v1' only, not {format!r}")
    n, m = recording.get_num_frames(0), recording.get_num_channels()
    num_chunks = -(-n // chunk_size)
    locations = recording.get_channel_locations() if recording.has_probe() else np.zeros((m, 2))
    with h5py.File(filename, "w") as f:
        for name, value in [("chunk_size", chunk_size), ("num_chunks", num_chunks), ("padding", padding),
                            ("num_channels", m), ("num_timepoints", n),
                            ("sampling_frequency", recording.get_sampling_frequency())]:
            f.create_dataset(name, data=[value])
        f.create_dataset("channel_ids", data=np.arange(m))
        f.create_dataset("channel_geom", data=np.asarray(locations, dtype=float))
        for j in range(num_chunks):
            t1, t2 = j * chunk_size, min(n, (j + 1) * chunk_size)
            s1, s2 = max(0, t1 - padding), min(n, t2 + padding)
            padded = np.zeros((m, chunk_size + 2 * padding), dtype=dtype)
            a = padding - (t1 - s1)
            padded[:, a:a + s2 - s1] = recording.get_traces(start_frame=s1, end_frame=s2).T
            for c in range(m):
                f.create_dataset(f"part-{c}-{j}", data=padded[c])
