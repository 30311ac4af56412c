"""The original sortingview's Workspace names and behaviours, and feeds written in its message shapes."""
from __future__ import annotations

import json
import os
import tempfile
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from datasets import make_dataset

import sortingview as sv
from sortingview import store
from sortingview.errors import CurationError
from sortingview.serialize import sha1_of_bytes, store_json_bytes


@pytest.fixture
def ws(store_dir, tmp_path):
    d = make_dataset(tmp_path, seed=4, num_channels=4, durations=2.0, num_units=4)
    W = sv.create_workspace(label="orig")
    rid = W.add_recording(label="r", recording=d.recording)
    sid = W.add_sorting(recording_id=rid, label="s", sorting=d.sorting)
    return W, rid, sid, d


def int_sorting(fs: float):
    from spikeinterface.core import NumpySorting

    trains = {3: np.array([10, 500, 900]), 7: np.array([20, 30]), 12: np.array([40, 4000])}
    return sv.copy_sorting_extractor(NumpySorting.from_unit_dict(trains, fs))


def test_workspace_is_constructible_from_its_uri_and_has_a_feed_and_a_settable_label(ws):
    W, rid, sid, _ = ws
    W2 = sv.Workspace(W.uri)
    assert W2.feed_id == W.feed_id and W2.recording_ids == [rid] and W2.label == "orig"
    assert W2.feed.uri == W.feed_uri and W2.feed.num_messages >= 2
    W2.set_label("renamed")
    assert W2.uri.endswith("?label=renamed") and sv.load_workspace(W.uri).label == "renamed"
    with pytest.raises(ValueError, match="workspace URI"):
        sv.Workspace("not a uri")


def test_curation_feed_is_an_object_with_a_uri(ws):
    W, _, sid, _ = ws
    assert W.get_curation_feed_for_sorting(sid) is None and W.get_sorting_curation_uri(sid) is None
    feed = W.create_curation_feed_for_sorting(sorting_id=sid)
    assert feed.uri.startswith("feed://") and feed.uri == W.get_sorting_curation_uri(sorting_id=sid)
    assert W.create_curation_feed_for_sorting(sid).uri == feed.uri  # the first one stays
    assert W.get_curation_feed_for_sorting(sid).feed_id == feed.feed_id
    W.sorting_curation_add_label(sorting_id=sid, label="accept", unit_ids=W.get_unit_ids(sid)[0])
    assert feed.get_messages()[0]["action"]["label"] == "accept"


def test_label_lists_add_one_action_each_and_duplicates_are_no_ops(ws):
    W, _, sid, _ = ws
    u0, u1 = W.get_unit_ids(sid)[:2]
    W.sorting_curation_add_label(sorting_id=sid, label=["accept", "mua"], unit_ids=[u0, u1])
    assert [h["action"]["label"] for h in W.get_sorting_curation_history(sid)] == ["accept", "mua"]
    assert W.sorting_curation_add_label(sorting_id=sid, label="accept", unit_ids=u0) is None
    assert W.add_sorting_curation_action(sid, {"type": "ADD_UNIT_LABEL", "unitId": [u0, u1], "label": "mua"}) is None
    assert len(W.get_sorting_curation_history(sid)) == 2
    # a bad label anywhere in the list appends nothing, and the error is a ValueError as scripts expect
    with pytest.raises(ValueError, match="not one of this sorting's label choices"):
        W.sorting_curation_add_label(sorting_id=sid, label=["noise", "bogus"], unit_ids=u0)
    assert len(W.get_sorting_curation_history(sid)) == 2
    assert issubclass(CurationError, ValueError)


def test_add_sorting_curation_action_validates_like_apply_curation_action(ws):
    W, _, sid, _ = ws
    units = W.get_unit_ids(sid)
    for bad, message in [({"type": "NOPE"}, "unknown curation action"),
                         ({"type": "MERGE_UNITS", "unitIds": [units[0]]}, "two or more"),
                         ({"type": "ADD_UNIT_LABEL", "unitId": "zzz", "label": "accept"}, "not in the sorting")]:
        with pytest.raises(ValueError, match=message):
            W.add_sorting_curation_action(sid, bad)
    n = W.add_sorting_curation_action(sid, {"type": "MERGE_UNITS", "unitIds": units[:2]})
    assert n == 0 and W.get_sorting_curation(sid)["mergeGroups"] == [sorted(units[:2])]


def test_labels_by_unit_keys_and_merge_members_have_the_sortings_types(ws):
    W, rid, _, d = ws
    sid = W.add_sorting(recording_id=rid, label="ints", sorting=int_sorting(d.sampling_frequency))
    W.sorting_curation_add_label(sorting_id=sid, label=["accept"], unit_ids=[3, 12])
    W.sorting_curation_merge_units(sorting_id=sid, unit_ids=[7, 12])
    cur = W.get_sorting_curation(sid)
    assert cur == {"labelsByUnit": {3: ["accept"], 12: ["accept"]}, "mergeGroups": [[7, 12]], "isClosed": False}
    assert all(type(k) is int for k in cur["labelsByUnit"]) and all(type(u) is int for u in cur["mergeGroups"][0])
    # string ids stay strings (as the original returned them for a sorting with string ids)
    sid2 = W.sorting_ids[0]
    W.sorting_curation_add_label(sorting_id=sid2, label="noise", unit_ids=W.get_unit_ids(sid2)[0])
    assert list(W.get_sorting_curation(sid2)["labelsByUnit"]) == [W.get_unit_ids(sid2)[0]]
    # the exports still see every label
    assert sorted(json.loads(open(W.export_sorting_curation(sid, str(d.npz_path) + ".json")).read())
                  ["labelsByUnit"]) == ["12", "3"]


def test_spikesortingview_takes_and_records_the_subsample_rates(ws):
    W, rid, sid, d = ws
    url = W.spikesortingview(recording_id=rid, sorting_id=sid, label="v",
                             _raster_plot_subsample_max_firing_rate=50,
                             _spike_amplitudes_subsample_max_firing_rate=2.5)
    data = store.load_json(parse_qs(urlparse(url).query)["d"][0])
    duration = sum(d.num_frames) / d.sampling_frequency
    assert data["rasterPlotSubsampleMaxFiringRate"] == 50 and data["rasterPlotMaxSpikesPerUnit"] == 50 * duration
    assert data["spikeAmplitudesSubsampleMaxFiringRate"] == 2.5
    assert data["spikeAmplitudesMaxSpikesPerUnit"] == int(np.ceil(2.5 * duration))
    assert isinstance(data["curationFeedUri"], str) and data["curationFeedUri"].startswith("feed://")
    plain = store.load_json(parse_qs(urlparse(W.spikesortingview(recording_id=rid, sorting_id=sid, label="v"))
                                     .query)["d"][0])
    assert plain["spikeAmplitudesMaxSpikesPerUnit"] is None
    with pytest.raises(sv.SortingviewError, match="positive number"):
        W.spikesortingview(recording_id=rid, sorting_id=sid, label="v", _raster_plot_subsample_max_firing_rate=-1)


def test_copies_accept_the_upload_arguments_and_version_succeeds_014(store_dir, tmp_path):
    d = make_dataset(tmp_path, seed=5, num_channels=2, durations=0.5, num_units=2)
    R = sv.copy_recording_extractor(recording=d.recording, serialize_dtype="float32", upload_traces=True,
                                    progress=False)
    S = sv.copy_sorting_extractor(sorting=d.sorting, upload_firings=False)
    assert R.get_num_frames() == d.num_frames[0] and list(S.unit_ids) == list(d.sorting.unit_ids)
    major, minor = (int(x) for x in sv.__version__.split(".")[:2])
    assert (major, minor) >= (0, 15)


# --- feeds in the original's shapes --------------------------------------------------------------------------
def original_bin2_object(d) -> dict:
    """The object the original's copy_recording_extractor wrote (bin2: raw float32 file, frames x channels)."""
    traces = d.recording.get_traces(return_in_uV=True).astype("float32")
    uri = store.store_bytes(traces.tobytes(), label="raw.dat")
    ids = [int(c) for c in d.recording.channel_ids]
    locs = d.recording.get_channel_locations()
    return {"recording_format": "bin2", "data": {
        "raw": uri, "dtype": "float32", "raw_num_channels": len(ids), "num_frames": int(traces.shape[0]),
        "samplerate": d.sampling_frequency, "channel_ids": ids,
        "channel_map": {str(c): i for i, c in enumerate(ids)},
        "channel_positions": {str(c): [float(x) for x in locs[i]] for i, c in enumerate(ids)}}}


def original_mda_sorting_object(sorting) -> dict:
    from spikeinterface.extractors.mdaextractors import MdaSortingExtractor

    path = os.path.join(tempfile.mkdtemp(), "firings.mda")
    MdaSortingExtractor.write_sorting(sorting, path)
    return {"sorting_format": "mda", "data": {"firings": store.store_file(path, label="firings.mda"),
                                              "samplerate": sorting.get_sampling_frequency()}}


def test_a_feed_written_in_the_original_shapes_replays(store_dir, tmp_path):
    d = make_dataset(tmp_path, seed=6, num_channels=3, durations=1.0, num_units=3)
    int_ids = d.sorting.rename_units([int(u) for u in range(len(d.sorting.unit_ids))])
    rec_obj, srt_obj = original_bin2_object(d), original_mda_sorting_object(int_ids)
    # the objects' JSON is not in the store (only inline in the feed), as after copying a feed between machines
    rec_path = f"sha1://{sha1_of_bytes(store_json_bytes(rec_obj))}?label=recording1.json"
    curation = store.create_feed()
    metrics = store.store_json([{"name": "m", "label": "M", "tooltip": "t", "data": {"0": 1.5}}])
    feed = store.create_feed()
    feed.append_messages([
        {"action": {"type": "ADD_RECORDING", "recording": {
            "recordingId": "R-1", "recordingLabel": "recording1", "recordingPath": rec_path,
            "recordingObject": rec_obj, "description": "Imported from Python: recording1"}}},
        {"action": {"type": "ADD_SORTING", "sorting": {
            "sortingId": "S-1", "sortingLabel": "true", "sortingPath": "sha1://" + "0" * 40,
            "sortingObject": srt_obj, "recordingId": "R-1", "recordingPath": rec_path, "recordingObject": rec_obj,
            "description": "Imported from Python: true"}}},
        {"action": {"type": "SET_UNIT_METRICS_FOR_SORTING",
                    "unitMetricsForSorting": {"sortingId": "S-1", "metricsUri": metrics}}},
        {"action": {"type": "SET_SNIPPET_LEN", "snippetLen": [20, 40]}},
        {"action": {"type": "SET_CURATION_FEED_FOR_SORTING", "sortingId": "S-1", "curationFeedUri": curation.uri}},
    ])
    curation.append_messages([{"type": "ADD_UNIT_LABEL", "unitId": [0, 2], "label": "accept"},
                              {"type": "MERGE_UNITS", "unitIds": [1, 2]},
                              {"type": "REMOVE_UNIT_LABEL", "unitId": 2, "label": "accept"}])
    store.set_mutable(f"@sortingview/@sortingCurationAuthorizedUsers/{curation.feed_id}", json.dumps(["a@b.org"]))

    W = sv.Workspace(f"sortingview-workspace:{feed.feed_id}?label=old")
    assert W.label == "old" and W.recording_ids == ["R-1"] and W.sorting_ids == ["S-1"] and W.snippet_len == (20, 40)
    assert W.get_recording_record("R-1")["recordingUri"].split("?")[0] == rec_path.split("?")[0]
    R = W.get_recording_extractor("R-1")
    np.testing.assert_allclose(R.get_traces(end_frame=500), d.recording.get_traces(end_frame=500, return_in_uV=True),
                               rtol=1e-6)
    assert W.get_unit_metrics_for_sorting("S-1")[0]["data"] == {"0": 1.5}
    assert W.get_sorting_curation("S-1") == {"labelsByUnit": {0: ["accept"]}, "mergeGroups": [[1, 2]],
                                             "isClosed": False}
    assert W.get_sorting_curation_authorized_users("S-1") == ["a@b.org"]
    assert [h["action"]["type"] for h in W.get_sorting_curation_history("S-1")][0] == "ADD_UNIT_LABEL"
    # tasks load the inline objects through the record's URI, and the workspace keeps working
    info = sv.run_task("sortingview.sorting_info.1", {"sorting": W.get_sorting_record("S-1")["sortingUri"]},
                       inline=True)
    assert sorted(info["unitIds"]) == [0, 1, 2]
    W.sorting_curation_add_label(sorting_id="S-1", label="mua", unit_ids=1)
    assert W.get_sorting_curation("S-1")["labelsByUnit"][1] == ["mua"]


def test_upload_functions_store_locally_and_records_carry_their_objects(ws):
    W, rid, sid, d = ws
    uri = sv.upload_recording_extractor(d.recording, serialize_dtype="float32", label="r.json")
    np.testing.assert_allclose(sv.load_recording_extractor(uri).get_traces(end_frame=100),
                               d.recording.get_traces(end_frame=100))
    suri = sv.upload_sorting_extractor(d.sorting, label="s.json")
    assert list(sv.load_sorting_extractor(suri).unit_ids) == list(d.sorting.unit_ids)
    rec = W.get_recording_record(rid)
    assert rec["recordingObject"] == store.load_json(rec["recordingUri"])
    srt = W.get_sorting_record(sid)
    assert srt["sortingObject"]["format"] == "npz_sorting" and srt["recordingObject"] == rec["recordingObject"]
    assert sv.get_recording_object(W.get_recording_extractor(rid)) == rec["recordingObject"]
