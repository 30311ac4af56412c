"""The import folder and its HTTP API: paths outside are refused, only importers may import, formats load."""
from __future__ import annotations

import os
import urllib.request

import pytest
from test_server_support import http, running_server

from sortingview.errors import WorkspaceError
from sortingview.workspace.importing import detect, list_folder, resolve_inside


def _recording_folder(path):
    from spikeinterface.core import generate_ground_truth_recording

    rec, sorting = generate_ground_truth_recording(durations=[4.0], num_channels=4, num_units=3, seed=3)
    rec.save(folder=str(path), verbose=False)
    return sorting


def test_paths_outside_the_import_folder_are_refused(tmp_path):
    root = tmp_path / "data"
    (root / "sub").mkdir(parents=True)
    (tmp_path / "secret.nwb").write_text("x")
    os.symlink(tmp_path / "secret.nwb", root / "link.nwb")
    os.symlink(root / "sub", root / "inner")
    assert resolve_inside(str(root), "sub") == os.path.realpath(root / "sub")
    assert resolve_inside(str(root), "inner") == os.path.realpath(root / "sub")  # a symlink staying inside is fine
    for bad in ("../secret.nwb", "sub/../../secret.nwb", "link.nwb", str(tmp_path / "secret.nwb")):
        with pytest.raises(WorkspaceError, match="outside|absolute"):
            resolve_inside(str(root), bad)
    names = [e["name"] for e in list_folder(str(root))["entries"]]
    assert "link.nwb" not in names and names[:2] == ["inner", "sub"]


def test_formats_are_detected(tmp_path):
    _recording_folder(tmp_path / "rec")
    (tmp_path / "a.nwb").write_text("")
    (tmp_path / "probe.ap.bin").write_bytes(b"\0" * 16)
    (tmp_path / "probe.ap.meta").write_text("nSavedChans=4\nimSampRate=30000\n")
    (tmp_path / "other.bin").write_bytes(b"")
    assert detect(str(tmp_path / "rec")) == {"kind": "recording", "format": "si_binary_folder"}
    assert detect(str(tmp_path / "a.nwb"))["format"] == "nwb"
    assert detect(str(tmp_path / "probe.ap.bin"))["format"] == "spikeglx"
    assert detect(str(tmp_path / "other.bin")) is None


def test_only_importers_import_and_outside_paths_get_403(store_dir, tmp_path):
    from sortingview.server.auth import UserStore, users_file
    from sortingview.workspace import load_workspace

    root = tmp_path / "data"
    root.mkdir()
    gt = _recording_folder(root / "rec1")
    from spikeinterface.core import NpzSortingExtractor

    NpzSortingExtractor.write_sorting(gt, str(root / "gt.npz"))
    users = UserStore(users_file())
    alice, bob = users.add_user("alice"), users.add_user("bob")
    with running_server(inline=True, import_folder=str(root), importers="alice") as srv:
        u = srv.url
        assert http(f"{u}/api/import/list")[0] == 401
        status, body = http(f"{u}/api/import/list", headers={"Authorization": f"Bearer {bob}"})
        assert status == 403 and "may not import" in body["error"]
        auth = {"Authorization": f"Bearer {alice}"}
        status, listing = http(f"{u}/api/import/list", headers=auth)
        assert status == 200 and {e["name"]: e["importAs"] for e in listing["entries"]}["rec1"]["kind"] == "recording"
        assert http(f"{u}/api/import/list?path=..", headers=auth)[0] == 403
        status, ws = http(f"{u}/api/import/workspace", body={"label": "imported"}, headers=auth)
        assert status == 200
        assert http(f"{u}/api/import/recording", body={"workspaceUri": ws["workspaceUri"], "path": "../data/../.."},
                    headers=auth)[0] == 403
        assert http(f"{u}/api/import/workspace", body={"label": "x"},
                    headers={"Authorization": f"Bearer {bob}"})[0] == 403
        # the server's guards hold here too: another site's page cannot make an importer's browser import
        status, body = http(f"{u}/api/import/workspace", body={"label": "x"},
                            headers={**auth, "Origin": "http://evil.example"})
        assert status == 403 and "another site" in body["error"]
        with urllib.request.urlopen(f"{u}/import") as resp:
            assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
            assert b"<script type=\"module\" src=\"/viewer/js/import.js\">" in resp.read()
        status, r = http(f"{u}/api/import/recording", body={"workspaceUri": ws["workspaceUri"], "path": "rec1"},
                         headers=auth)
        assert status == 200, r
        status, s = http(f"{u}/api/import/sorting", headers=auth, body={
            "workspaceUri": ws["workspaceUri"], "recordingId": r["recordingId"], "path": "gt.npz", "label": "gt"})
        assert status == 200, s
    W = load_workspace(ws["workspaceUri"])
    rec_obj = W.get_recording_record(r["recordingId"])
    from sortingview.store import load_json

    # linked in place: the object's file is the one in the import folder, not a copy
    assert load_json(rec_obj["recordingUri"])["format"] == "binary_recording"
    assert sorted(map(str, W.get_unit_ids(s["sortingId"]))) == sorted(map(str, gt.get_unit_ids()))


def test_a_server_without_an_import_folder_refuses(store_dir):
    with running_server(inline=True) as srv:
        status, body = http(f"{srv.url}/api/import/list")
        assert status == 403 and "--import-folder" in body["error"]
        status, cfg = http(f"{srv.url}/api/import/config")
        assert status == 200 and cfg["enabled"] is False and "simple" in cfg["sorters"]
        status, home = http(f"{srv.url}/")
        assert status == 200 and b'href="/import"' in home


def test_nwb_phy_and_spikeglx_files_import_from_python(store_dir, tmp_path):
    import numpy as np
    from test_extractors_formats import write_nwb

    from sortingview.extractors import load_recording, load_sorting
    from sortingview.workspace import create_workspace
    from sortingview.workspace.importing import import_recording, import_sorting

    rng = np.random.default_rng(11)
    traces = rng.integers(-500, 500, size=(6000, 4), dtype=np.int16)
    spikes = [np.sort(rng.uniform(0, 0.19, size=n)) for n in (12, 30)]
    write_nwb(tmp_path / "s.nwb", traces, 30000.0, spikes)
    phy = tmp_path / "phy"
    phy.mkdir()
    np.save(phy / "spike_times.npy", np.array([10, 200, 300, 4000], dtype=np.int64))
    np.save(phy / "spike_clusters.npy", np.array([0, 1, 0, 1], dtype=np.int32))
    (phy / "params.py").write_text("sample_rate = 30000.0\nn_channels_dat = 4\ndtype = 'int16'\n")
    (phy / "cluster_group.tsv").write_text("cluster_id\tgroup\n0\tgood\n1\tmua\n")
    traces.tofile(tmp_path / "run_g0_t0.imec0.ap.bin")
    (tmp_path / "run_g0_t0.imec0.ap.meta").write_text("~nSavedChans=4\nimSampRate=30000\n")

    W = create_workspace(label="formats")
    rid = import_recording(W, str(tmp_path / "s.nwb"))
    sid = import_sorting(W, rid, str(tmp_path / "s.nwb"), "nwb units")
    phy_sid = import_sorting(W, rid, str(phy))
    glx = import_recording(W, str(tmp_path / "run_g0_t0.imec0.ap.bin"))
    rec = load_recording(W.get_recording_record(rid)["recordingUri"])
    assert rec.get_num_channels() == 4 and rec.get_num_frames() == 6000
    assert np.array_equal(rec.get_traces(return_in_uV=False), traces)
    nwb_sorting = load_sorting(W.get_sorting_record(sid)["sortingUri"])
    assert sorted(len(nwb_sorting.get_unit_spike_train(u)) for u in nwb_sorting.get_unit_ids()) == [12, 30]
    phy_sorting = load_sorting(W.get_sorting_record(phy_sid)["sortingUri"])
    assert {str(u): list(phy_sorting.get_unit_spike_train(u)) for u in phy_sorting.get_unit_ids()} == \
        {"0": [10, 300], "1": [200, 4000]}
    glx_rec = load_recording(W.get_recording_record(glx)["recordingUri"])
    assert np.array_equal(glx_rec.get_traces(), traces)
    with pytest.raises(WorkspaceError, match="not a recording"):
        import_recording(W, str(phy))
