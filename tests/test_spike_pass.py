"""The pass after the templates (tasks/spike_pass.py) gives the values of the passes it replaced, bit for bit.

References: the template pass with sums of squares over all channels (``unit_templates(with_std=True)``, what
average_waveforms used) and one snippet read per amplitude sample (``read_snippets``, what spike_amplitudes and
unit_metrics used), on the memory-mapped file and through ``get_traces``.
"""
from __future__ import annotations

import os

import numpy as np
import pytest
from test_waveforms import AFTER, BEFORE, dataset_in_own_store

from sortingview.compute.amplitudes import amplitude_frames
from sortingview.compute.neighborhood import nearest_channels
from sortingview.compute.snippets import select_spread, unit_seed
from sortingview.tasks import spike_pass as sp
from sortingview.tasks._objects import unit_spike_train
from sortingview.tasks._reading import trace_source
from sortingview.tasks.waveforms import _LAST_TEMPLATES, channel_locations, read_snippets, unit_templates


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    yield from dataset_in_own_store(tmp_path_factory, "spike_pass")


@pytest.fixture(autouse=True)
def fresh():
    sp.clear()
    _LAST_TEMPLATES.clear()
    yield
    sp.clear()
    _LAST_TEMPLATES.clear()


def reference_amplitudes(rec, sort, templates, frames_per_unit):
    """One read_snippets pass over the amplitude frames, as amplitudes_of read them before the spike pass."""
    source = trace_source(rec)
    reads, chans, spikes = [], [], []
    for t, train in zip(templates, frames_per_unit, strict=True):
        if t.peak_channel is None:
            read, keep = train[:0], np.zeros(0, bool)
            train = train[:0]
        else:
            read, keep = amplitude_frames(train, t.peak_frame - BEFORE, source.num_frames)
        spikes.append(train[keep])
        reads.append(read)
        chans.append(np.array([t.peak_channel or 0]))
    return [(s, v[:, 0, 0]) for s, v in zip(spikes, read_snippets(source, reads, chans, 0, 1), strict=True)]


def recordings(ds):
    """The memory-mapped binary recording and the same traces through get_traces (a frame slice)."""
    return [ds.recording, ds.recording.frame_slice(0, ds.num_frames[0])]


@pytest.mark.parametrize("generic", [False, True])
def test_deviations_and_amplitudes_equal_the_separate_passes(ds, generic):
    rec = recordings(ds)[int(generic)]
    units = list(ds.unit_ids) + [[ds.unit_ids[0], ds.unit_ids[1]]]  # a merge group too
    full = unit_templates(rec, ds.sorting, units, BEFORE, AFTER, 80, with_std=True)
    _LAST_TEMPLATES.clear()
    plain = unit_templates(rec, ds.sorting, units, BEFORE, AFTER, 80)
    assert plain is not full
    locations = channel_locations(rec)
    chans = [nearest_channels(locations, t.peak_channel, 5) for t in plain]
    result = sp.spike_pass(rec, ds.sorting, plain, BEFORE, AFTER, chans)
    for f, std, c in zip(full, result.stds, chans, strict=True):
        np.testing.assert_array_equal(std, f.std[:, c])
        assert std.dtype == np.float32 and std.shape == (BEFORE + AFTER, 5)
    trains = [unit_spike_train(ds.sorting, u) for u in units]
    expected = reference_amplitudes(rec, ds.sorting, plain, trains)
    for i, (frames, amps) in enumerate(expected):
        got_frames, got = sp.unit_amplitudes(result, i)
        np.testing.assert_array_equal(got_frames, frames)
        np.testing.assert_array_equal(got, amps)
        assert got.dtype == np.float32 and len(frames) > 100
    # the template spikes (unit_metrics) and a spread subset (maxSpikesPerUnit) come from the same pass
    for i, (_, amps) in enumerate(reference_amplitudes(rec, ds.sorting, plain, [t.frames for t in plain])):
        np.testing.assert_array_equal(sp.unit_amplitudes(result, i, frames=plain[i].frames)[1], amps)
    subset = [tr[select_spread(len(tr), 40, unit_seed(u))] for tr, u in zip(trains, units, strict=True)]
    for i, (frames, amps) in enumerate(reference_amplitudes(rec, ds.sorting, plain, subset)):
        got_frames, got = sp.unit_amplitudes(result, i, max_spikes=40)
        np.testing.assert_array_equal(got_frames, frames)
        np.testing.assert_array_equal(got, amps)


def test_the_pass_is_reused_for_the_same_templates_and_redone_for_other_channels(ds):
    templates = unit_templates(ds.recording, ds.sorting, ds.unit_ids, BEFORE, AFTER, 50)
    chans = [np.array([t.peak_channel]) for t in templates]
    first = sp.spike_pass(ds.recording, ds.sorting, templates, BEFORE, AFTER, chans)
    assert sp.spike_pass(ds.recording, ds.sorting, templates, BEFORE) is first  # amplitudes only: served
    assert sp.spike_pass(ds.recording, ds.sorting, templates, BEFORE, AFTER, chans) is first
    wider = [np.array([0, t.peak_channel]) if t.peak_channel else np.array([0, 1]) for t in templates]
    again = sp.spike_pass(ds.recording, ds.sorting, templates, BEFORE, AFTER, wider)
    assert again is not first
    for a, b in zip(first.amplitudes, again.amplitudes, strict=True):
        np.testing.assert_array_equal(a, b)
    other = unit_templates(ds.recording, ds.sorting, ds.unit_ids[:2], BEFORE, AFTER, 50)
    assert sp.spike_pass(ds.recording, ds.sorting, other, BEFORE) is not again


def test_frames_that_are_not_spikes_of_the_unit_are_refused(ds):
    templates = unit_templates(ds.recording, ds.sorting, ds.unit_ids[:1], BEFORE, AFTER, 50)
    result = sp.spike_pass(ds.recording, ds.sorting, templates, BEFORE)
    with pytest.raises(ValueError, match="spikes of the unit"):
        sp.unit_amplitudes(result, 0, frames=templates[0].frames + 1)


def test_small_blocks_on_several_threads_give_the_same_templates_and_pass(ds, monkeypatch):
    """Blocks shared out to threads (each adding into sums of its own) change nothing for int16 samples."""
    from sortingview.tasks import _reading, waveforms

    units = list(ds.unit_ids)
    one = unit_templates(ds.recording, ds.sorting, units, BEFORE, AFTER, 80)
    chans = [np.arange(t.peak_channel, t.peak_channel + 1) for t in one]
    first = sp.spike_pass(ds.recording, ds.sorting, one, BEFORE, AFTER, chans)
    monkeypatch.setattr(_reading, "DEFAULT_BLOCK_BYTES", 64 * 1024)  # ~100 blocks of 12 channels
    for workers in (1, 3):
        monkeypatch.setattr(waveforms, "block_workers", lambda source, n=workers: n)
        monkeypatch.setattr(sp, "block_workers", lambda source, n=workers: n)
        sp.clear()
        _LAST_TEMPLATES.clear()
        again = unit_templates(ds.recording, ds.sorting, units, BEFORE, AFTER, 80)
        for a, b in zip(one, again, strict=True):
            np.testing.assert_array_equal(a.mean, b.mean)
        result = sp.spike_pass(ds.recording, ds.sorting, again, BEFORE, AFTER, chans)
        for a, b in zip(first.stds + first.amplitudes, result.stds + result.amplitudes, strict=True):
            np.testing.assert_array_equal(a, b)


def test_block_workers_follow_numba_threads_for_small_integers_only(ds, monkeypatch):
    import numba

    from sortingview.tasks._reading import block_workers

    monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 2)
    assert block_workers(trace_source(ds.recording)) == min(2, os.cpu_count())
    as_float = ds.recording.astype("float32")
    assert block_workers(trace_source(as_float)) == 1


def test_float32_sums_are_used_only_where_exact_and_give_the_float64_means(ds):
    from sortingview.compute.snippets import exact_in_float32

    assert exact_in_float32(np.int16, 512) and not exact_in_float32(np.int16, 513)
    assert exact_in_float32(np.uint8, 65793) and not exact_in_float32(np.uint8, 65794)
    assert not exact_in_float32(np.int32, 1) and not exact_in_float32(np.float32, 1)
    units = list(ds.unit_ids) + [list(ds.unit_ids)]  # the merge of all units has over 512 spikes
    assert len(unit_spike_train(ds.sorting, units[-1])) > 512
    for max_spikes in (80, None):  # float32 sums (80 spikes a unit), float64 sums (every spike)
        full = unit_templates(ds.recording, ds.sorting, units, BEFORE, AFTER, max_spikes, with_std=True)
        _LAST_TEMPLATES.clear()
        plain = unit_templates(ds.recording, ds.sorting, units, BEFORE, AFTER, max_spikes)
        for a, b in zip(full, plain, strict=True):
            np.testing.assert_array_equal(a.mean, b.mean)


def test_on_sparse_data_only_the_spikes_asked_for_are_read_and_dense_data_read_every_spike(ds, monkeypatch):
    templates = unit_templates(ds.recording, ds.sorting, ds.unit_ids, BEFORE, AFTER, 80)
    frames = [t.frames for t in templates]
    chans = [np.array([t.peak_channel]) for t in templates]
    assert not sp.dense(templates, ds.num_frames[0]) and sp.dense(templates, 1000)
    part = sp.spike_pass(ds.recording, ds.sorting, templates, BEFORE, AFTER, chans, frames)
    assert not part.complete
    for a, b in zip(part.trains, frames, strict=True):
        np.testing.assert_array_equal(a, b)
    assert sp.spike_pass(ds.recording, ds.sorting, templates, BEFORE, frames_per_unit=frames) is part  # metrics
    with pytest.raises(ValueError, match="only some spikes"):
        sp.unit_amplitudes(part, 0)
    full = sp.spike_pass(ds.recording, ds.sorting, templates, BEFORE)  # every spike: a pass of its own
    assert full is not part and full.complete
    for i, f in enumerate(frames):
        for x, y in zip(sp.unit_amplitudes(part, i, frames=f), sp.unit_amplitudes(full, i, frames=f), strict=True):
            np.testing.assert_array_equal(x, y)
    sp.clear()
    monkeypatch.setattr(sp, "dense", lambda templates, num_frames: True)
    assert sp.spike_pass(ds.recording, ds.sorting, templates, BEFORE, AFTER, chans, frames).complete
