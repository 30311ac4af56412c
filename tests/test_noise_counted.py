"""Noise levels of 8/16-bit recordings are counted, not sorted: the same float32 values as the numpy path."""
from __future__ import annotations

import numpy as np
import pytest
from test_waveforms import dataset_in_own_store

from sortingview.compute.noise import mad_noise_levels, mad_noise_levels_of_integers, random_chunk_starts
from sortingview.tasks import info
from sortingview.tasks._reading import trace_source


@pytest.mark.parametrize("dtype,spread", [(np.int16, 3.0), (np.int16, 900.0), (np.uint8, 20.0), (np.int8, 0.3)])
@pytest.mark.parametrize("frames", [10000, 999, 2, 1])
def test_counted_medians_equal_numpy_on_scaled_samples(dtype, spread, frames):
    rng = np.random.default_rng(frames)
    info_ = np.iinfo(dtype)
    raw = np.round(rng.normal(0, spread, (frames, 16)) + (128 if dtype == np.uint8 else 0))
    chunks = [raw.clip(info_.min, info_.max).astype(dtype) for _ in range(2)]
    chunks[1] = chunks[1][::-1] // 2
    gains, offsets = rng.uniform(-3, 3, 16), rng.uniform(-10, 10, 16)
    gains[0] = 0.0
    expected = mad_noise_levels([(c * gains + offsets).astype(np.float32) for c in chunks])
    np.testing.assert_array_equal(mad_noise_levels_of_integers(chunks, gains, offsets), expected)
    no_gains = mad_noise_levels([np.asarray(c, np.float32) for c in chunks])
    np.testing.assert_array_equal(mad_noise_levels_of_integers(chunks, np.ones(16), np.zeros(16)), no_gains)


def test_other_dtypes_are_refused():
    with pytest.raises(ValueError, match="8- or 16-bit integer"):
        mad_noise_levels_of_integers([np.zeros((4, 2), np.float32)], np.ones(2), np.zeros(2))


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    yield from dataset_in_own_store(tmp_path_factory, "noise_counted")


def test_recording_noise_levels_equal_the_scaled_numpy_path_and_are_kept(ds):
    rec = ds.recording
    source = trace_source(rec)
    starts, size = random_chunk_starts(source.num_frames, info.NOISE_CHUNK_FRAMES, info.NOISE_NUM_CHUNKS,
                                       info.NOISE_SEED)
    expected = mad_noise_levels(source.to_uv(rec.get_traces(start_frame=int(s), end_frame=int(s) + size,
                                                            return_in_uV=False)) for s in starts)
    info._NOISE_LEVELS.pop(rec, None)
    got = info.recording_noise_levels(rec)
    np.testing.assert_array_equal(got, expected)
    assert rec in info._NOISE_LEVELS  # kept: unit_metrics does not read the chunks again
    got[:] = -1  # a caller's copy
    np.testing.assert_array_equal(info.recording_noise_levels(rec), expected)
