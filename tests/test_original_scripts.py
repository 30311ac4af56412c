"""Scripts written for the original sortingview run as they were: the seed README's code, the original's
notebooks/workspace_example/001_workspace_example.py (byte for byte) and a Spyglass-v0-style pipeline."""
from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import parse_qs, urlparse

import sortingview as sv
from sortingview import store

HERE = os.path.join(os.path.dirname(__file__), "original_scripts")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_script(name: str, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, os.path.join(HERE, name), *args], capture_output=True, text=True,
                         timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def stored_bytes(store_dir) -> int:
    return sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(os.path.join(store_dir, "sha1"))
               for f in fs)


def figure_of(url: str) -> dict:
    return store.load_json(parse_qs(urlparse(url).query)["d"][0])


def test_original_notebook_001_runs_unchanged_and_its_workspace_loads(store_dir):
    out = run_script("001_workspace_example.py.original")  # kept byte for byte, so not linted
    uri = store.get_mutable("sortingview-workspace-example-uri")  # kcl.set_mutable_local wrote it into the store
    assert f"Workspace URI: {uri}" in out
    W = sv.Workspace(uri)
    assert W.label == "example" and len(W.recording_ids) == 1 and len(W.sorting_ids) == 1
    sid = W.sorting_ids[0]
    assert W.get_sorting_curation_uri(sid).startswith("feed://")
    assert W.get_sorting_curation_authorized_users(sid) == []
    R = W.get_recording_extractor(W.recording_ids[0])
    assert R.get_num_frames(segment_index=0) == 120 * R.get_sampling_frequency()
    assert len(W.get_sorting_extractor(sid).unit_ids) == 10


def test_seed_readme_code_runs_and_gives_a_figurl(store_dir):
    out = run_script("seed_readme_example.py")
    lines = out.splitlines()
    uri = next(line.split(": ", 1)[1] for line in lines if line.startswith("Workspace URI: "))
    url = next(line for line in lines if line.startswith("http"))
    data = figure_of(url)
    W = sv.load_workspace(uri)
    assert data["workspaceUri"] == W.uri and data["label"] == "Test workspace"
    assert data["curationFeedUri"] == W.get_sorting_curation_uri(W.sorting_ids[0])
    assert W.get_sorting_curation_authorized_users(W.sorting_ids[0]) == ["jmagland@flatironinstitute.org"]
    assert f"Reloaded: {W.uri} {W.recording_ids} {W.sorting_ids}" in out


def test_spyglass_v0_style_pipeline_links_the_filtered_recording_and_reads_the_curation_back(store_dir, tmp_path):
    out = run_script("spyglass_v0_style.py", str(tmp_path))
    lines = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line and not line.startswith(" "))
    W = sv.load_workspace(lines["workspace"])
    sid = W.sorting_ids[0]
    # labels added as lists, the repeated 'accept' a no-op; keys are the sorting's own (string) unit ids
    assert W.get_sorting_curation(sid)["labelsByUnit"] == {"0": ["accept"], "1": ["noise", "reject"]}
    assert len(W.get_sorting_curation_history(sid)) == 3
    # the filtered recording is linked where SpikeInterface saved it, never copied into the store
    objects = [store.load_json(r["recordingUri"]) for r in W.recording_records()]
    assert [o["format"] for o in objects] == ["binary_recording", "si_recording"]
    traces_bytes = os.path.getsize(os.path.join(tmp_path, "recording", "traces_cached_seg0.raw"))
    assert stored_bytes(store_dir) < traces_bytes / 2
    assert store.load_file(objects[0]["data"]["segments"][0]["fileUri"]).startswith(str(tmp_path))
    whitened = W.get_recording_extractor(W.recording_ids[1])
    assert type(whitened).__name__ == "WhitenRecording"
    # the curation started with trythis_* and read back, with the curator's merge on top of the initial label
    loaded = eval(lines["loaded curation"])  # noqa: S307 - the script printed a dict literal of our own making
    assert loaded == {"labelsByUnit": {"2": ["mua"]}, "mergeGroups": [["3", "4"]], "isClosed": False}
