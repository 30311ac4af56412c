"""recording_info and sorting_info on stored seeded datasets."""
from __future__ import annotations

import numpy as np
import pytest

import sortingview as sv
from sortingview.compute.noise import mad_noise_levels, random_chunk_starts
from tests.datasets import make_dataset


@pytest.fixture
def ds(store_dir, tmp_path):
    return make_dataset(tmp_path, seed=3, num_channels=6, durations=8.0, num_units=4)


def test_recording_info_fields(ds):
    info = sv.run_task("sortingview.recording_info.1", {"recording": ds.recording_uri}, inline=True)
    assert info["samplingFrequency"] == ds.sampling_frequency
    assert info["numFrames"] == ds.num_frames[0]
    assert info["durationSec"] == pytest.approx(8.0)
    assert info["channelIds"] == ds.channel_ids
    np.testing.assert_allclose(info["channelLocations"], ds.gt_recording.get_channel_locations())
    assert info["noiseLevelsUnit"] == "uV" and info["dtype"] == "int16"
    assert info["noiseLevels"].shape == (6,) and info["noiseLevels"].dtype == np.float32


def test_noise_levels_match_spikeinterface_and_the_generated_noise(ds):
    from spikeinterface.core import get_noise_levels

    ours = sv.run_task("sortingview.recording_info.1", {"recording": ds.recording_uri}, inline=True)["noiseLevels"]
    theirs = get_noise_levels(ds.recording, return_in_uV=True, method="mad",
                              random_slices_kwargs=dict(num_chunks_per_segment=20, chunk_size=10000, seed=0))
    # different random chunks, same estimator: within a few percent
    np.testing.assert_allclose(ours, theirs, rtol=0.05)
    # the generator adds Gaussian noise of 5 uV (its default); the stored file is int16 with a 0.195 uV gain,
    # and the spikes add a little on top
    np.testing.assert_allclose(ours, 5.0, rtol=0.15)


def test_noise_is_in_raw_units_without_gains(store_dir, tmp_path):
    ds = make_dataset(tmp_path, seed=5, num_channels=3, durations=4.0, num_units=2, dtype="float32")
    info = sv.run_task("sortingview.recording_info.1", {"recording": ds.recording_uri}, inline=True)
    traces = ds.recording.get_traces()
    starts, size = random_chunk_starts(traces.shape[0], 10000, 20, seed=0)
    np.testing.assert_allclose(info["noiseLevels"], mad_noise_levels(traces[s:s + size] for s in starts), rtol=1e-6)


def test_mad_noise_of_gaussian_noise_is_its_standard_deviation():
    rng = np.random.default_rng(0)
    chunks = [rng.normal(0, [1.0, 5.0, 20.0], size=(20000, 3)) for _ in range(5)]
    np.testing.assert_allclose(mad_noise_levels(chunks), [1.0, 5.0, 20.0], rtol=0.02)
    # robust to large spikes on a few samples
    spiky = [c.copy() for c in chunks]
    for c in spiky:
        c[::200] += 500
    np.testing.assert_allclose(mad_noise_levels(spiky), [1.0, 5.0, 20.0], rtol=0.05)


def test_chunk_starts_are_seeded_sorted_and_inside():
    a, size = random_chunk_starts(100_000, 10_000, 20, seed=0)
    b, _ = random_chunk_starts(100_000, 10_000, 20, seed=0)
    assert size == 10_000 and (a == b).all() and (np.diff(a) >= 0).all() and a.max() + size <= 100_000
    short, size = random_chunk_starts(500, 10_000, 3, seed=1)
    assert size == 500 and short.tolist() == [0, 0, 0]


def test_sorting_info_fields(ds):
    info = sv.run_task("sortingview.sorting_info.1", {"sorting": ds.sorting_uri}, inline=True)
    assert info["unitIds"] == ds.unit_ids
    assert info["samplingFrequency"] == ds.sampling_frequency
    assert info["numSpikesPerUnit"].tolist() == [ds.spike_counts[u] for u in ds.unit_ids]
    assert info["numSpikes"] == sum(ds.spike_counts.values()) and info["numSegments"] == 1
