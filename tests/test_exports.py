"""The curated sorting and curation exports/imports (spikeinterface v2 applied by spikeinterface, phy, sortingview)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from datasets import make_dataset

from sortingview.errors import CurationError
from sortingview.workspace import create_workspace


@pytest.fixture
def curated(store_dir, tmp_path):
    d = make_dataset(tmp_path, seed=6, num_channels=4, durations=[1.0, 0.5], num_units=6)
    W = create_workspace(label="exports")
    rid = W.add_recording(label="r", recording=d.recording)
    sid = W.add_sorting(recording_id=rid, label="s", sorting=d.sorting)
    W.sorting_curation_add_label(sid, label="accept", unit_ids=["0", "4"])
    W.sorting_curation_add_label(sid, label="mua", unit_ids="3")
    W.sorting_curation_add_label(sid, label="noise", unit_ids="5")
    W.sorting_curation_merge_units(sid, ["3", "1"])
    W.sorting_curation_merge_units(sid, ["1", "2"])
    return W, sid, d


def _union(d, units, seg):
    return np.sort(np.concatenate([d.spike_train(u, seg) for u in units]))


def test_curated_sorting_merges_to_smallest_id_and_keeps_labels(curated):
    W, sid, d = curated
    cs = W.get_curated_sorting_extractor(sid)
    assert [str(u) for u in cs.unit_ids] == ["0", "1", "4", "5"]
    for seg in range(2):
        np.testing.assert_array_equal(cs.get_unit_spike_train("1", segment_index=seg), _union(d, ["1", "2", "3"], seg))
        np.testing.assert_array_equal(cs.get_unit_spike_train("4", segment_index=seg), d.spike_train("4", seg))
    assert list(cs.get_property("labels")) == ["accept", "mua", "accept", "noise"]
    assert list(cs.get_property("accept")) == [True, False, True, False]
    assert list(cs.get_property("merged_unit_ids")) == ["0", "1,2,3", "4", "5"]


def test_spikeinterface_export_applies_in_spikeinterface(curated, tmp_path):
    from spikeinterface.curation import apply_curation, validate_curation_dict

    W, sid, d = curated
    path = W.export_sorting_curation(sid, tmp_path / "curation.json", format="spikeinterface")
    with open(path) as f:
        cur = json.load(f)
    validate_curation_dict(cur)
    applied = apply_curation(d.sorting, cur)
    ours = W.get_curated_sorting_extractor(sid)
    assert sorted(str(u) for u in applied.unit_ids) == sorted(str(u) for u in ours.unit_ids)
    for u in ours.unit_ids:
        for seg in range(2):
            np.testing.assert_array_equal(np.sort(applied.get_unit_spike_train(u, segment_index=seg)),
                                          ours.get_unit_spike_train(u, segment_index=seg))
    assert bool(applied.get_unit_property("0", "accept")) and bool(applied.get_unit_property("5", "noise"))


def test_phy_export_writes_cluster_group_tsv(curated, tmp_path):
    W, sid, _ = curated
    path = W.export_sorting_curation(sid, tmp_path, format="phy")
    assert path.endswith("cluster_group.tsv")
    with open(path) as f:
        lines = f.read().splitlines()
    assert lines == ["cluster_id\tgroup", "0\tgood", "1\tmua", "4\tgood", "5\tnoise"]


def test_sortingview_export_import_round_trip(curated, tmp_path):
    W, sid, d = curated
    W.close_sorting_curation(sid)
    path = W.export_sorting_curation(sid, tmp_path / "sv.json", format="sortingview")
    with open(path) as f:
        exported = json.load(f)
    assert exported["mergeGroups"] == [["1", "2", "3"]] and exported["isClosed"] is True
    assert exported["labelChoices"] == ["accept", "reject", "noise", "artifact", "mua"]
    other = W.add_sorting(recording_id=W.recording_ids[0], label="copy", sorting=d.sorting)
    W.import_sorting_curation(other, path, format="sortingview")
    assert W.get_sorting_curation(other) == W.get_sorting_curation(sid)
    assert W.get_sorting_curation_history(other)[0]["action"]["importFormat"] == "sortingview"


def test_spikeinterface_import(curated, tmp_path):
    W, sid, d = curated
    path = W.export_sorting_curation(sid, tmp_path / "si.json", format="spikeinterface")
    other = W.add_sorting(recording_id=W.recording_ids[0], label="copy", sorting=d.sorting)
    W.import_sorting_curation(other, path, format="spikeinterface")
    assert W.get_sorting_curation(other) == W.get_sorting_curation(sid)
    foreign = {"format_version": "2", "unit_ids": d.unit_ids,
               "label_definitions": {"q": {"label_options": ["good", "bad"], "exclusive": True}},
               "manual_labels": [{"unit_id": "2", "labels": {"q": ["good"]}}], "merges": [["0", "5"]]}
    W.import_sorting_curation(other, foreign, format="spikeinterface")
    assert W.get_sorting_curation(other) == {"labelsByUnit": {"2": ["good"]}, "mergeGroups": [["0", "5"]],
                                             "isClosed": False}
    assert W.get_label_choices(other) == ["good", "bad"]


def test_bad_imports_and_formats_are_refused_without_changes(curated, tmp_path):
    W, sid, d = curated
    before = W.get_sorting_curation(sid)
    with pytest.raises(CurationError, match="splits or removes"):
        W.import_sorting_curation(sid, {"format_version": "2", "unit_ids": d.unit_ids, "removed": ["1"]},
                                  format="spikeinterface")
    with pytest.raises(CurationError, match="not a valid SpikeInterface curation"):
        W.import_sorting_curation(sid, {"format_version": "2", "unit_ids": d.unit_ids, "merges": [["0", "77"]]},
                                  format="spikeinterface")
    with pytest.raises(CurationError, match="unit '77' is not in the sorting"):
        W.import_sorting_curation(sid, {"labelsByUnit": {"77": ["accept"]}, "mergeGroups": []})
    with pytest.raises(CurationError, match="not label choices"):
        W.import_sorting_curation(sid, {"labelsByUnit": {"0": ["superb"]}, "mergeGroups": []})
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(CurationError, match="not JSON"):
        W.import_sorting_curation(sid, tmp_path / "broken.json")
    with pytest.raises(CurationError, match="unknown curation format 'kilosort'"):
        W.export_sorting_curation(sid, tmp_path / "x", format="kilosort")
    assert W.get_sorting_curation(sid) == before


def test_integer_unit_ids_order_numerically_and_export(store_dir, tmp_path):
    from spikeinterface.core import NumpySorting
    from spikeinterface.curation import apply_curation

    import sortingview as sv

    d = make_dataset(tmp_path, seed=9, num_channels=4, durations=1.0, num_units=2)
    trains = {2: np.array([10, 500]), 10: np.array([20, 30]), 11: np.array([40])}
    sorting = sv.copy_sorting_extractor(NumpySorting.from_unit_dict(trains, d.sampling_frequency))
    W = create_workspace(label="ints")
    sid = W.add_sorting(recording_id=W.add_recording(label="r", recording=d.recording), label="s", sorting=sorting)
    W.sorting_curation_merge_units(sid, [10, "2"])
    W.sorting_curation_add_label(sid, label="reject", unit_ids=11)
    assert W.get_sorting_curation(sid) == {"labelsByUnit": {11: ["reject"]}, "mergeGroups": [[2, 10]],
                                           "isClosed": False}
    cs = W.get_curated_sorting_extractor(sid)
    assert list(cs.unit_ids) == [2, 11]
    np.testing.assert_array_equal(cs.get_unit_spike_train(2), [10, 20, 30, 500])
    path = W.export_sorting_curation(sid, tmp_path / "si.json", format="spikeinterface")
    with open(path) as f:
        applied = apply_curation(sorting, json.load(f))
    assert sorted(applied.unit_ids) == [2, 11]
    np.testing.assert_array_equal(np.sort(applied.get_unit_spike_train(2)), [10, 20, 30, 500])
    with open(W.export_sorting_curation(sid, tmp_path, format="phy")) as f:
        assert f.read().splitlines()[1:] == ["2\tunsorted", "11\tnoise"]
