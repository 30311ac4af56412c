"""The correlogram tasks on a stored seeded dataset: fields, merge groups, segments, caching, bad input."""
from __future__ import annotations

import numpy as np
import pytest

import sortingview as sv
from sortingview.errors import TaskInputError
from tests.datasets import make_dataset
from tests.test_correlograms import brute_force


@pytest.fixture
def ds(store_dir, tmp_path):
    return make_dataset(tmp_path, seed=21, num_channels=4, durations=6.0, num_units=5)


def test_autocorrelograms_of_all_units(ds):
    result = sv.run_task("sortingview.autocorrelograms.1", {"sorting": ds.sorting_uri}, inline=True)
    np.testing.assert_allclose(result["binEdgesSec"], np.linspace(-0.025, 0.025, 51))
    assert [a["unitId"] for a in result["autocorrelograms"]] == ds.unit_ids
    for entry in result["autocorrelograms"]:
        train = ds.spike_train(entry["unitId"])
        expected = brute_force(train, train, True, 50, 1, ds.sampling_frequency)
        np.testing.assert_array_equal(entry["binCounts"], expected)
        assert entry["binCounts"].dtype == np.int32


def test_cross_correlograms_of_every_ordered_pair_with_a_merge_group(ds):
    u = ds.unit_ids
    units = [u[0], [u[1], u[2]], u[3]]
    result = sv.run_task("sortingview.cross_correlograms.1",
                         {"sorting": ds.sorting_uri, "unitIds": units, "windowMs": 20, "binMs": 0.5}, inline=True)
    assert len(result["binEdgesSec"]) == 41
    pairs = result["crossCorrelograms"]
    assert [(p["unitId1"], p["unitId2"]) for p in pairs] == [(a, b) for a in units for b in units]
    trains = {str(x): ds.spike_train(x) for x in u}
    group = np.sort(np.concatenate([trains[str(u[1])], trains[str(u[2])]]))
    as_train = {str(u[0]): trains[str(u[0])], str([u[1], u[2]]): group, str(u[3]): trains[str(u[3])]}
    for p in pairs:
        a, b = as_train[str(p["unitId1"])], as_train[str(p["unitId2"])]
        expected = brute_force(a, b, p["unitId1"] == p["unitId2"], 20, 0.5, ds.sampling_frequency)
        np.testing.assert_array_equal(p["binCounts"], expected)
    assert sum(p["binCounts"].sum() for p in pairs) > 0


def test_unit_ids_may_come_back_from_json_as_text_or_numbers(ds):
    unit = ds.unit_ids[0]
    other = int(unit) if isinstance(unit, str) else str(unit)
    by_other = sv.run_task("sortingview.autocorrelograms.1", {"sorting": ds.sorting_uri, "unitIds": [other]},
                           inline=True)
    by_self = sv.run_task("sortingview.autocorrelograms.1", {"sorting": ds.sorting_uri, "unitIds": [unit]},
                          inline=True)
    np.testing.assert_array_equal(by_other["autocorrelograms"][0]["binCounts"],
                                  by_self["autocorrelograms"][0]["binCounts"])


def test_counts_of_segments_are_added(store_dir, tmp_path):
    ds = make_dataset(tmp_path, seed=4, num_channels=4, durations=[3.0, 2.0], num_units=3)
    result = sv.run_task("sortingview.cross_correlograms.1",
                         {"sorting": ds.sorting_uri, "unitIds": ds.unit_ids[:2], "windowMs": 10}, inline=True)
    for p in result["crossCorrelograms"]:
        same = p["unitId1"] == p["unitId2"]
        expected = sum(brute_force(ds.spike_train(p["unitId1"], s), ds.spike_train(p["unitId2"], s), same, 10, 1,
                                   ds.sampling_frequency) for s in range(2))
        # not the correlogram of the concatenated segments: no lag spans two segments
        assert ds.spike_train(p["unitId1"], 1).size > 0
        np.testing.assert_array_equal(p["binCounts"], expected)


@pytest.mark.parametrize("task_input,match", [
    ({"unitIds": ["no-such-unit"]}, "not in the sorting"),
    ({"windowMs": 50, "binMs": 3}, "whole multiple of binMs"),
    ({"windowMs": 0}, "positive"),
    ({"unitIds": [[]]}, "merge group must list at least one"),
])
def test_bad_requests_name_the_problem(ds, task_input, match):
    with pytest.raises(TaskInputError, match=match):
        sv.run_task("sortingview.autocorrelograms.1", {"sorting": ds.sorting_uri, **task_input}, inline=True)


def test_a_unit_listed_twice_in_a_merge_group_counts_once(ds):
    u = ds.unit_ids
    once = sv.run_task("sortingview.autocorrelograms.1", {"sorting": ds.sorting_uri, "unitIds": [[u[0], u[1]]]},
                       inline=True)
    twice = sv.run_task("sortingview.autocorrelograms.1", {"sorting": ds.sorting_uri,
                                                           "unitIds": [[u[0], u[1], str(u[0])]]}, inline=True)
    np.testing.assert_array_equal(once["autocorrelograms"][0]["binCounts"], twice["autocorrelograms"][0]["binCounts"])
