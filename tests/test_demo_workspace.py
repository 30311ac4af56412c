"""`--demo`: a seeded demo workspace created once per store, with a demo user who may curate it."""
from __future__ import annotations

import os
import shutil
import subprocess
from urllib.parse import parse_qs, urlparse

import pytest
from test_browser_support import write_inline_config

from sortingview import store
from sortingview.server.auth import UserStore, users_file
from sortingview.server.demo import DEMO_USER, ensure_demo_workspace


@pytest.mark.slow
def test_demo_is_created_once_and_the_command_prints_its_link(store_dir, tmp_path, monkeypatch, capfd):
    from sortingview.workspace import list_workspaces, load_workspace

    monkeypatch.delenv("SORTINGVIEW_URL", raising=False)
    url = ensure_demo_workspace()
    assert "sign in to the viewer with this token" in capfd.readouterr().err
    assert url.startswith("http://127.0.0.1:15310/f?v=spikesortingview-1&d=sha1://")
    data = store.load_json(parse_qs(urlparse(url).query)["d"][0])
    W = load_workspace(data["workspaceUri"])
    assert len(data["unitIds"]) == 24 and data["samplingFrequency"] == 30000.0
    assert DEMO_USER in W.get_sorting_curation_authorized_users(data["sortingId"])
    assert [u.user_id for u in UserStore(users_file()).list_users()] == [DEMO_USER]
    assert data["externalUnitMetrics"][0]["name"] == "depth"
    # the traces are int16 on disk in the store directory, linked (not copied)
    traces = os.path.join(str(store_dir), "sortingview", "demo")
    assert any(name.endswith(".int16.bin") for name in os.listdir(traces))

    assert ensure_demo_workspace() == url
    assert "token" not in capfd.readouterr().err  # the demo user exists already: no new token
    assert list_workspaces() == [W.uri]

    exe = shutil.which("sortingview-start-backend")
    cfg = write_inline_config(str(tmp_path / "handlers.yaml"))
    r = subprocess.run([exe, "--demo", "--burst", "--config", cfg], capture_output=True, text=True, timeout=120,
                       env=os.environ.copy())
    assert r.returncode == 0, r.stderr
    assert url in r.stdout
    assert list_workspaces() == [W.uri]
