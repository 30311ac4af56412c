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
    for name, inp in [("sortingview.autocorrelograms.2", {"sorting": ds.sorting_uri}),
                      ("sortingview.unit_metrics.2", {"recording": ds.recording_uri, "sorting": ds.sorting_uri}),
                      ("sortingview.average_waveforms.2", {"recording": ds.recording_uri, "sorting": ds.sorting_uri})]:
        st = submit_task(name, inp).status()
        assert st.status == "finished" and st.result is not None
    assert chan.stats() == before, "answered from task_results without queueing"
    acg = statuses["sortingview.autocorrelograms.2"].result
    assert [str(u) for u in acg["unitIds"]] == [str(u) for u in ds.unit_ids]
    assert acg["binCounts"]["shape"][0] == len(ds.unit_ids)


def test_precompute_without_waiting_returns_handles_and_times_out_clearly(workspace_and_sorting):
    W, sid, _ = workspace_and_sorting
    handles = W.precompute(sid, wait=False)
    assert len(handles) == 5 and open_channel().stats()["queued"]
    with pytest.raises(TaskTimeoutError, match="not finished after 0.05 s"):
        W.precompute(sid, progress=False, timeout=0.05)


def test_precompute_asks_for_the_tasks_the_viewer_opens_a_sorting_with(workspace_and_sorting):
    """The task names main.js's loadData submits are those precompute submits (the `.2` tasks where one exists)."""
    import re
    from pathlib import Path

    W, sid, _ = workspace_and_sorting
    main_js = (Path(sv.__file__).parent / "viewer" / "js" / "main.js").read_text()
    load_data = main_js[main_js.index("function loadData("):]
    load_data = load_data[:load_data.index("\n}\n")]
    asked = set(re.findall(r'runTask\("([\w.]+)"', load_data))
    names = [name for name, _ in viewer_requests(W, sid)]
    assert asked == set(names) and len(names) == len(set(names))
    assert names.index("sortingview.average_waveforms.2") < names.index("sortingview.unit_metrics.2")
