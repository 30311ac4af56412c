"""Binary recordings whose file lives on a peer, read lazily: only the chunks a task touches cross the network.

:func:`recording_from_data` builds a :class:`RemoteBinaryRecording` (a SpikeInterface ``BaseRecording``) from a
``binary_recording`` object when a segment's file is not in the local store but peers are set. Its
``get_traces`` reads through :class:`sortingview.store.remote_binary.RemoteFile`, so every sample it returns
was verified against the owner's chunk manifest. Tasks read it like any recording; ``read_gap_frames = 0``
tells the block reader of sortingview.tasks to fetch each spike's snippet on its own rather than the
samples between spikes.
"""
from __future__ import annotations

import os

import numpy as np
from spikeinterface.core import BaseRecording, BaseRecordingSegment

from .. import store
from ..errors import InvalidObjectError, SortingviewError
from ..store.chunk_manifest import MAX_CHUNK, MAX_CHUNKS, MIN_CHUNK
from ..store.uri import parse_uri
from ._common import field, float_list

FORMAT = "binary_recording"
CHUNK_FRAMES = 16  # frames per verified chunk: small enough that a snippet drags few extra bytes along
MIN_CHUNK_BYTES = 4096  # ... but the manifest (20 bytes per chunk) stays under 0.5% of the file


def _missing_locally(uri) -> bool:
    if not isinstance(uri, str):
        return False
    try:
        parsed = parse_uri(uri)
    except SortingviewError:  # a malformed URI is reported by the ordinary loader, with its own message
        return False
    if parsed.location and os.path.isfile(parsed.location):
        return False  # kachery-cloud's location= reference: the ordinary loader checks its sha1
    return not store.get_store().has(parsed.sha1)


def needs_remote(data: dict) -> bool:
    """True when a segment's file is not in the local store and there are peers to read it from."""
    from ..store.peers import list_peers

    segments = data.get("segments") if isinstance(data, dict) else None
    if not isinstance(segments, list) or not any(isinstance(s, dict) and _missing_locally(s.get("fileUri"))
                                                 for s in segments):
        return False
    return bool(list_peers())


def chunk_size_for(row_bytes: int, size: int) -> int:
    """``CHUNK_FRAMES`` frames, within the manifest's bounds for a file of ``size`` bytes."""
    return int(min(MAX_CHUNK, max(MIN_CHUNK, MIN_CHUNK_BYTES, row_bytes * CHUNK_FRAMES, -(-size // MAX_CHUNKS))))


def recording_from_data(data: dict):
    """A lazily read recording of a ``binary_recording`` object whose files are on peers."""
    from .binary import _check_dtype, apply_probe_data

    num_channels = field(data, "numChannels", int, FORMAT)
    channel_ids = field(data, "channelIds", list, FORMAT)
    if num_channels < 1 or len(channel_ids) != num_channels:
        raise InvalidObjectError(f"{FORMAT} object lists {len(channel_ids)} channel ids for {num_channels} channels")
    if field(data, "timeAxis", int, FORMAT) != 0:
        raise InvalidObjectError(f"{FORMAT} object: a recording with timeAxis 1 cannot be read lazily from a "
                                 "peer; fetch its file whole with `sortingview store fetch URI`")
    fs = field(data, "samplingFrequency", float, FORMAT)
    if not fs > 0:
        raise InvalidObjectError(f"{FORMAT} object: samplingFrequency must be positive, got {fs}")
    dtype = _check_dtype(field(data, "dtype", str, FORMAT))
    rec = RemoteBinaryRecording(fs, channel_ids, dtype)
    offset = field(data, "fileOffset", int, FORMAT)
    for i, seg in enumerate(field(data, "segments", list, FORMAT)):
        rec.add_recording_segment(_segment(seg, i, fs, num_channels, dtype, offset))
    gains = float_list(data.get("gainToUV"), num_channels, FORMAT, "gainToUV")
    if gains is not None:
        rec.set_channel_gains(gains)
        rec.set_channel_offsets(float_list(data.get("offsetToUV"), num_channels, FORMAT, "offsetToUV") or 0.0)
    if field(data, "isFiltered", bool, FORMAT, optional=True) is not None:
        rec.annotate(is_filtered=bool(data["isFiltered"]))
    apply_probe_data(rec, data, FORMAT)
    return rec


def _segment(seg, i: int, fs: float, num_channels: int, dtype: np.dtype, offset: int):
    from ..store.peers import list_peers
    from ..store.remote_binary import RemoteFile

    if not isinstance(seg, dict):
        raise InvalidObjectError(f"{FORMAT} object: segment {i} must be an object")
    num_frames = field(seg, "numFrames", int, FORMAT)
    if num_frames < 0 or offset < 0:
        raise InvalidObjectError(f"{FORMAT} object: segment {i} has a negative frame count or file offset")
    uri = field(seg, "fileUri", str, FORMAT)
    row = num_channels * dtype.itemsize
    expected = offset + num_frames * row
    manifest_uri = field(seg, "chunkManifest", str, FORMAT, optional=True)
    if manifest_uri is not None:
        parse_uri(manifest_uri)  # a malformed URI is named here, before any peer is asked
    remote = RemoteFile(parse_uri(uri).sha1, list_peers(), chunk_size_for(row, expected), manifest_uri=manifest_uri)
    if remote.size < expected:
        raise InvalidObjectError(f"{FORMAT} object: the file of segment {i} ({uri}) has {remote.size} bytes on "
                                 f"the peer, fewer than the {expected} its {num_frames} frames need")
    t_start = field(seg, "tStart", float, FORMAT, optional=True)
    return RemoteBinaryRecordingSegment(remote, fs, t_start, num_frames, num_channels, dtype, offset)


class RemoteBinaryRecording(BaseRecording):
    """A binary recording read from a peer in verified chunks (see the module docstring)."""

    read_gap_frames = 0  # sortingview.tasks._reading: never read the samples between two snippets

    def __init__(self, sampling_frequency: float, channel_ids: list, dtype: np.dtype):
        BaseRecording.__init__(self, sampling_frequency=sampling_frequency, channel_ids=channel_ids, dtype=dtype)
        # rebuilt from its object URI in each process (tasks pass URIs), never pickled with open connections
        self._serializability.update(memory=True, json=False, pickle=False)
        self._kwargs = {}


class RemoteBinaryRecordingSegment(BaseRecordingSegment):
    def __init__(self, remote, fs: float, t_start: float | None, num_frames: int, num_channels: int,
                 dtype: np.dtype, offset: int):
        BaseRecordingSegment.__init__(self, sampling_frequency=fs, t_start=t_start)
        self.remote, self.num_frames, self.num_channels = remote, num_frames, num_channels
        self.dtype, self.offset = np.dtype(dtype), offset

    def get_num_samples(self) -> int:
        return self.num_frames

    def get_traces(self, start_frame=None, end_frame=None, channel_indices=None) -> np.ndarray:
        start = 0 if start_frame is None else int(start_frame)
        end = self.num_frames if end_frame is None else int(end_frame)
        row = self.num_channels * self.dtype.itemsize
        raw = self.remote.read(self.offset + start * row, max(0, end - start) * row)
        traces = np.frombuffer(raw, dtype=self.dtype).reshape(-1, self.num_channels)
        return traces if channel_indices is None else traces[:, channel_indices]
