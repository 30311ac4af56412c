"""W.precompute(sorting_id): the viewer's first requests are answered from the cache afterwards."""
from __future__ import annotations

import threading

import pytest
from datasets import make_dataset

import sortingview as sv
from sortingview.backend.channel import open_channel
from sortingview.backend.client import submit_task
from sortingview.backend.config import load_config
from sortingview.backend.daemon import Backend
from sortingview.backend.precompute import viewer_requests
from sortingview.errors import TaskTimeoutError


@pytest.fixture
def workspace_and_sorting(store_dir, tmp_path):
    ds = make_dataset(tmp_path, seed=3, num_channels=4, durations=2.0, num_units=3)
    W = sv.create_workspace(label="precompute")
    rid = W.add_recording(label="rec", recording=ds.recording)
    sid = W.add_sorting(recording_id=rid, label="gt", sorting=ds.sorting)
    return W, sid, ds


def test_precompute_fills_the_cache_for_exactly_what_the_viewer_requests(workspace_and_sorting, capsys):
    W, sid, ds = workspace_and_sorting
    backend = Backend(load_config(env={}))
    t = threading.Thread(target=backend.run, daemon=True)
    t.start()
    try:
        statuses = W.precompute(sid, progress=True, timeout=120)
    finally:
        backend.stop(graceful=False)
        t.join(30)
    assert set(statuses) == {name for name, _ in viewer_requests(W, sid)}
    assert all(st.status == "finished" for st in statuses.values())
    assert f"precompute {sid}" in capsys.readouterr().err  # the tqdm progress bar
    chan = open_channel()
    before = chan.stats()
    # the viewer's own requests (main.js): object URIs only
    for name, inp in [("sortingview.autocorrelograms.1", {"sorting": ds.sorting_uri}),
                      ("sortingview.average_waveforms.1", {"recording": ds.recording_uri, "sorting": ds.sorting_uri})]:
        st = submit_task(name, inp).status()
        assert st.status == "finished" and st.result is not None
    assert chan.stats() == before, "answered from task_results without queueing"
    acg = statuses["sortingview.autocorrelograms.1"].result
    assert len(acg["autocorrelograms"]) == len(ds.unit_ids)


def test_precompute_without_waiting_returns_handles_and_times_out_clearly(workspace_and_sorting):
    W, sid, _ = workspace_and_sorting
    handles = W.precompute(sid, wait=False)
    assert len(handles) == 5 and open_channel().stats()["queued"]
    with pytest.raises(TaskTimeoutError, match="not finished after 0.05 s"):
        W.precompute(sid, progress=False, timeout=0.05)
