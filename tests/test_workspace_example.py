"""examples/example1.py runs as a user would run it, and leaves a workspace that loads back."""
from __future__ import annotations

import os
import subprocess
import sys

import sortingview as sv

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "examples", "example1.py")


def test_example1_runs_and_its_workspace_loads(store_dir):
    out = subprocess.run([sys.executable, EXAMPLE], capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    lines = dict(line.split(": ", 1) for line in out.stdout.splitlines() if ": " in line)
    W = sv.load_workspace(lines["workspace"])
    assert W.label == "example1" and len(W.recording_ids) == 1 and len(W.sorting_ids) == 1
    sid = W.sorting_ids[0]
    assert W.get_sorting_curation_authorized_users(sid) == ["user@example.org"]
    assert list(W.get_sorting_curation(sid)["labelsByUnit"].values()) == [["accept"]]
    rec = W.get_recording_extractor(W.recording_ids[0])
    assert rec.get_num_channels() == 16 and rec.get_num_frames() == 60 * 30000
    assert lines["figURL"].startswith(("http://", "(the viewer"))
    assert sv.list_workspaces() == [W.uri]
