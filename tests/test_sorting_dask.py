"""The sorting handler on Dask: a sorter runs on a LocalCluster worker and its sorting loads here."""
from __future__ import annotations

from dataclasses import replace

import pytest
from conftest import skip_or_fail

import sortingview as sv
from sortingview.backend.client import submit_task
from sortingview.backend.config import load_config
from sortingview.backend.daemon import Backend
from sortingview.extractors import load_sorting, store_recording
from sortingview.tasks.sorting import TASK_NAME, sorting_task_input

pytestmark = pytest.mark.slow


def test_a_sorter_runs_on_a_dask_worker(store_dir):
    try:
        import distributed  # noqa: F401
    except ImportError:
        skip_or_fail("dask.distributed is not installed: pip install -e .[dask]")
    import spikeinterface.core as sc

    rec, gt = sc.generate_ground_truth_recording(durations=[6.0], num_channels=4, num_units=4, seed=5)
    uri = store_recording(sv.copy_recording_extractor(rec, progress=False))
    handle = submit_task(TASK_NAME, sorting_task_input(uri, "simple", {}))
    cfg = load_config(env={}, overrides={"lease_s": 10.0})
    cfg = replace(cfg, handlers=tuple(replace(h, type="dask", num_workers=1) if h.name == "sorting" else h
                                      for h in cfg.handlers))
    Backend(cfg).run(burst=True)
    result = handle.wait(1)
    assert result["sorterName"] == "simple" and result["numUnits"] == len(load_sorting(result["sorting"]).unit_ids)
    assert "running simple" in sv.store.load_text(result["logUri"])
