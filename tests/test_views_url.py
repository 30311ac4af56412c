"""view.url() / url_dict(): the figure stored in the local store, deterministic links, state, float64 refusal."""
from __future__ import annotations

import json
from urllib.parse import parse_qs, unquote, urlparse

import numpy as np
import pytest

import sortingview.views as vv
from sortingview import store
from sortingview.errors import SerializationError
from sortingview.serialize import decode_value


def _autocorrelograms(dtype=np.float32):
    edges = np.linspace(-0.025, 0.025, 51).astype(dtype)
    return vv.Autocorrelograms([vv.AutocorrelogramItem(unit_id=u, bin_edges_sec=edges,
                                                       bin_counts=np.arange(50, dtype=np.int32) * u)
                                for u in (1, 2)])


def _root(url: str) -> dict:
    query = parse_qs(urlparse(url).query)
    return store.load_json(query["d"][0])


def test_url_links_to_our_server_with_the_views_viewer(store_dir, monkeypatch):
    monkeypatch.delenv("SORTINGVIEW_URL", raising=False)
    from sortingview.workspace.figurl import default_base_url

    url = _autocorrelograms().url(label="my figure")
    assert url.startswith(f"{default_base_url()}/f?v=sortingview-views-1&d=sha1://")
    query = parse_qs(urlparse(url).query)
    assert query["label"] == ["my figure"] and "s" not in query
    assert (store_dir / "sha1").is_dir()


def test_sortingview_url_changes_the_base(store_dir, monkeypatch):
    monkeypatch.setenv("SORTINGVIEW_URL", "http://lab-server:9000/")
    assert _autocorrelograms().url(label="x").startswith("http://lab-server:9000/f?v=sortingview-views-1&d=sha1://")


def test_a_view_alone_is_wrapped_in_a_horizontal_box(store_dir):
    root = _root(_autocorrelograms().url(label="x"))
    assert root["type"] == "MainLayout"
    assert root["layout"] == {"type": "Box", "direction": "horizontal", "items": [{"type": "View", "viewId": "1"}],
                              "itemProperties": [{}]}
    assert [(v["type"], v["viewId"]) for v in root["views"]] == [("Autocorrelograms", "1")]


def test_view_data_is_stored_with_arrays_encoded(store_dir):
    root = _root(_autocorrelograms().url(label="x"))
    stored = store.load_json(root["views"][0]["dataUri"])
    first = stored["autocorrelograms"][1]["binCounts"]
    assert first["_type"] == "ndarray" and first["dtype"] == "int32" and first["shape"] == [50]
    decoded = decode_value(stored)
    assert decoded["type"] == "Autocorrelograms"
    np.testing.assert_array_equal(decoded["autocorrelograms"][1]["binCounts"], np.arange(50) * 2)
    assert decoded["autocorrelograms"][0]["binEdgesSec"].dtype == np.float32


def test_view_ids_follow_descendant_order(store_dir):
    table, acg, wave, cur = vv.SortingSelection(), _autocorrelograms(), vv.Markdown("w"), vv.SortingCuration2()
    layout = vv.Splitter(vv.LayoutItem(vv.Box([vv.LayoutItem(table), vv.LayoutItem(cur)], direction="vertical")),
                         vv.LayoutItem(vv.TabLayout([vv.TabLayoutItem(label="a", view=acg),
                                                     vv.TabLayoutItem(label="w", view=wave)])),
                         direction="horizontal")
    root = _root(layout.url(label="x"))
    # 0 Splitter, 1 Box, 2 selection, 3 curation, 4 TabLayout, 5 autocorrelograms, 6 markdown
    assert [(v["type"], v["viewId"]) for v in root["views"]] == [
        ("SortingSelection", "2"), ("SortingCuration2", "3"), ("Autocorrelograms", "5"), ("Markdown", "6")]
    assert root["layout"]["items"][0]["items"] == [{"type": "View", "viewId": "2"}, {"type": "View", "viewId": "3"}]
    assert root["layout"]["items"][1]["items"][1] == {"type": "View", "viewId": "6"}


def test_the_same_figure_gives_the_same_link(store_dir):
    def build():
        return vv.Box([vv.LayoutItem(_autocorrelograms()), vv.LayoutItem(vv.Markdown("m"))], direction="vertical")

    state = {"sortingCuration": "sha1://" + "c" * 40, "timeRange": [0, 1]}
    first = build().url(label="same", state=state)
    assert build().url(label="same", state=state) == first
    view = build()
    assert view.url(label="same", state=state) == view.url(label="same", state=state) == first


def test_a_different_figure_gives_a_different_link(store_dir):
    assert _autocorrelograms().url(label="x") != vv.Markdown("m").url(label="x")


def test_state_travels_in_the_link_as_compact_json(store_dir):
    state = {"sortingCuration": "sha1://" + "d" * 40 + "?label=curation.json"}
    url = vv.SortingCuration2().url(label="curate & save", state=state)
    query = parse_qs(urlparse(url).query)
    assert json.loads(query["s"][0]) == state
    assert query["label"] == ["curate & save"]
    raw = urlparse(url).query
    assert "&s=" in raw and "%3F" in raw and unquote(raw.split("&s=")[1]) == json.dumps(state, separators=(",", ":"))


def test_url_dict_has_figurls_keys(store_dir):
    d = vv.Markdown("m").url_dict(label="L", state={"a": 1})
    assert d["type"] == "figurl" and d["label"] == "L" and d["v"] == "sortingview-views-1"
    assert d["d"].startswith("sha1://") and len(d["d"]) == len("sha1://") + 40 and d["state"] == '{"a":1}'
    assert "state" not in vv.Markdown("m").url_dict(label="L")
    assert vv.url_from_url_dict(d, base_url="http://h:1") == f"http://h:1/f?v=sortingview-views-1&d={d['d']}&label=L" \
                                                          "&s=%7B%22a%22%3A1%7D"


def test_float64_arrays_are_refused_unless_allowed(store_dir):
    with pytest.raises(SerializationError, match="dtype float64.*allow_float64=True"):
        _autocorrelograms(np.float64).url(label="x")
    root = _root(_autocorrelograms(np.float64).url(label="x", allow_float64=True))
    stored = decode_value(store.load_json(root["views"][0]["dataUri"]))
    assert stored["autocorrelograms"][0]["binEdgesSec"].dtype == np.float64


def test_numpy_scalars_become_numbers_and_nan_becomes_null(store_dir):
    t = vv.UnitsTable(columns=[vv.UnitsTableColumn("snr", "SNR", "float")],
                      rows=[vv.UnitsTableRow(np.int64(1), {"snr": np.float32(2.5)}),
                            vv.UnitsTableRow(2, {"snr": float("nan")})])
    root = _root(t.url(label="x"))
    rows = store.load_json(root["views"][0]["dataUri"])["rows"]
    assert rows == [{"unitId": 1, "values": {"snr": 2.5}}, {"unitId": 2, "values": {"snr": None}}]


def test_values_a_figure_cannot_hold_are_named(store_dir):
    with pytest.raises(SerializationError, match="type object.*Markdown.source"):
        vv.Markdown(object()).url(label="x")
    with pytest.raises(SerializationError, match="state must be a dict"):
        vv.Markdown("m").url(label="x", state="sortingCuration")
    with pytest.raises(SerializationError, match="label must be a string"):
        vv.Markdown("m").url(label=None)


def test_2022_url_arguments_become_state(store_dir):
    uri = "feed://" + "f" * 40
    url = vv.Markdown("m").url(label="x", sorting_curation_uri=uri, time_range=[1, 2], project_id="lqhzprbdrq",
                               local=True)
    assert json.loads(parse_qs(urlparse(url).query)["s"][0]) == {"sortingCuration": uri, "timeRange": [1, 2]}
    with pytest.raises(TypeError, match="unexpected keyword argument.*colour"):
        vv.Markdown("m").url(label="x", colour="red")


def test_a_view_too_large_for_a_browser_is_refused(store_dir, monkeypatch):
    from sortingview.views import _figure

    monkeypatch.setattr(_figure, "MAX_VIEW_BYTES", 1000)
    big = vv.RasterPlot(start_time_sec=0, end_time_sec=1,
                        plots=[vv.RasterPlotItem(1, np.random.default_rng(0).random(10000).astype(np.float32))])
    with pytest.raises(SerializationError, match=r"view 1 \(RasterPlot\) is too large.*subsample"):
        big.url(label="x")
    assert vv.Markdown("small").url(label="x").startswith("http")


def test_float_arrays_are_stored_plain_and_large_integer_arrays_compressed(store_dir):
    times = np.arange(1000, dtype=np.float32) / 10
    view = vv.Autocorrelograms([vv.AutocorrelogramItem(1, times, np.zeros(1000, dtype=np.int32))])
    item = store.load_json(_root(view.url(label="x"))["views"][0]["dataUri"])["autocorrelograms"][0]
    assert "data_b64" in item["binEdgesSec"] and "data_gzip_b64" in item["binCounts"]
    decoded = decode_value(item)
    np.testing.assert_array_equal(decoded["binEdgesSec"], times)
    np.testing.assert_array_equal(decoded["binCounts"], np.zeros(1000))
