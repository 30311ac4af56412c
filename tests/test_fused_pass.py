"""The templates and the spike pass from one read (tasks/fused_pass.py) give the separate passes' results bit
for bit: the tasks' answers, the kept pass, and the units whose peak the first look missed."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from test_waveforms import dataset_in_own_store

from sortingview.tasks import _reading, fused_pass, run_task_inline
from sortingview.tasks import spike_pass as sp
from sortingview.tasks import waveforms as wf

TASKS = ("sortingview.average_waveforms.2", "sortingview.unit_metrics.2", "sortingview.spike_amplitudes.2",
         "sortingview.average_waveforms.1")


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    yield from dataset_in_own_store(tmp_path_factory, "fused", seed=23, num_channels=16, num_units=10)


def _answers(ds, monkeypatch, fuse: bool) -> dict:
    """Each task's answer computed in one process, in the order a precompute asks (templates and passes
    reused from task to task), with or without the fused pass."""
    monkeypatch.setenv("SORTINGVIEW_DIRECT_IO", "1" if fuse else "0")
    monkeypatch.setattr(_reading, "_direct", lambda raw: fuse)  # whole blocks even where O_DIRECT is refused
    monkeypatch.setattr(_reading, "direct_wanted", lambda path: fuse)
    monkeypatch.setattr(_reading, "DIRECT_SHARE", 0.0)  # this small recording is read whole when fused
    wf.clear()
    out = {}
    for name in TASKS:
        out[name] = run_task_inline(name, {"recording": ds.recording_uri, "sorting": ds.sorting_uri},
                                    use_cache=False)
    wf.clear()
    return out


def _same(a, b, where="") -> None:
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            _same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=where)  # NaN equals NaN here; values bit for bit
        assert a.dtype == b.dtype, where
    elif isinstance(a, float) and np.isnan(a):
        assert isinstance(b, float) and np.isnan(b), where
    else:
        assert a == b, where


def test_the_tasks_answer_the_same_with_one_read(ds, monkeypatch):
    calls = []
    real = fused_pass.templates_and_pass
    monkeypatch.setattr(fused_pass, "templates_and_pass", lambda *a: calls.append(1) or real(*a))
    fused = _answers(ds, monkeypatch, True)
    assert len(calls) == 1  # one fused read served the templates and every pass after them
    separate = _answers(ds, monkeypatch, False)
    assert len(calls) == 1
    _same(fused, separate)
    amps = fused["sortingview.spike_amplitudes.2"]
    assert np.isfinite(np.asarray(amps["amplitudes"])).sum() > 1000  # real values compared, not empty arrays


def _forced_direct(monkeypatch) -> None:
    monkeypatch.setattr(_reading, "direct_wanted", lambda path: True)
    monkeypatch.setattr(_reading, "_direct", lambda raw: True)
    monkeypatch.setattr(_reading, "DIRECT_SHARE", 0.0)


def _separately(ds, monkeypatch) -> SimpleNamespace:
    """The file read whole (forced), the units' template frames, and the templates and the every-spike pass
    computed by the separate passes: what the one read must reproduce."""
    _forced_direct(monkeypatch)
    rec, srt = ds.recording, ds.sorting
    units = list(srt.get_unit_ids())
    source = _reading.trace_source(rec)
    frames = [wf.selected_frames(srt, u, source, 30, 60, 500) for u in units]
    wf.clear()
    templates = wf.unit_templates(rec, srt, units, 30, 60, 500)
    chans = [wf.nearest_channels(wf.channel_locations(rec), t.peak_channel, 7) for t in templates]
    expected = sp.spike_pass(rec, srt, templates, 30, 60, chans, None)
    return SimpleNamespace(rec=rec, srt=srt, units=units, source=source, frames=frames, templates=templates,
                           expected=expected)


def _one_read(s: SimpleNamespace, max_bytes: int = 1 << 30):
    return fused_pass.templates_and_pass(s.source, s.srt, s.units, s.frames, 30, 60, wf.channel_locations(s.rec),
                                         max_bytes)


def _assert_same_pass(result, expected) -> None:
    assert result.complete and expected.complete
    for field in ("amplitudes", "inside", "stds"):
        for a, b in zip(getattr(result, field), getattr(expected, field), strict=True):
            np.testing.assert_array_equal(a, b, err_msg=field)


@pytest.mark.parametrize("wrong,one_by_one", [("channels", False), ("frames", False), ("channels", True),
                                              ("frames", True)])
def test_units_whose_peak_the_first_look_missed_are_read_again(ds, monkeypatch, wrong, one_by_one):
    """Candidates that never hold the peak: every unit is read again, with the same result, in blocks or item
    by item with O_DIRECT (a sample's frame alone: spike_pass._sparse_direct, as for a few missed units)."""
    s = _separately(ds, monkeypatch)
    monkeypatch.setattr(sp, "SPARSE_SHARE", float("inf") if one_by_one else 0.0)
    direct = []
    real_direct = sp._Plan._read_direct
    monkeypatch.setattr(sp._Plan, "_read_direct", lambda self, *a: direct.append(1) or real_direct(self, *a))
    real = fused_pass._candidates

    def off(estimate, counts, length):
        c, f = real(estimate, counts, length)
        peaks = [t.peak_channel for t in s.templates]
        if wrong == "channels":  # channels that are not the peak
            others = [np.array([x for x in range(s.source.num_channels) if x != p][:c.shape[1]]) for p in peaks]
            return np.stack(others), f
        return c, np.where(f == 0, length - fused_pass.CANDIDATE_FRAMES, 0)  # frames away from the peak

    monkeypatch.setattr(fused_pass, "_candidates", off)
    sums, finish = _one_read(s)
    means = wf.means_of_sums(s.source, sums, np.array([len(f) for f in s.frames]))
    for t, m in zip(s.templates, means, strict=True):
        np.testing.assert_array_equal(t.mean, m)
    result, missed = finish(s.templates)
    assert missed >= (len(s.units) - 1 if wrong == "frames" else len(s.units))
    assert direct == ([1] if one_by_one else [])
    _assert_same_pass(result, s.expected)
    wf.clear()


def test_a_good_first_look_misses_no_unit(ds, monkeypatch):
    s = _separately(ds, monkeypatch)
    _, finish = _one_read(s)
    result, missed = finish(s.templates)
    assert missed == 0
    _assert_same_pass(result, s.expected)
    assert _one_read(s, max_bytes=1) is None
    wf.clear()


@pytest.mark.parametrize("clear_ratio,window", [(0.0, None), (float("inf"), None), (float("inf"), (0, 1))])
def test_units_the_look_cannot_judge_are_read_first_and_then_missed_by_none(ds, monkeypatch, clear_ratio,
                                                                           window):
    """CLEAR_RATIO 0: the look alone names every candidate; infinite: every unit's template spikes are read
    before the pass, on the frames of UNCLEAR_WINDOW around the spike, and no unit whose peak is there (or
    within the candidates' frames around it) needs a pass of its own."""
    s = _separately(ds, monkeypatch)
    monkeypatch.setattr(fused_pass, "CLEAR_RATIO", clear_ratio)
    if window is not None:  # one frame, the spike's: every peak here is within 2 frames of it
        monkeypatch.setattr(fused_pass, "UNCLEAR_WINDOW", window)
        assert all(abs(t.peak_frame - 30) <= fused_pass.CANDIDATE_FRAMES // 2 for t in s.templates)
    w0, w1 = fused_pass.UNCLEAR_WINDOW
    looks = []
    real = fused_pass._direct_sums
    monkeypatch.setattr(fused_pass, "_direct_sums",
                        lambda src, f, before, after: looks.append((len(f), before + after)) or real(src, f, before,
                                                                                                    after))
    _, finish = _one_read(s)
    assert looks == [(len(s.units), 90)] + ([] if clear_ratio == 0 else [(len(s.units), w0 + w1)])
    result, missed = finish(s.templates)
    assert missed == 0
    _assert_same_pass(result, s.expected)
    wf.clear()


def test_the_look_at_an_unclear_unit_is_its_exact_template_around_the_spike(ds, monkeypatch):
    s = _separately(ds, monkeypatch)
    monkeypatch.setattr(fused_pass, "CLEAR_RATIO", float("inf"))
    monkeypatch.setattr(fused_pass, "UNCLEAR_WINDOW", (3, 4))
    estimate = fused_pass._first_look(s.source, s.units, s.frames, 30, 60)
    for t, e in zip(s.templates, estimate, strict=True):
        np.testing.assert_allclose(e[27:34], t.mean[27:34], rtol=1e-5, atol=1e-4)
        assert not e[:27].any() and not e[34:].any()
    wf.clear()


def test_the_one_read_is_shared_with_the_stores_other_processes(ds, monkeypatch):
    """The fused pass is stored as the pass every process of the store shares (tasks/_shared.py): a process
    that kept nothing answers spike_amplitudes without reading the recording, with the separate passes'
    values."""
    from sortingview.tasks import _shared

    expected = _answers(ds, monkeypatch, False)["sortingview.spike_amplitudes.2"]
    _forced_direct(monkeypatch)
    monkeypatch.setattr(_shared, "SHARE_FROM_BYTES", 0)
    calls = []
    real = fused_pass.templates_and_pass
    monkeypatch.setattr(fused_pass, "templates_and_pass", lambda *a: calls.append(1) or real(*a))
    wf.clear()
    inputs = {"recording": ds.recording_uri, "sorting": ds.sorting_uri}
    run_task_inline("sortingview.average_waveforms.2", inputs, use_cache=False)
    assert calls == [1]
    wf.clear()  # as another worker process: nothing kept in memory
    reads = []
    monkeypatch.setattr(sp._Plan, "read", lambda self: reads.append(1))
    monkeypatch.setattr(wf, "unit_moments", lambda *a, **k: reads.append(2))
    got = run_task_inline("sortingview.spike_amplitudes.2", inputs, use_cache=False)
    assert reads == [] and calls == [1]
    _same(got, expected)
    wf.clear()


@pytest.mark.parametrize("threads", [1, 3])
def test_the_looks_direct_reads_add_what_the_template_pass_adds(ds, monkeypatch, threads):
    """The snippets the look reads one by one (pages around each, O_DIRECT where allowed) sum to the template
    pass's sums: a unit read first has its exact template, and so its exact peak."""
    monkeypatch.setattr(fused_pass, "LOOK_THREADS", threads)
    rec, srt = ds.recording, ds.sorting
    units = list(srt.get_unit_ids())
    source = _reading.trace_source(rec)
    frames = [wf.selected_frames(srt, u, source, 30, 60, 500) for u in units]
    wf.clear()
    expected = wf.unit_moments(source, frames, 30, 60, with_std=False)[0]
    got = wf.means_of_sums(source, fused_pass._direct_sums(source, frames, 30, 60), np.array([len(f) for f in frames]))
    np.testing.assert_array_equal(got, expected)
    assert np.abs(expected).max() > 10  # real snippets, not zeros
