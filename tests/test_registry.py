"""The task registry: names, duplicate and unknown names, input validation, inline runs and the result cache."""
from __future__ import annotations

import importlib.util
import json
import os
import sys

import numpy as np
import pytest

import sortingview as sv
from sortingview.errors import SortingviewError, TaskInputError, UnknownTaskError
from sortingview.serialize import task_job_id
from sortingview.tasks import execute_task, get_task, list_tasks, register_task, registry

CATALOGUE = {  # name: (task type, handler) from design.md
    "sortingview.recording_info.1": ("calculation", "misc"),
    "sortingview.sorting_info.1": ("calculation", "misc"),
    "sortingview.autocorrelograms.1": ("calculation", "correlograms"),
    "sortingview.cross_correlograms.1": ("calculation", "correlograms"),
    "sortingview.timeseries_segment.1": ("calculation", "timeseries"),
    "sortingview.compare_sortings.1": ("calculation", "metrics"),
}


@pytest.fixture
def scratch_registry(monkeypatch):
    """The built-in tasks plus whatever the test registers, forgotten after the test."""
    list_tasks()  # load the built-ins first
    monkeypatch.setattr(registry, "_registry", dict(registry._registry))
    calls = []

    @register_task("sortingview.test_scale.1", handler="misc")
    def scale(values: list, factor: float = 2.0, label: str | None = None) -> dict:
        calls.append((values, factor))
        return {"scaled": np.asarray(values, dtype=np.float64) * factor, "label": label}

    @register_task("sortingview.test_now.1", handler="misc", task_type="query")
    def now() -> dict:
        calls.append("now")
        return {"n": len(calls)}

    return calls


def test_catalogue_rows_of_this_part_are_registered_with_their_types():
    for name, (task_type, handler) in CATALOGUE.items():
        spec = get_task(name)
        assert (spec.task_type, spec.handler_type) == (task_type, handler), name
    names = [s.name for s in list_tasks()]
    assert names == sorted(names) and len(names) == len(set(names))


def test_unknown_task_lists_the_registered_ones():
    with pytest.raises(UnknownTaskError) as info:
        get_task("sortingview.autocorrelogram.1")
    message = str(info.value)
    assert "sortingview.autocorrelogram.1" in message
    assert "sortingview.autocorrelograms.1" in message and "sortingview.sorting_info.1" in message


def test_a_duplicate_name_fails_when_its_module_is_imported(tmp_path, scratch_registry):
    module = tmp_path / "duplicate_task_module.py"
    module.write_text(
        "from sortingview.tasks import register_task\n"
        "@register_task('sortingview.sorting_info.1', handler='misc')\n"
        "def my_sorting_info(sorting: str) -> dict:\n"
        "    return {}\n"
    )
    spec = importlib.util.spec_from_file_location("duplicate_task_module", module)
    with pytest.raises(SortingviewError, match="registered twice.*new version number"):
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
    assert get_task("sortingview.sorting_info.1").func.__module__ == "sortingview.tasks.info"
    sys.modules.pop("duplicate_task_module", None)


@pytest.mark.parametrize("name,handler,task_type,match", [
    ("autocorrelograms", "correlograms", "calculation", "must look like"),
    ("sortingview.x.1", "gpu", "calculation", "handler 'gpu'"),
    ("sortingview.x.1", "misc", "job", "task type 'job'"),
])
def test_bad_registrations_are_refused(scratch_registry, name, handler, task_type, match):
    with pytest.raises(SortingviewError, match=match):
        register_task(name, handler=handler, task_type=task_type)


@pytest.mark.parametrize("task_input,match", [
    ({"values": [1], "factr": 3}, r"no input field\(s\) 'factr'; its fields are values, factor, label"),
    ({"factor": 3}, "needs input field 'values'"),
    ({"values": "1,2"}, "'values' must be list.*got string"),
    ({"values": [1], "factor": "3"}, "'factor' must be float.*got string"),
    ({"values": [1], "factor": True}, "'factor' must be float.*got boolean"),
    ({"values": [1], "label": 5}, "'label' must be.*got number"),
    (["values"], "must be a JSON object, got list"),
])
def test_bad_inputs_are_task_input_errors(scratch_registry, task_input, match):
    with pytest.raises(TaskInputError, match=match):
        execute_task("sortingview.test_scale.1", task_input)
    assert scratch_registry == []  # nothing ran


def test_bad_inputs_of_builtin_tasks(store_dir):
    with pytest.raises(TaskInputError, match="needs input field 'unitIds'"):
        sv.run_task("sortingview.cross_correlograms.1", {"sorting": "sha1://" + "0" * 40}, inline=True)
    with pytest.raises(TaskInputError, match="'windowMs' must be float, got string"):
        sv.run_task("sortingview.autocorrelograms.1", {"sorting": "sha1://" + "0" * 40, "windowMs": "50"},
                    inline=True)


def test_run_task_inline_returns_decoded_result_and_caches_calculations(store_dir, scratch_registry):
    task_input = {"values": [1, 2.5], "factor": 3}
    first = sv.run_task("sortingview.test_scale.1", task_input, inline=True)
    assert isinstance(first["scaled"], np.ndarray) and first["scaled"].tolist() == [3.0, 7.5]
    assert first["label"] is None
    job_id = task_job_id("sortingview.test_scale.1", task_input)
    path = store_dir / "task_results" / "sortingview.test_scale.1" / job_id[:2] / job_id[2:4] / job_id[4:6] / job_id
    assert path.is_file()
    assert json.loads(path.read_text())["scaled"]["_type"] == "ndarray"
    # the same calculation (3 and 3.0 are one job) is answered from the cache without running again
    again = sv.run_task("sortingview.test_scale.1", {"values": [1, 2.5], "factor": 3.0}, inline=True)
    assert again["scaled"].tolist() == [3.0, 7.5] and len(scratch_registry) == 1
    # a different input is a different job
    sv.run_task("sortingview.test_scale.1", {"values": [1]}, inline=True)
    assert len(scratch_registry) == 2
    assert len(os.listdir(store_dir / "task_results" / "sortingview.test_scale.1")) >= 1


def test_queries_run_fresh_each_time_and_are_not_cached(store_dir, scratch_registry):
    assert sv.run_task("sortingview.test_now.1", {}, inline=True) == {"n": 1}
    assert sv.run_task("sortingview.test_now.1", {}, inline=True) == {"n": 2}
    assert not (store_dir / "task_results" / "sortingview.test_now.1").exists()
