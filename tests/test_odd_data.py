"""Odd data says so: spikes outside the recording are reported when added and dropped (with a count) in exports."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from datasets import make_dataset

import sortingview as sv


def test_spikes_outside_the_recording_warn_at_add_sorting_and_are_dropped_from_the_curated_sorting(store_dir,
                                                                                                      tmp_path):
    from spikeinterface.core import NumpySorting

    ds = make_dataset(tmp_path, seed=2, num_channels=2, durations=0.5, num_units=2)
    n = ds.num_frames[0]
    odd = NumpySorting.from_unit_dict({1: np.array([-5, 10, 20]), 2: np.array([100, n - 1, n, n + 50])},
                                      sampling_frequency=ds.sampling_frequency)
    W = sv.create_workspace(label="odd")
    rid = W.add_recording(label="r", recording=ds.recording)
    with pytest.warns(RuntimeWarning, match=r"'odd': 3 spike\(s\) lie before frame 0 or after"):
        sid = W.add_sorting(recording_id=rid, label="odd", sorting=sv.copy_sorting_extractor(odd))
    with pytest.warns(RuntimeWarning, match=r"3 spike\(s\) lie outside the recording .* dropped"):
        curated = W.get_curated_sorting_extractor(sid)
    assert curated.get_annotation("dropped_out_of_range_spikes") == 3
    assert list(curated.get_unit_spike_train(1)) == [10, 20]
    assert list(curated.get_unit_spike_train(2)) == [100, n - 1]


def test_a_sorting_inside_its_recording_adds_without_a_warning(store_dir, tmp_path):
    ds = make_dataset(tmp_path, seed=2, num_channels=2, durations=0.5, num_units=2)
    W = sv.create_workspace(label="fine")
    rid = W.add_recording(label="r", recording=ds.recording)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sid = W.add_sorting(recording_id=rid, label="fine", sorting=ds.sorting)
        assert W.get_curated_sorting_extractor(sid).get_annotation("dropped_out_of_range_spikes") == 0
