"""The templates and the spike pass are computed once for all the processes of a store (tasks/_shared.py):
worker processes of different handlers asking at once read the recording once, and get what a process of
their own would have computed."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from test_waveforms import dataset_in_own_store

from sortingview.tasks import _shared, run_task_inline
from sortingview.tasks import spike_pass as sp
from sortingview.tasks import waveforms as wf
from sortingview.tasks._objects import load_recording, load_sorting

TASKS = ("sortingview.average_waveforms.2", "sortingview.unit_metrics.2", "sortingview.spike_amplitudes.2")

WORKER = textwrap.dedent("""
    import json, sys, time
    import numpy as np
    from sortingview.tasks import _shared, _reading, run_task_inline
    from sortingview.tasks import spike_pass as sp, waveforms as wf
    _shared.SHARE_FROM_BYTES = 0
    sp.reads_whole = lambda *a: True  # as for a large file read in whole blocks: every spike in the one pass
    counts = {"templates": 0, "pass": 0}
    moments, read = wf.unit_moments, sp._Plan.read

    def slow_moments(*a, **k):
        counts["templates"] += 1
        time.sleep(1.0)  # long enough for the other process to ask meanwhile
        return moments(*a, **k)

    def counted_read(self):
        counts["pass"] += 1
        return read(self)

    wf.unit_moments, sp._Plan.read = slow_moments, counted_read
    task, rec, srt, out = sys.argv[1:5]
    result = run_task_inline(task, {"recording": rec, "sorting": srt}, use_cache=False)
    np.savez(out, **{k: np.asarray(v) for k, v in result.items() if isinstance(v, np.ndarray)})
    print(json.dumps(counts))
""")


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    yield from dataset_in_own_store(tmp_path_factory, "shared", seed=31, num_channels=12, num_units=6)


def _alone(ds, monkeypatch) -> dict:
    """Each task's arrays computed in this process with nothing shared or kept."""
    monkeypatch.setattr(_shared, "SHARE_FROM_BYTES", 1 << 62)
    monkeypatch.setattr(sp, "reads_whole", lambda *a: True)
    out = {}
    for name in TASKS:
        wf.clear()
        result = run_task_inline(name, {"recording": ds.recording_uri, "sorting": ds.sorting_uri}, use_cache=False)
        out[name] = {k: v for k, v in result.items() if isinstance(v, np.ndarray)}
    wf.clear()
    return out


def _start(ds, task: str, out: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, "-c", WORKER, task, ds.recording_uri, ds.sorting_uri, out], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def test_processes_asking_at_once_read_the_recording_once(ds, tmp_path, monkeypatch):
    expected = _alone(ds, monkeypatch)
    first = _start(ds, TASKS[0], str(tmp_path / "a.npz"))
    time.sleep(0.3)
    second = _start(ds, TASKS[1], str(tmp_path / "b.npz"))  # asks while the first computes the templates
    counts = [_finish(first), _finish(second)]
    assert sum(c["templates"] for c in counts) == 1, counts
    assert sum(c["pass"] for c in counts) == 1, counts
    later = _finish(_start(ds, TASKS[2], str(tmp_path / "c.npz")))  # the spike_amplitudes worker, later
    assert later == {"templates": 0, "pass": 0}
    for name, path in zip(TASKS, ("a.npz", "b.npz", "c.npz"), strict=True):
        got = np.load(tmp_path / path)
        assert set(got.files) == set(expected[name]), name
        for k in got.files:  # bit for bit what a process of its own computes
            np.testing.assert_array_equal(got[k], expected[name][k], err_msg=f"{name} {k}")


def test_a_stored_pass_that_does_not_fit_the_sorting_is_computed_again(ds, monkeypatch):
    monkeypatch.setattr(_shared, "SHARE_FROM_BYTES", 0)
    wf.clear()
    rec, srt = load_recording(ds.recording_uri), load_sorting(ds.sorting_uri)  # URIs known: shared
    units = list(srt.get_unit_ids())
    templates = wf.unit_templates(rec, srt, units, 30, 60, 500)
    good = sp.spike_pass(rec, srt, templates, 30)
    key = sp._shared_pass(rec, srt, sp.trace_source(rec), templates, 30, 0, None, None)[0]
    stored = sp._for_storing(good)
    stored["counts"] = stored["counts"] + 1  # as if the sorting had other trains
    _shared.Slot(_shared.PASS, key, None).save(stored)
    sp.clear()
    reads = []
    real = sp._Plan.read
    monkeypatch.setattr(sp._Plan, "read", lambda self: reads.append(1) or real(self))
    again = sp.spike_pass(rec, srt, templates, 30)
    assert reads == [1]
    for a, b in zip(again.amplitudes, good.amplitudes, strict=True):
        np.testing.assert_array_equal(a, b)
    wf.clear()


def test_a_wait_for_another_process_is_bounded(ds, monkeypatch):
    import fcntl

    from sortingview.serialize import task_job_id
    from sortingview.store import get_store

    key = {"recording": "sha1://x", "sorting": "sha1://y", "n": 1}
    folder = os.path.join(get_store().directory, "sortingview", "locks")
    os.makedirs(folder, exist_ok=True)
    holder = os.open(os.path.join(folder, f"{_shared.TEMPLATES}-{task_job_id(_shared.TEMPLATES, key)}.lock"),
                     os.O_RDWR | os.O_CREAT)
    fcntl.flock(holder, fcntl.LOCK_EX)  # another holder (a second open file: flock locks conflict)
    try:
        monkeypatch.setattr(_shared, "WAIT_S", 0.3)
        t0 = time.monotonic()
        with _shared.once(_shared.TEMPLATES, key) as slot:
            waited = time.monotonic() - t0
            assert slot.value is None  # nothing stored: the caller computes for itself
        assert 0.3 <= waited < 5
    finally:
        os.close(holder)
    with _shared.once(_shared.TEMPLATES, key) as slot:  # free again: taken at once
        slot.save({"x": np.arange(3)})
    with _shared.once(_shared.TEMPLATES, key) as slot:
        np.testing.assert_array_equal(slot.value["x"], np.arange(3))


def test_without_a_lock_file_the_process_computes_for_itself(ds, monkeypatch):
    """A store this process cannot make lock files in (read-only for it): no waiting, no failure."""
    def refuse(name, key):
        raise PermissionError("read-only store")

    monkeypatch.setattr(_shared, "_lock", refuse)
    key = {"recording": "sha1://x", "sorting": "sha1://y", "n": 2}
    with _shared.once(_shared.PASS, key) as slot:
        assert slot.value is None
        slot.save({"x": np.arange(4)})
    with _shared.once(_shared.PASS, key) as slot:
        np.testing.assert_array_equal(slot.value["x"], np.arange(4))
