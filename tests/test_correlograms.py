"""Correlogram kernels: exact counts against a brute-force reference, and agreement with spikeinterface."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from sortingview.compute import correlograms as kernels
from sortingview.compute.correlograms import (
    autocorrelograms,
    correlogram_bins,
    cross_correlogram,
    cross_correlograms,
)
from sortingview.errors import TaskInputError


def brute_force(train_a, train_b, same_unit, window_ms, bin_ms, fs):
    """Every ordered spike pair, binned with exact rational arithmetic straight from the definition."""
    bin_frames = Fraction(str(bin_ms)) * Fraction(str(fs)) / 1000
    half = Fraction(str(window_ms)) * Fraction(str(fs)) / 2000
    n_bins = int(Fraction(str(window_ms)) / Fraction(str(bin_ms)))
    counts = np.zeros(n_bins, dtype=np.int64)
    a = np.asarray(train_a, dtype=np.int64)
    b = np.asarray(train_b, dtype=np.int64)
    if a.size == 0 or b.size == 0:
        return counts
    lags = b[None, :] - a[:, None]
    if same_unit:
        lags = lags[~np.eye(a.size, dtype=bool)]
    values, multiplicity = np.unique(lags, return_counts=True)
    for lag, m in zip(values, multiplicity, strict=True):
        k = (int(lag) + half) / bin_frames
        k = k.numerator // k.denominator
        if 0 <= k < n_bins:
            counts[k] += m
    return counts


def make_trains(seed, n_units=5, n_frames=6000, rate=60):
    """Seeded trains with bursts (many pairs near zero lag), duplicate times, frame 0, the last frame
    and an empty unit."""
    rng = np.random.default_rng(seed)
    trains = []
    for u in range(n_units):
        t = rng.integers(0, n_frames, rng.poisson(rate))
        t = np.concatenate([t, t[: len(t) // 5] + rng.integers(0, 40, len(t) // 5)])  # bursts
        if u == 0:
            t = np.concatenate([t, [0, 0, n_frames - 1, n_frames - 1, 17, 17, 17]])
        if u == 1:
            t = np.concatenate([t, [0, n_frames - 1]])
        trains.append(np.sort(np.clip(t, 0, n_frames - 1)))
    trains.append(np.zeros(0, dtype=np.int64))  # an empty unit
    return trains


# (windowMs, binMs, fs): integer bins, non-integer half window, non-integer bin widths in frames,
# decimal values that are not exact binary doubles
CASES = [
    (50, 1, 30000),
    (0.5, 0.1, 30000),       # bin 3 frames, half 7.5 frames
    (20, 1, 32556),          # bin 32.556 frames
    (9, 0.3, 30000),         # 9-frame bins, written with a non-binary decimal
    (3.3, 1.1, 24414.0625),  # non-integer everything
    (100, 5, 30000),
]


@pytest.fixture(params=["threads", "serial"])
def kernel_mode(request, monkeypatch):
    """Run with the threaded kernels (forced even for small inputs) and with the serial ones."""
    monkeypatch.setattr(kernels, "SERIAL_BELOW_SPIKES", 0 if request.param == "threads" else 10**12)
    return request.param


@pytest.mark.parametrize("window_ms,bin_ms,fs", CASES)
def test_cross_correlograms_match_brute_force(window_ms, bin_ms, fs, kernel_mode):
    trains = make_trains(seed=int(window_ms * 10 + bin_ms * 100))
    got = cross_correlograms(trains, window_ms=window_ms, bin_ms=bin_ms, sampling_frequency=fs)
    for i, ti in enumerate(trains):
        for j, tj in enumerate(trains):
            np.testing.assert_array_equal(got[i, j], brute_force(ti, tj, i == j, window_ms, bin_ms, fs),
                                          err_msg=f"pair ({i}, {j})")
    assert got[:-1, :-1].sum() > 0


@pytest.mark.parametrize("window_ms,bin_ms,fs", CASES)
def test_autocorrelograms_match_brute_force_and_the_diagonal(window_ms, bin_ms, fs, kernel_mode):
    trains = make_trains(seed=7)
    got = autocorrelograms(trains, window_ms=window_ms, bin_ms=bin_ms, sampling_frequency=fs)
    for i, t in enumerate(trains):
        np.testing.assert_array_equal(got[i], brute_force(t, t, True, window_ms, bin_ms, fs))
    cross = cross_correlograms(trains, window_ms=window_ms, bin_ms=bin_ms, sampling_frequency=fs)
    np.testing.assert_array_equal(got, cross[np.arange(len(trains)), np.arange(len(trains))])


def test_lags_exactly_on_bin_edges_go_to_the_bin_on_their_right():
    # 1 ms bins at 30 kHz are 30 frames and the window is [-750, 750) frames
    a = np.array([1000])
    b = np.array([1000 - 750, 1000 - 30, 1000 - 1, 1000, 1000 + 29, 1000 + 30, 1000 + 749, 1000 + 750])
    got = cross_correlogram(a, b, window_ms=50, bin_ms=1, sampling_frequency=30000)
    expected = np.zeros(50, dtype=np.int64)
    for k in (0, 24, 24, 25, 25, 26, 49):
        expected[k] += 1
    np.testing.assert_array_equal(got, expected)
    # 0.1 ms at 30 kHz is 3 frames; the float product 0.1 * 30000 / 1000 is not exactly 3
    got = cross_correlogram(np.array([100]), np.array([97, 98, 100, 103]), window_ms=1, bin_ms=0.1,
                            sampling_frequency=30000)
    # lags -3 and -2 -> bin 4 (frames [-3, 0)), 0 -> bin 5, 3 -> bin 6 (3 is an edge: the right bin)
    assert got.tolist() == [0, 0, 0, 0, 2, 1, 1, 0, 0, 0]


def test_a_merge_group_is_the_sum_of_its_parts(kernel_mode):
    trains = make_trains(seed=3, n_units=3)
    union = np.sort(np.concatenate(trains[:2]))
    kw = dict(window_ms=20, bin_ms=0.5, sampling_frequency=30000)
    whole = cross_correlograms([union, trains[2]], **kw)
    parts = cross_correlograms(trains[:3], **kw)
    np.testing.assert_array_equal(whole[0, 0], parts[:2, :2].sum(axis=(0, 1)))
    np.testing.assert_array_equal(whole[0, 1], parts[:2, 2].sum(axis=0))
    np.testing.assert_array_equal(whole[1, 0], parts[2, :2].sum(axis=0))
    np.testing.assert_array_equal(autocorrelograms([union], **kw)[0], whole[0, 0])


def test_repeated_parallel_runs_are_identical(kernel_mode):
    rng = np.random.default_rng(11)
    trains = [np.sort(rng.integers(0, 300_000, rng.integers(0, 3000))) for _ in range(40)]
    kw = dict(window_ms=100, bin_ms=1, sampling_frequency=30000)
    first = cross_correlograms(trains, **kw)
    for _ in range(3):
        np.testing.assert_array_equal(cross_correlograms(trains, **kw), first)
        np.testing.assert_array_equal(autocorrelograms(trains, **kw), first[np.arange(40), np.arange(40)])
    assert first.sum() > 100_000


def test_empty_inputs():
    kw = dict(window_ms=10, bin_ms=1, sampling_frequency=30000)
    assert cross_correlograms([], **kw).shape == (0, 0, 10)
    assert autocorrelograms([np.zeros(0, int)], **kw).tolist() == [[0] * 10]
    assert cross_correlogram(np.zeros(0, int), np.array([5]), **kw).sum() == 0


def test_bins_and_edges():
    bins = correlogram_bins(50, 1, 30000)
    assert (bins.n_bins, bins.lag_min, bins.lag_max) == (50, -750, 749)
    np.testing.assert_allclose(bins.bin_edges_sec, np.linspace(-0.025, 0.025, 51))
    odd = correlogram_bins(0.5, 0.1, 30000)
    assert (odd.n_bins, odd.lag_min, odd.lag_max) == (5, -7, 7)


@pytest.mark.parametrize("window_ms,bin_ms,match", [
    (50, 3, "whole multiple"), (10, 0, "positive"), (-10, 1, "positive"), (float("nan"), 1, "finite"),
])
def test_bad_window_or_bin_is_a_clear_error(window_ms, bin_ms, match):
    with pytest.raises(TaskInputError, match=match):
        autocorrelograms([np.array([1, 2])], window_ms=window_ms, bin_ms=bin_ms, sampling_frequency=30000)


def test_unsorted_or_non_integer_trains_are_refused():
    kw = dict(window_ms=10, bin_ms=1, sampling_frequency=30000)
    with pytest.raises(TaskInputError, match="not sorted"):
        autocorrelograms([np.array([5, 3])], **kw)
    with pytest.raises(TaskInputError, match="integer frames"):
        cross_correlograms([np.array([0.5, 3.0])], **kw)


@pytest.mark.parametrize("method", ["numpy", "numba"])
def test_agrees_with_spikeinterface_where_definitions_agree(method):
    """spikeinterface rounds the window and bin to whole frames and its [i, j] counts t_i - t_j, i.e. our
    [j, i]; with whole-frame bins and half window (here 1 ms = 30 frames, 25 ms = 750) the counts agree."""
    from spikeinterface.core import generate_sorting
    from spikeinterface.postprocessing import compute_correlograms

    sorting = generate_sorting(num_units=8, durations=[20.0], firing_rates=30.0, sampling_frequency=30000.0,
                               seed=5)
    theirs, _ = compute_correlograms(sorting, window_ms=50.0, bin_ms=1.0, method=method)
    trains = [np.asarray(sorting.get_unit_spike_train(u)) for u in sorting.unit_ids]
    ours = cross_correlograms(trains, window_ms=50, bin_ms=1, sampling_frequency=30000)
    np.testing.assert_array_equal(ours, theirs.transpose(1, 0, 2))


def test_spikes_bunched_in_time_and_far_apart():
    # one spike at frame 0 and the rest packed 10**9 frames later: the merge falls back to a full sort
    rng = np.random.default_rng(2)
    late = [np.sort(10**9 + rng.integers(0, 3000, 2000)) for _ in range(3)]
    trains = [np.concatenate([[0], late[0]]), late[1], late[2]]
    got = cross_correlograms(trains, window_ms=10, bin_ms=1, sampling_frequency=30000)
    for i in range(3):
        for j in range(3):
            np.testing.assert_array_equal(got[i, j], brute_force(trains[i], trains[j], i == j, 10, 1, 30000))


def test_kernels_use_the_configured_threads_and_restore_the_callers_setting(monkeypatch):
    import numba

    seen = []
    real = kernels._cross_kernel

    class Spy:
        def __call__(self, *args):
            seen.append(numba.get_num_threads())
            return real(*args)

    monkeypatch.setattr(kernels, "SERIAL_BELOW_SPIKES", 0)
    monkeypatch.setattr(kernels, "_cross_kernel", Spy())
    numba.set_num_threads(1)  # as spikeinterface's numba functions leave it
    try:
        trains = make_trains(seed=1)
        cross_correlograms(trains, window_ms=10, bin_ms=1, sampling_frequency=30000)
        assert seen == [numba.config.NUMBA_NUM_THREADS] and numba.get_num_threads() == 1
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
