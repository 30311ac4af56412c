"""GroupedNpzSorting answers exactly as spikeinterface's NpzSortingExtractor on the same file, faster."""
from __future__ import annotations

import numpy as np
import pytest
from spikeinterface.core import NpzSortingExtractor

import sortingview as sv
from sortingview.errors import InvalidObjectError
from sortingview.extractors import load_sorting, store_sorting
from sortingview.extractors.npz_grouped import GroupedNpzSorting
from sortingview.tasks._objects import resolve_units, unit_spike_train

FS = 30000.0


def write_npz(path, segments, unit_ids, *, time_order=True):
    """An .npz in spikeinterface's layout; ``segments`` is a list of (frames, labels)."""
    arrays = {"unit_ids": np.asarray(unit_ids), "num_segment": np.array([len(segments)], dtype=np.int64),
              "sampling_frequency": np.array([FS])}
    for i, (frames, labels) in enumerate(segments):
        order = np.argsort(frames, kind="stable") if time_order else np.arange(len(frames))
        arrays[f"spike_indexes_seg{i}"] = np.asarray(frames)[order]
        arrays[f"spike_labels_seg{i}"] = np.asarray(labels)[order]
    np.savez(path, **arrays)
    return str(path)


def random_segment(rng, unit_ids, num_spikes, extra_labels=()):
    labels = rng.choice(np.concatenate([np.asarray(unit_ids)[:-1], np.asarray(extra_labels, dtype=np.asarray(
        unit_ids).dtype)]), size=num_spikes)  # the last unit stays empty
    return rng.integers(0, 10 * int(FS), size=num_spikes), labels


CASES = {
    "compact int ids, two segments, labels of no unit": (np.arange(40) - 3, 2, (-9, 77, 10**12), True),
    "sparse int ids, labels of no unit": (np.arange(40) * 1000 + 7, 1, (5, 123456), True),
    "string ids": (np.array([f"u{i}" for i in range(30)]), 2, ("noise",), True),
    "frames not in time order": (np.arange(25)[::-1].copy(), 2, (), False),
}


@pytest.fixture(params=list(CASES))
def pair(request, tmp_path):
    unit_ids, num_segments, extra, time_order = CASES[request.param]
    rng = np.random.default_rng(len(request.param))
    segments = [random_segment(rng, unit_ids, 5000 + 1000 * s, extra) for s in range(num_segments)]
    path = write_npz(tmp_path / "s.npz", segments, unit_ids, time_order=time_order)
    return GroupedNpzSorting(path), NpzSortingExtractor(path)


def test_every_unit_train_equals_spikeinterfaces(pair):
    ours, theirs = pair
    assert list(ours.unit_ids) == list(theirs.unit_ids) and ours.get_num_segments() == theirs.get_num_segments()
    for seg in range(ours.get_num_segments()):
        for unit_id in theirs.unit_ids:
            expected = theirs.get_unit_spike_train(unit_id, segment_index=seg)
            np.testing.assert_array_equal(ours.get_unit_spike_train(unit_id, segment_index=seg), expected)
            uncached = np.sort(theirs.segments[seg].get_unit_spike_train(unit_id, None, None))
            np.testing.assert_array_equal(ours.get_unit_spike_train(unit_id, segment_index=seg), uncached)
            window = dict(segment_index=seg, start_frame=int(FS), end_frame=5 * int(FS))
            np.testing.assert_array_equal(ours.get_unit_spike_train(unit_id, **window),
                                          theirs.get_unit_spike_train(unit_id, **window))
    assert ours.get_unit_spike_train(theirs.unit_ids[-1], segment_index=0).size == 0  # the empty unit
    np.testing.assert_array_equal(ours.get_unit_spike_train(theirs.unit_ids[0], segment_index=0, return_times=True),
                                  theirs.get_unit_spike_train(theirs.unit_ids[0], segment_index=0, return_times=True))
    with pytest.raises(ValueError, match="not in list"):  # as spikeinterface says
        ours.get_unit_spike_train("no such unit", segment_index=0)


def test_counts_and_spike_vector_equal_spikeinterfaces(pair):
    ours, theirs = pair
    np.testing.assert_array_equal(ours.count_num_spikes_per_unit(outputs="array"),
                                  theirs.count_num_spikes_per_unit(outputs="array"))
    assert ours.count_num_spikes_per_unit() == theirs.count_num_spikes_per_unit()
    ours_vector, theirs_vector = ours.to_spike_vector(), theirs.to_spike_vector()
    for name in ("sample_index", "unit_index", "segment_index"):
        np.testing.assert_array_equal(ours_vector[name], theirs_vector[name])


def test_trains_handed_out_are_the_callers_to_change(pair):
    ours, _ = pair
    unit_id = ours.unit_ids[0]
    train = ours.get_unit_spike_train(unit_id, segment_index=0)
    before = train.copy()
    train[:] = -1
    np.testing.assert_array_equal(ours.get_unit_spike_train(unit_id, segment_index=0), before)


def test_unit_codes_of_extreme_labels_are_no_unit():
    from sortingview.extractors.npz_grouped import unit_codes

    info = np.iinfo(np.int64)
    labels = np.array([info.min, -2, -1, 0, 4, 5, info.max, 2], dtype=np.int64)
    assert unit_codes(labels, np.array([4, -1, 0, 2])).tolist() == [4, 4, 1, 2, 0, 4, 4, 3]
    assert unit_codes(labels, np.array([4, -1, 0, 2]) * 10**9).tolist() == [4, 4, 4, 2, 4, 4, 4, 4]


def test_int_labels_against_string_ids_match_no_unit(tmp_path):
    path = write_npz(tmp_path / "s.npz", [(np.array([1, 2, 3]), np.array([0, 1, 0]))], np.array(["0", "1"]))
    ours, theirs = GroupedNpzSorting(path), NpzSortingExtractor(path)
    for unit_id in ("0", "1"):
        np.testing.assert_array_equal(ours.get_unit_spike_train(unit_id), theirs.get_unit_spike_train(unit_id))
    assert ours.count_num_spikes_per_unit(outputs="array").tolist() == [0, 0]


def test_stored_sorting_loads_grouped_and_merge_groups_are_unions(store_dir, tmp_path):
    rng = np.random.default_rng(5)
    unit_ids = np.arange(12)
    path = write_npz(tmp_path / "s.npz", [random_segment(rng, unit_ids, 4000) for _ in range(2)], unit_ids)
    uri = store_sorting(NpzSortingExtractor(path))
    ours, theirs = load_sorting(uri), NpzSortingExtractor(path)
    assert isinstance(ours, GroupedNpzSorting)
    units = resolve_units(ours, [0, "3", [1, 2, 2], ["4", 5]])
    for seg in range(2):
        for unit in units:
            members = [int(u) for u in (unit if isinstance(unit, list) else [unit])]
            expected = np.sort(np.concatenate([theirs.get_unit_spike_train(m, segment_index=seg)
                                               for m in dict.fromkeys(members)]))
            np.testing.assert_array_equal(unit_spike_train(ours, unit, segment_index=seg), expected)
    info = sv.run_task("sortingview.sorting_info.1", {"sorting": uri}, inline=True)
    np.testing.assert_array_equal(info["numSpikesPerUnit"], theirs.count_num_spikes_per_unit(outputs="array"))
    assert info["numSpikes"] == 8000 and info["numSegments"] == 2


def test_unknown_unit_is_a_clear_task_error(store_dir, tmp_path):
    from sortingview.errors import TaskInputError

    path = write_npz(tmp_path / "s.npz", [(np.array([1, 2]), np.array([0, 1]))], np.array([0, 1]))
    sorting = load_sorting(store_sorting(NpzSortingExtractor(path)))
    with pytest.raises(TaskInputError, match="unit 9 is not in the sorting"):
        resolve_units(sorting, [0, 9])
    with pytest.raises(TaskInputError, match="is not in the sorting"):
        resolve_units(sorting, [{"a": 1}])


@pytest.mark.parametrize("arrays, problem", [
    ({"spike_labels_seg0": np.array([0])}, "one length"),
    ({"unit_ids": np.array([0, 0])}, "unit ids repeat"),
])
def test_malformed_npz_is_an_invalid_object(store_dir, tmp_path, arrays, problem):
    from sortingview.extractors import npz

    good = write_npz(tmp_path / "good.npz", [(np.array([1, 2]), np.array([0, 1]))], np.array([0, 1]))
    data = dict(np.load(good))
    data.update(arrays)
    np.savez(tmp_path / "bad.npz", **data)
    from sortingview import store

    uri = store.store_file(str(tmp_path / "bad.npz"), label="sorting.npz")
    with pytest.raises(InvalidObjectError, match=problem):
        npz.sorting_from_data({"npzUri": uri})


@pytest.mark.parametrize("ids, labels", [
    (["0", "1", "17", "499"], ["17", "0", "2", "499", "1", "", "49", "4990"]),  # short ASCII: packed as numbers
    (["a", "bb"], ["bb", "a", "b", "abc", "bb\x00"]),  # ids narrower than the labels
    (["é", "e"], ["e", "é", "x"]),  # not ASCII: compared as text
    (["longer-than-7", "x"], ["x", "longer-than-7", "longer-than-"]),  # too wide to pack
])
def test_unit_codes_of_text_labels_match_comparing_the_texts(ids, labels):
    from sortingview.extractors.npz_grouped import unit_codes

    ids, labels = np.array(ids), np.array(labels)
    expected = [next((i for i, u in enumerate(ids) if u == x), len(ids)) for x in labels]
    assert unit_codes(labels, ids).tolist() == expected
