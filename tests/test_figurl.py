"""figURLs: W.spikesortingview stores the figure data in the store and returns the viewer's link."""
from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest
from datasets import make_dataset

from sortingview import store
from sortingview.errors import WorkspaceError


@pytest.fixture
def ws(store_dir, tmp_path):
    from sortingview.workspace import create_workspace

    ds = make_dataset(tmp_path, seed=3, num_channels=4, durations=2.0, num_units=3)
    W = create_workspace(label="figurl test")
    rid = W.add_recording(label="rec", recording=ds.recording)
    sid = W.add_sorting(recording_id=rid, label="srt", sorting=ds.sorting)
    return W, rid, sid, ds


def parts(url: str):
    u = urlparse(url)
    return u, {k: v[0] for k, v in parse_qs(u.query).items()}


def test_link_points_at_the_local_server_and_names_stored_figure_data(ws, monkeypatch):
    monkeypatch.delenv("SORTINGVIEW_URL", raising=False)
    W, rid, sid, ds = ws
    url = W.spikesortingview(recording_id=rid, sorting_id=sid, label="my view")
    u, q = parts(url)
    assert f"{u.scheme}://{u.netloc}{u.path}" == "http://127.0.0.1:15310/f"
    assert q["v"] == "spikesortingview-1" and q["label"] == "my view"
    assert url.startswith("http://127.0.0.1:15310/f?v=spikesortingview-1&d=sha1://")
    data = store.load_json(q["d"])
    assert data["type"] == "spikesortingview" and data["version"] == 1
    assert data["workspaceUri"] == W.uri and data["sortingId"] == sid and data["recordingId"] == rid
    assert data["sortingUri"] == W.get_sorting_record(sid)["sortingUri"]
    assert data["recordingUri"] == W.get_recording_record(rid)["recordingUri"]
    assert data["curationFeedUri"] == W.get_curation_feed_uri(sid)
    assert data["unitIds"] == ds.unit_ids
    assert data["labelChoices"] == W.get_label_choices(sid)
    assert data["samplingFrequency"] == ds.sampling_frequency
    # the same view gives the same link (content-addressed figure data)
    assert W.spikesortingview(recording_id=rid, sorting_id=sid, label="my view") == url


def test_base_url_from_environment_channel_and_view_state(ws, monkeypatch):
    W, rid, sid, ds = ws
    monkeypatch.setenv("SORTINGVIEW_URL", "http://lab-server:8080/")
    url = W.spikesortingview(recording_id=rid, sorting_id=sid, label="shared", channel="lab-a",
                             selected_unit_ids=ds.unit_ids[:2], view="waveforms")
    u, q = parts(url)
    assert u.netloc == "lab-server:8080" and u.path == "/f"
    assert q["channel"] == "lab-a"
    assert json.loads(q["s"]) == {"units": ds.unit_ids[:2], "view": "waveforms"}


@pytest.mark.parametrize("view", ["crosscorrelograms", "amplitudes", "traces", "features"])
def test_links_can_open_every_viewer_tab(ws, view):
    W, rid, sid, ds = ws
    url = W.spikesortingview(recording_id=rid, sorting_id=sid, label="tab", selected_unit_ids=ds.unit_ids[:2],
                             view=view)
    _, q = parts(url)
    assert json.loads(q["s"]) == {"units": ds.unit_ids[:2], "view": view}


def test_external_metrics_are_in_the_figure_data(ws):
    W, rid, sid, ds = ws
    metric = {"name": "isolation", "label": "Isolation", "tooltip": "from my pipeline",
              "data": {str(u): 0.5 + i for i, u in enumerate(ds.unit_ids)}}
    W.set_unit_metrics_for_sorting(sid, [metric])
    _, q = parts(W.spikesortingview(recording_id=rid, sorting_id=sid, label="m"))
    assert store.load_json(q["d"])["externalUnitMetrics"][0]["data"] == metric["data"]


@pytest.mark.parametrize("kwargs,message", [
    ({"label": ""}, "label must be a non-empty string"),
    ({"sorting_id": "S-nope"}, "S-nope"),
    ({"recording_id": "R-other"}, "belongs to recording"),
    ({"view": "rasters"}, "view 'rasters'"),
    ({"channel": "../x"}, "not a channel name"),
])
def test_bad_arguments_are_clear_errors(ws, kwargs, message):
    W, rid, sid, _ = ws
    args = {"recording_id": rid, "sorting_id": sid, "label": "x", **kwargs}
    with pytest.raises(WorkspaceError, match=message.replace("(", r"\(")):
        W.spikesortingview(**args)


def test_bad_base_url_is_a_clear_error(ws, monkeypatch):
    W, rid, sid, _ = ws
    monkeypatch.setenv("SORTINGVIEW_URL", "lab-server:15310")
    with pytest.raises(WorkspaceError, match="must start with http"):
        W.spikesortingview(recording_id=rid, sorting_id=sid, label="x")
