"""A sorter stopped at the sorting handler's time limit: the task error carries the last lines of its log."""
from __future__ import annotations

import pytest
from backend_tasks import start_backend_process, wait_until, write_config
from conftest import skip_or_fail

import sortingview as sv
from sortingview.backend.channel import open_channel
from sortingview.errors import TaskError
from sortingview.tasks.sorting import TASK_NAME, sorting_log_path, sorting_task_input

pytestmark = pytest.mark.slow
CHANNEL = "sorting-timeout-test"


def test_a_sorter_stopped_at_the_time_limit_reports_its_log_tail(store_dir, tmp_path):
    import spikeinterface.core as sc
    import spikeinterface.sorters as ss

    if not ss.sorter_dict["mountainsort5"].is_installed():
        skip_or_fail("mountainsort5 is not installed: pip install -e .[sorters]")
    # 6 minutes: mountainsort5 needs well over the 12 s limit even on an idle machine, and
    # 12 s leave a loaded machine the time to start the worker and write the log's first line
    rec, _ = sc.generate_ground_truth_recording(durations=[360.0], sampling_frequency=30000.0, num_channels=4,
                                                num_units=5, seed=3)
    W = sv.create_workspace(label="timeout test")
    rid = W.add_recording(label="generated", recording=sv.copy_recording_extractor(rec, progress=False))
    task_input = sorting_task_input(W.get_recording_record(rid)["recordingUri"], "ms5", {})
    cfg = write_config(tmp_path / "b.yaml", channel=CHANNEL,
                       job_handlers={"sorting": {"type": "parallel", "params": {"num_workers": 1}, "timeout_s": 12}})
    proc = start_backend_process(cfg, log_path=tmp_path / "backend.log")
    try:
        wait_until(lambda: open_channel(CHANNEL).live_backends(), timeout=120, what="the backend's heartbeat")
        with pytest.raises(TaskError) as info:
            sv.run_task(TASK_NAME, task_input, timeout=300, channel=CHANNEL)
    finally:
        proc.terminate()
        proc.wait(30)
    message = str(info.value)
    assert "TaskTimeoutError" in message and "timeout_s=12" in message
    assert f"--- last lines of its log ({sorting_log_path(task_input)}) ---" in message
    assert "sortingview: running mountainsort5 with default parameters" in message
