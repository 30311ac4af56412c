"""Every script in examples/views runs and prints a link whose figure and view data load from the store."""
from __future__ import annotations

import json
import os
import runpy
import sys
from urllib.parse import parse_qs, urlparse

import pytest

from sortingview import store

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples", "views")
# spikeinterface_widgets.py is the SpikeInterface path that test_views_spikeinterface.py covers widget by widget
SCRIPTS = sorted(f for f in os.listdir(EXAMPLES)
                 if f.endswith(".py") and not f.startswith("_") and f != "spikeinterface_widgets.py")


def test_there_is_an_example_per_layout():
    for layout in ("box_layout.py", "splitter_layout.py", "tab_layout.py", "mountain_layout.py"):
        assert layout in SCRIPTS


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_prints_a_loadable_link(script, store_dir, capsys, monkeypatch):
    monkeypatch.syspath_prepend(EXAMPLES)
    monkeypatch.setattr(sys, "argv", [script])
    runpy.run_path(os.path.join(EXAMPLES, script), run_name="__main__")
    url = capsys.readouterr().out.strip().splitlines()[-1]
    query = parse_qs(urlparse(url).query)
    assert query["v"] == ["sortingview-views-1"] and query["label"][0].endswith("example")
    root = store.load_json(query["d"][0])
    assert root["type"] == "MainLayout" and root["views"]
    for view in root["views"]:
        assert store.load_json(view["dataUri"])["type"] == view["type"]
    if "s" in query:
        state = json.loads(query["s"][0])
        assert set(store.load_json(state["sortingCuration"])) == {"labelsByUnit", "mergeGroups"}
