"""Direct reads of large files (sortingview/direct_io.py): the bytes, the order, the bounds, and the passes and
hashes built on them give what reading through the page cache gives."""
from __future__ import annotations

import hashlib
import threading

import numpy as np
import pytest

from sortingview import direct_io
from sortingview.direct_io import ALIGN, File, aligned_buffer, buffer_bytes_for, direct_wanted, prefetched, read_range


@pytest.fixture
def odd_file(tmp_path):
    """A file whose size is not a multiple of the block size, with bytes that differ everywhere."""
    data = np.random.default_rng(5).integers(0, 256, 3 * ALIGN * 7 + 1234, dtype=np.uint8).tobytes()
    path = tmp_path / "odd.bin"
    path.write_bytes(data)
    return str(path), data


def test_the_environment_decides_and_a_bad_value_is_named(odd_file, monkeypatch):
    path, _ = odd_file
    monkeypatch.setenv("SORTINGVIEW_DIRECT_IO", "0")
    assert not direct_wanted(path)
    monkeypatch.setenv("SORTINGVIEW_DIRECT_IO", "auto")
    assert not direct_wanted(path)  # far smaller than half the memory: left to the page cache
    assert direct_wanted(path, size=1 << 62) == direct_io._accepts_direct(path)
    monkeypatch.setenv("SORTINGVIEW_DIRECT_IO", "1")
    assert direct_wanted(path) == direct_io._accepts_direct(path)
    monkeypatch.setenv("SORTINGVIEW_DIRECT_IO", "sometimes")
    with pytest.raises(ValueError, match="SORTINGVIEW_DIRECT_IO must be 1 .* or auto; got 'sometimes'"):
        direct_wanted(path)


@pytest.mark.parametrize("direct", [True, False])
def test_any_range_reads_the_bytes_of_the_file(odd_file, direct):
    path, data = odd_file
    buf = aligned_buffer(buffer_bytes_for(len(data)))
    assert buf.ctypes.data % ALIGN == 0
    with File(path, direct=direct) as f:
        if direct and not f.direct:
            pytest.skip(f"the file system of {path} refuses O_DIRECT: the fallback is the other case")
        for start, end in [(0, len(data)), (1, 4097), (ALIGN, 2 * ALIGN), (4095, 4096), (777, len(data)), (5, 5),
                           (len(data) - 3, len(data))]:
            got = read_range(f, buf, start, end)
            assert bytes(got) == data[start:end], (start, end)
        with pytest.raises(OSError, match="ends at byte .* truncated or is not the recording"):
            read_range(f, buf, len(data) - 10, len(data) + 10)
        assert bytes(read_range(f, buf, len(data) - 10, len(data) + 10, short_ok=True)) == data[-10:]
        with pytest.raises(ValueError, match="does not fit a buffer"):
            read_range(f, aligned_buffer(ALIGN), 0, 3 * ALIGN)


def test_prefetched_items_come_in_order_from_a_bounded_pool_of_buffers(odd_file):
    path, data = odd_file
    ranges = [(o, min(o + 1000, len(data))) for o in range(0, len(data), 1000)]
    made = []
    real = direct_io.aligned_buffer

    def counting(n):
        made.append(n)
        return real(n)

    direct_io.aligned_buffer = counting
    try:
        with File(path, direct=True) as f:
            out = []
            for held in prefetched(ranges, lambda r, buf: read_range(f, buf, *r), buffer_bytes_for(1000), depth=3):
                out.append((held.item, bytes(held.data)))
                held.release()
                held.release()  # a second release changes nothing
    finally:
        direct_io.aligned_buffer = real
    assert [item for item, _ in out] == ranges
    assert b"".join(chunk for _, chunk in out) == data
    assert len(made) == 3 + 1 + 1  # depth + holders + 1, however many items


def test_an_error_reading_an_item_is_raised_at_that_item_and_the_readers_stop():
    seen, lock = [], threading.Lock()

    def fill(i, buf):
        with lock:
            seen.append(i)
        if i == 4:
            raise OSError("item 4 could not be read")
        return i

    got = []
    with pytest.raises(OSError, match="item 4 could not be read"):
        for held in prefetched(range(100), fill, 64, depth=2):
            got.append(held.data)
            held.release()
    assert got == [0, 1, 2, 3]
    assert max(seen) < 10  # reading ahead stopped, bounded by the depth


def test_the_chunk_manifest_and_sha1_are_the_same_read_directly(odd_file, monkeypatch):
    from sortingview.store._fs import sha1_of_file
    from sortingview.store.chunk_manifest import hash_in_chunks

    path, data = odd_file
    monkeypatch.setattr("sortingview.store.chunk_manifest._READ_BLOCK", 3 * 1000)  # many blocks, unaligned
    monkeypatch.setattr("sortingview.store._fs._DIRECT_BLOCK", 5000)
    for mode in ("1", "0"):
        monkeypatch.setenv("SORTINGVIEW_DIRECT_IO", mode)
        manifest = hash_in_chunks(path, 1000)
        assert manifest.sha1 == hashlib.sha1(data).hexdigest() == sha1_of_file(path)
        assert manifest.size == len(data)
        assert manifest.digests == b"".join(hashlib.sha1(data[i:i + 1000]).digest()
                                            for i in range(0, len(data), 1000))


def test_passes_over_a_file_read_directly_give_what_the_cached_reads_give(tmp_path, monkeypatch):
    """The templates and the spike pass (every spike's amplitude beside the template spikes' deviations) of a
    binary recording, with its blocks read whole and directly, equal those of the per-snippet reads."""
    import spikeinterface.core as si

    from sortingview.tasks import _reading
    from sortingview.tasks import spike_pass as sp
    from sortingview.tasks import waveforms as wf

    rec, srt = si.generate_ground_truth_recording(durations=[20.0], num_channels=16, num_units=6, seed=11,
                                                  sampling_frequency=30000.0)
    rec = rec.save(folder=tmp_path / "rec", format="binary", dtype="int16", verbose=False)
    units = list(srt.unit_ids)
    accepts = direct_io._accepts_direct(str(rec._recording_segments[0].file_path))
    results, direct_passes = {}, []
    real = _reading._map_direct
    monkeypatch.setattr(_reading, "_map_direct", lambda *a: (direct_passes.append(1), real(*a)))
    from sortingview.tasks import fused_pass  # the passes one by one here (their one read: test_fused_pass.py)

    monkeypatch.setattr(fused_pass, "wanted", lambda *a: False)
    for mode in ("0", "1"):
        monkeypatch.setenv("SORTINGVIEW_DIRECT_IO", mode)
        monkeypatch.setattr("sortingview.tasks._reading.DIRECT_BLOCK_BYTES", 64 * 1024)  # many blocks
        wf._LAST_TEMPLATES.clear()
        sp.clear()
        templates = wf.unit_templates(rec, srt, units, 30, 60, 200)
        frames = [t.frames for t in templates]
        chans = [np.arange(4) if t.peak_channel is not None else None for t in templates]
        result = sp.spike_pass(rec, srt, templates, 30, 60, chans, frames)
        results[mode] = (templates, result)
        # the templates' pass and the spike pass, where the file system accepts O_DIRECT
        assert len(direct_passes) == (2 if mode == "1" and accepts else 0)
    (t0, r0), (t1, r1) = results["0"], results["1"]
    for a, b in zip(t0, t1, strict=True):
        np.testing.assert_array_equal(a.mean, b.mean)
        assert (a.peak_channel, a.peak_frame) == (b.peak_channel, b.peak_frame)
    for a, b in zip(r0.stds, r1.stds, strict=True):
        np.testing.assert_array_equal(a, b)
    assert r1.complete == accepts  # read whole (directly): every spike came along
    assert not r0.complete
    for i in range(len(units)):  # the template spikes' amplitudes are the same values either way
        f0, a0 = sp.unit_amplitudes(r0, i, frames=frames[i])
        f1, a1 = sp.unit_amplitudes(r1, i, frames=frames[i])
        np.testing.assert_array_equal(f0, f1)
        np.testing.assert_array_equal(a0, a1)
