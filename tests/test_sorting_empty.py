"""A sorter that found no units: ground-truth comparison and agreement still answer (every unit unmatched)."""
from __future__ import annotations

import pytest

import sortingview as sv
from sortingview.extractors import store_sorting
from tests.datasets import make_dataset


@pytest.fixture
def ds(store_dir, tmp_path):
    return make_dataset(tmp_path, seed=8, num_channels=4, durations=5.0, num_units=3)


def _empty_sorting(ds, tmp_path) -> str:
    from spikeinterface.core import NpzSortingExtractor, NumpySorting

    path = str(tmp_path / "empty.npz")
    NpzSortingExtractor.write_sorting(NumpySorting.from_unit_dict([{}], sampling_frequency=ds.sampling_frequency),
                                      path)
    empty = NpzSortingExtractor(path)
    assert len(empty.get_unit_ids()) == 0 and empty.get_unit_ids().dtype.kind == "f"  # what spikeinterface rejects
    return store_sorting(empty)


def test_ground_truth_against_a_sorting_without_units(ds, tmp_path):
    empty = _empty_sorting(ds, tmp_path)
    result = sv.run_task("sortingview.compare_sortings.1", {"sorting": empty, "groundTruthSorting": ds.sorting_uri},
                         inline=True)
    rows = result["groundTruthUnits"]
    assert [r["unitId"] for r in rows] == ds.unit_ids
    assert all(r["bestMatch"] is None and r["accuracy"] == 0 and r["recall"] == 0 for r in rows)
    assert [r["numSpikes"] for r in rows] == [ds.spike_counts[u] for u in ds.unit_ids]


def test_agreement_with_a_sorting_without_units(ds, tmp_path):
    empty = _empty_sorting(ds, tmp_path)
    out = sv.run_task("sortingview.sorting_agreement.1", {"sortings": [ds.sorting_uri, empty, ds.sorting_uri]},
                      inline=True)
    assert out["unitIds"][1] == []
    by_pair = {(p["sorting1"], p["sorting2"]): p for p in out["pairs"]}
    assert by_pair[(0, 1)]["matches"] == [] and by_pair[(0, 1)]["onlyIn1"] == ds.unit_ids
    assert [m["unitId1"] for m in by_pair[(0, 2)]["matches"]] == ds.unit_ids  # the same sorting twice: all match
    assert out["foundByOneOnly"] == [[], [], []]
    assert sorted(g["units"][0] for g in out["groups"]) == sorted(ds.unit_ids)
    assert all(g["units"][1] is None and g["numSortings"] == 2 for g in out["groups"])


def test_a_sorter_that_is_not_installed_names_the_ones_that_run_without_a_gpu():
    import spikeinterface.sorters as ss

    from sortingview.errors import TaskInputError
    from sortingview.tasks.sorting import SORTERS, sorter_name

    missing = next(n for n in ("kilosort", "kilosort2", "ironclust", "waveclus")
                   if n in ss.sorter_dict and not ss.sorter_dict[n].is_installed())
    with pytest.raises(TaskInputError, match=f"sorter {missing} is not installed here") as err:
        sorter_name(missing)
    assert all(name in str(err.value) for name in SORTERS)
