"""map_blocks on a binary file reads the snippets with pread into per-thread buffers: every snippet's samples
must be the file's, whatever the overlaps, block sizes and threads."""
from __future__ import annotations

import threading

import numpy as np
import pytest
from spikeinterface.core import BinaryRecordingExtractor

from sortingview.tasks._reading import map_blocks, trace_source

NUM_FRAMES, NUM_CHANNELS, BEFORE, AFTER = 20_000, 5, 7, 11


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    path = tmp_path_factory.mktemp("reading") / "traces.int16"
    samples = np.random.default_rng(4).integers(-30000, 30000, (NUM_FRAMES, NUM_CHANNELS), dtype=np.int16)
    samples.tofile(path)
    rec = BinaryRecordingExtractor(str(path), sampling_frequency=30000.0, dtype="int16", num_channels=NUM_CHANNELS)
    return rec, samples


def _spikes() -> np.ndarray:
    """Overlapping, touching, repeated and far-apart spikes, at both ends of the recording."""
    rng = np.random.default_rng(9)
    frames = np.concatenate([rng.integers(BEFORE, NUM_FRAMES - AFTER, 400), [BEFORE, NUM_FRAMES - AFTER],
                             [5000, 5000, 5001, 5000 + BEFORE + AFTER, 5000 + 2 * (BEFORE + AFTER)]])
    return np.sort(frames)


@pytest.mark.parametrize("workers,max_block_bytes", [(1, None), (2, None), (2, 1000), (3, 4096), (1, 181)])
def test_every_snippet_read_from_a_binary_file_is_the_file(recording, workers, max_block_bytes):
    rec, samples = recording
    source = trace_source(rec)
    assert source.raw_file is not None  # the pread path is the one tested
    frames = _spikes()
    got = np.full((len(frames), BEFORE + AFTER, NUM_CHANNELS), -1, np.int32)
    seen = []
    lock = threading.Lock()

    def take(i0, i1, block, start, worker):
        assert 0 <= worker < workers
        for i in range(i0, i1):
            got[i] = block[frames[i] - BEFORE - start:frames[i] + AFTER - start]
        with lock:
            seen.append((i0, i1))

    map_blocks(source, frames, BEFORE, AFTER, take, workers, max_block_bytes)
    expected = np.stack([samples[f - BEFORE:f + AFTER] for f in frames])
    np.testing.assert_array_equal(got, expected)
    assert sorted(seen)[0][0] == 0 and sum(i1 - i0 for i0, i1 in seen) == len(frames)
    if max_block_bytes is not None:
        assert len(seen) > 10  # small blocks: each thread's buffer was reused for many blocks


def test_unsorted_or_outside_spikes_are_refused(recording):
    source = trace_source(recording[0])
    with pytest.raises(ValueError, match="time-sorted"):
        map_blocks(source, np.array([500, 100]), BEFORE, AFTER, lambda *a: None)
    with pytest.raises(ValueError, match="inside the recording"):
        map_blocks(source, np.array([2]), BEFORE, AFTER, lambda *a: None)
