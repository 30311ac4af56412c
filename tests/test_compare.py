"""compare_sortings: a sorting against its ground truth (matching by spikeinterface.comparison)."""
from __future__ import annotations

import numpy as np
import pytest

import sortingview as sv
from sortingview.errors import TaskInputError
from sortingview.extractors import store_sorting
from tests.datasets import make_dataset


@pytest.fixture
def ds(store_dir, tmp_path):
    return make_dataset(tmp_path, seed=8, num_channels=4, durations=10.0, num_units=5)


def _degraded(ds, tmp_path):
    """Unit 0 loses half its spikes, unit 1 gains 50% false spikes, unit 2 is dropped, units renamed."""
    from spikeinterface.core import NpzSortingExtractor, NumpySorting

    rng = np.random.default_rng(0)
    u = ds.unit_ids
    trains = {}
    for i, unit in enumerate(u):
        t = ds.spike_train(unit)
        if i == 0:
            t = t[::2]
        if i == 1:
            t = np.sort(np.concatenate([t, rng.integers(0, ds.num_frames[0], len(t) // 2)]))
        if i != 2:
            trains[f"s{i}"] = t
    sorting = NumpySorting.from_unit_dict([trains], sampling_frequency=ds.sampling_frequency)
    path = str(tmp_path / "degraded.npz")
    NpzSortingExtractor.write_sorting(sorting, path)
    return store_sorting(NpzSortingExtractor(path))


def test_compare_with_ground_truth(ds, tmp_path):
    tested = _degraded(ds, tmp_path)
    result = sv.run_task("sortingview.compare_sortings.1", {"sorting": tested, "groundTruthSorting": ds.sorting_uri},
                         inline=True)
    rows = {r["unitId"]: r for r in result["groundTruthUnits"]}
    u = ds.unit_ids
    assert list(rows) == u
    assert rows[u[0]]["bestMatch"] == "s0" and rows[u[0]]["recall"] == pytest.approx(0.5, abs=0.01)
    assert rows[u[0]]["precision"] == pytest.approx(1.0)
    assert rows[u[1]]["bestMatch"] == "s1" and rows[u[1]]["recall"] == pytest.approx(1.0)
    assert rows[u[1]]["precision"] == pytest.approx(2 / 3, abs=0.02)
    assert rows[u[2]]["bestMatch"] is None and rows[u[2]]["accuracy"] == 0
    for i in (3, 4):
        assert rows[u[i]]["bestMatch"] == f"s{i}" and rows[u[i]]["accuracy"] == pytest.approx(1.0)
    assert rows[u[0]]["numSpikes"] == ds.spike_counts[u[0]]


def test_sortings_of_different_recordings_are_refused(ds, store_dir, tmp_path):
    other = make_dataset(tmp_path / "other", seed=9, num_channels=4, durations=3.0, num_units=2,
                         sampling_frequency=20000.0)
    with pytest.raises(TaskInputError, match="must come from the same recording"):
        sv.run_task("sortingview.compare_sortings.1", {"sorting": other.sorting_uri,
                                                      "groundTruthSorting": ds.sorting_uri}, inline=True)
