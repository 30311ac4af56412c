"""The templates and the spike pass from the read that links the recording (tasks/link_pass.py): the tasks
then answer without reading the file, with the values they compute themselves, whatever the blocks' edges."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
import spikeinterface.core as si
from test_fused_pass import _forced_direct, _same
from test_waveforms import dataset_in_own_store

from sortingview import store
from sortingview.backend.precompute import requests_for
from sortingview.extractors import store_recording
from sortingview.serialize import decode_value
from sortingview.store import chunk_manifest
from sortingview.tasks import _shared, cached_result, fused_pass, info, link_pass, run_task_inline
from sortingview.tasks import spike_pass as sp
from sortingview.tasks import waveforms as wf

TASKS = ("sortingview.average_waveforms.2", "sortingview.unit_metrics.2", "sortingview.spike_amplitudes.2")


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    yield from dataset_in_own_store(tmp_path_factory, "link-pass", seed=29, num_channels=16, num_units=10)


def _copy(ds, tmp_path, header: int):
    """The dataset's recording in a file of its own (never linked: the link reads it), after ``header``
    bytes, so that blocks of the file cut frames anywhere."""
    path = tmp_path / f"traces-{header}.raw"
    with open(path, "wb") as out, open(ds.binary_paths[0], "rb") as f:
        out.write(b"h" * header)
        shutil.copyfileobj(f, out)
    rec = si.BinaryRecordingExtractor(str(path), sampling_frequency=ds.sampling_frequency, dtype="int16",
                                      num_channels=ds.num_channels, channel_ids=ds.channel_ids,
                                      gain_to_uV=ds.gain_to_uv, offset_to_uV=0.0, file_offset=header)
    rec.set_probegroup(ds.recording.get_probegroup())
    return rec


def _kept(monkeypatch) -> list:
    """What each ``AlongTheLink.keep`` of the test returns, in order."""
    kept = []
    real_keep = link_pass.AlongTheLink.keep
    monkeypatch.setattr(link_pass.AlongTheLink, "keep", lambda self, uri: kept.append(real_keep(self, uri)))
    return kept


def _no_recording_answers(r: str, s: str) -> bool:
    """No answer to the viewer's first requests that take the recording is stored (the sorting's own may be:
    another test linked another file with the same sorting)."""
    return all(cached_result(name, task_input) is None for name, task_input in requests_for(r, s)
               if "recording" in task_input)


def _answers(r: str, s: str) -> dict:
    wf.clear()
    out = {name: run_task_inline(name, {"recording": r, "sorting": s}, use_cache=False) for name in TASKS}
    wf.clear()
    return out


@pytest.mark.parametrize("header", [0, 48])
def test_the_tasks_after_a_link_with_the_sorting_read_nothing_and_answer_the_same(ds, tmp_path, monkeypatch,
                                                                                  header):
    _forced_direct(monkeypatch)
    monkeypatch.setattr(_shared, "SHARE_FROM_BYTES", 0)
    monkeypatch.setattr(chunk_manifest, "_READ_BLOCK", 3 * 4096)  # many blocks, edges inside frames
    rec = _copy(ds, tmp_path, header)
    wf.clear()
    kept = _kept(monkeypatch)
    seams = []
    real_seam = fused_pass.FromBytes._seam
    monkeypatch.setattr(fused_pass.FromBytes, "_seam", lambda self, b: seams.append(real_seam(self, b)) or seams[-1])
    noise = []
    real_noise = info.mad_noise_levels_of_integers
    monkeypatch.setattr(info, "mad_noise_levels_of_integers", lambda *a: noise.append(1) or real_noise(*a))
    r = store_recording(rec, sorting=ds.sorting_uri)
    assert kept == [True]
    assert noise == [1]  # once, beside the look: recording_info and unit_metrics (answered by the link) reused them
    assert len({x for x in seams if x is not None}) > 100  # many snippets crossed from one block into the next
    seg = store.load_json(r)["data"]["segments"][0]
    assert chunk_manifest.parse_manifest(store.load_bytes(seg["chunkManifest"]), store.parse_uri(seg["fileUri"]).sha1,
                                         None).version == 2
    wf.clear()  # as a worker process of the backend: nothing kept in memory, the store's results only
    reads = []
    monkeypatch.setattr(sp._Plan, "read", lambda self: reads.append("spike pass"))
    monkeypatch.setattr(wf, "unit_moments", lambda *a, **k: reads.append("templates"))
    monkeypatch.setattr(fused_pass, "templates_and_pass", lambda *a: reads.append("fused"))
    got = _answers(r, ds.sorting_uri)
    assert reads == []
    monkeypatch.undo()
    monkeypatch.setenv("SORTINGVIEW_REUSE_TEMPLATES", "0")  # each task reads for itself
    expected = _answers(r, ds.sorting_uri)
    _same(got, expected)
    amps = got["sortingview.spike_amplitudes.2"]
    assert np.isfinite(np.asarray(amps["amplitudes"])).sum() > 1000  # real values compared
    # the viewer's first requests (W.precompute's) were answered by the link and stored with the task results,
    # the noise levels among them computed beside the look: the values the tasks compute themselves
    first = requests_for(r, ds.sorting_uri)
    stored = {name: cached_result(name, task_input) for name, task_input in first}
    assert all(v is not None for v in stored.values())
    wf.clear()
    info._NOISE_BY_URI.clear()
    for name, task_input in first:
        _same(decode_value(stored[name]), run_task_inline(name, task_input, use_cache=False), name)
    assert np.all(np.asarray(decode_value(stored["sortingview.recording_info.1"])["noiseLevels"]) > 0)


def test_nothing_is_kept_when_the_link_reads_nothing(ds, tmp_path, monkeypatch):
    """A file linked before is not read again (its sha1 is known): no look is made, nothing is kept, and the
    tasks compute as usual."""
    _forced_direct(monkeypatch)
    monkeypatch.setattr(_shared, "SHARE_FROM_BYTES", 0)
    rec = _copy(ds, tmp_path, 16)  # a file of its own: no result of the test above is under its URI
    first = store_recording(rec)
    kept = _kept(monkeypatch)
    looks = []
    real_look = fused_pass._first_look
    monkeypatch.setattr(fused_pass, "_first_look", lambda *a: looks.append(1) or real_look(*a))
    assert store_recording(rec, sorting=ds.sorting_uri) == first
    assert kept == [False] and looks == []  # no look either: the file was not read
    assert _no_recording_answers(first, ds.sorting_uri)
    calls = []
    real = fused_pass.templates_and_pass
    monkeypatch.setattr(fused_pass, "templates_and_pass", lambda *a: calls.append(1) or real(*a))
    wf.clear()
    run_task_inline("sortingview.average_waveforms.2", {"recording": first, "sorting": ds.sorting_uri},
                    use_cache=False)
    assert calls == [1]  # the task read the file itself
    wf.clear()


def test_a_workspace_passes_the_sorting_extractor_on_to_the_link(ds, tmp_path, monkeypatch):
    """``W.add_recording(..., sorting=extractor)``: the sorting is stored (the URI ``add_sorting`` gives it next)
    and the link's read keeps what ``W.precompute`` asks for first."""
    import sortingview as sv

    _forced_direct(monkeypatch)
    monkeypatch.setattr(_shared, "SHARE_FROM_BYTES", 0)
    rec = _copy(ds, tmp_path, 64)
    kept = _kept(monkeypatch)
    W = sv.create_workspace(label="link pass")
    rid = W.add_recording(label="rec", recording=rec, sorting=ds.sorting)
    assert kept == [True]
    sid = W.add_sorting(recording_id=rid, label="sorting", sorting=ds.sorting)
    assert W.get_sorting_record(sid)["sortingUri"] == ds.sorting_uri
    with pytest.raises(Exception, match="URI"):
        store_recording(rec, sorting="not a uri")
    wf.clear()


def test_a_fused_read_that_does_not_apply_lets_the_blocks_go(ds, tmp_path, monkeypatch):
    """Decided when the link starts reading (here: the sums would take more memory than allowed): the link
    goes on alone, nothing is kept."""
    _forced_direct(monkeypatch)
    monkeypatch.setattr(_shared, "SHARE_FROM_BYTES", 0)
    monkeypatch.setattr(wf, "_MOMENT_BYTES", 1)
    rec = _copy(ds, tmp_path, 32)
    kept = _kept(monkeypatch)
    noise = []
    real_noise = info.raw_file_noise_levels
    monkeypatch.setattr(info, "raw_file_noise_levels", lambda *a: noise.append(1) or real_noise(*a))
    r = store_recording(rec, sorting=ds.sorting_uri)
    assert kept == [False]
    assert noise == []  # nothing computed beside the link either
    assert _no_recording_answers(r, ds.sorting_uri)
    assert store.load_json(r) == store.load_json(store_recording(rec))  # the same object as a link alone
