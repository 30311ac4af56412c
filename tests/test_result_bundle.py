"""Task results with large arrays are stored as bundles (a JSON header, the arrays' bytes after it).

The JSON form (what ``store_json_bytes`` writes, what the browser receives) is the same byte for byte as
before; a damaged bundle is a damaged result (deleted, computed again), never a read past its end.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from test_server_support import http, running_server
from test_waveforms import dataset_in_own_store

import sortingview as sv
from sortingview.bundle import BLOBS_FROM, MAGIC, pack_result, unpack_result
from sortingview.errors import SerializationError
from sortingview.serialize import Blob, decode_value, encode_value, store_json_bytes, task_job_id
from sortingview.store import MISSING, get_store, load_task_result


def mixed_result() -> dict:
    rng = np.random.default_rng(3)
    return {
        "snippets": rng.standard_normal((600, 90, 7)).astype(np.float32),  # 1.5 MB that zlib cannot shrink
        "counts": np.zeros((400, 2000), np.uint16),  # 1.6 MB of zeros: stored compressed
        "timesSec": np.sort(rng.random(20_000)),
        "small": np.arange(7, dtype=np.int64),  # under BLOBS_FROM: base64 text in the header
        "nested": [{"a": rng.integers(0, 9, 50_000).astype(np.int32)}, None, 2.5, "x"],
        "unitIds": list(range(1000)), "none": float("nan"), "fs": 30000.0,
    }


def test_a_bundle_decodes_to_the_same_arrays_writable_and_without_base64():
    result = mixed_result()
    encoded = encode_value(result, blobs_from=BLOBS_FROM)
    assert isinstance(encoded["snippets"]["data_b64"], Blob)
    assert isinstance(encoded["counts"]["data_gzip_b64"], Blob)
    assert isinstance(encoded["small"]["data_b64"], str)
    data = pack_result(encoded)
    assert data.startswith(MAGIC) and len(data) < result["snippets"].nbytes * 1.1 + 400_000
    back = decode_value(unpack_result(bytearray(data)))
    for key in ("snippets", "counts", "timesSec", "small"):
        np.testing.assert_array_equal(back[key], result[key])
        assert back[key].dtype == result[key].dtype and back[key].flags.writeable
    np.testing.assert_array_equal(back["nested"][0]["a"], result["nested"][0]["a"])
    assert back["nested"][1:] == [None, 2.5, "x"] and back["unitIds"] == result["unitIds"]
    assert back["none"] is None and back["fs"] == 30000.0
    # read-only bytes (a store that keeps results in memory) still give arrays the caller may change
    again = decode_value(unpack_result(bytes(data)))
    again["snippets"][0, 0, 0] = 1.0


def test_the_json_form_of_a_blob_encoded_result_is_the_same_bytes_as_before():
    result = mixed_result()
    plain = store_json_bytes(encode_value(result))
    assert store_json_bytes(encode_value(result, blobs_from=BLOBS_FROM)) == plain
    assert store_json_bytes(unpack_result(pack_result(encode_value(result, blobs_from=BLOBS_FROM)))) == plain
    # a result without large arrays is stored as the JSON it always was
    assert pack_result(encode_value({"small": np.arange(3)}, blobs_from=BLOBS_FROM)) == \
        store_json_bytes(encode_value({"small": np.arange(3)}))


def damaged_bundles(data: bytes) -> dict[str, bytes]:
    header_len = int.from_bytes(data[len(MAGIC):len(MAGIC) + 8], "little")
    header = json.loads(data[len(MAGIC) + 8:len(MAGIC) + 8 + header_len])
    moved = dict(header, snippets={**header["snippets"], "data_b64": [10**12, 8]})
    moved_text = store_json_bytes(moved)
    return {
        "truncated": data[: len(data) // 2],
        "header longer than the file": MAGIC + (2**62).to_bytes(8, "little") + data[len(MAGIC) + 8:],
        "array past the end": MAGIC + len(moved_text).to_bytes(8, "little") + moved_text + data[
            len(MAGIC) + 8 + header_len:],
        "magic only": MAGIC,
    }


def test_damaged_bundles_are_refused_with_a_reason():
    data = pack_result(encode_value(mixed_result(), blobs_from=BLOBS_FROM))
    for what, bad in damaged_bundles(data).items():
        try:
            decode_value(unpack_result(bad))
        except SerializationError:
            continue
        pytest.fail(f"a bundle with {what} was read without an error")


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    yield from dataset_in_own_store(tmp_path_factory, "bundle", seed=21, num_channels=8, num_units=5)


SNIPPETS = "sortingview.unit_snippets.2"


def snippet_input(ds) -> dict:
    return {"recording": ds.recording_uri, "sorting": ds.sorting_uri, "unitIds": ds.unit_ids, "maxSnippets": 200}


def test_a_stored_result_with_large_arrays_is_a_bundle_and_a_damaged_one_is_computed_again(ds):
    task_input = snippet_input(ds)
    job = task_job_id(SNIPPETS, task_input)
    first = sv.run_task(SNIPPETS, task_input, inline=True)
    stored = get_store().get_task_result(SNIPPETS, job)
    assert bytes(stored[:len(MAGIC)]) == MAGIC
    cached = sv.run_task(SNIPPETS, task_input, inline=True)
    np.testing.assert_array_equal(cached["snippets"], first["snippets"])
    cached["snippets"][:] = 0  # the caller's own copy: the stored result is not changed
    np.testing.assert_array_equal(sv.run_task(SNIPPETS, task_input, inline=True)["snippets"], first["snippets"])
    for bad in damaged_bundles(bytes(stored)).values():
        get_store().put_task_result(SNIPPETS, job, bad)
        assert load_task_result(SNIPPETS, job) is MISSING  # deleted: the next request computes it again
        assert get_store().get_task_result(SNIPPETS, job) is None
    again = sv.run_task(SNIPPETS, task_input, inline=True)
    np.testing.assert_array_equal(again["snippets"], first["snippets"])


def test_the_browser_gets_the_json_form_of_a_bundled_result(ds):
    task_input = snippet_input(ds)
    expected = sv.run_task(SNIPPETS, task_input, inline=True)
    with running_server(inline=True) as srv:
        for _ in range(2):  # computed by the server's backend, then answered from the stored bundle
            status, answer = http(f"{srv.url}/api/task", body={"taskName": SNIPPETS, "taskInput": task_input})
            assert status == 200 and answer["status"] == "finished"
            assert isinstance(answer["result"]["snippets"]["data_b64"], str)
            got = decode_value(answer["result"])
            np.testing.assert_array_equal(got["snippets"], expected["snippets"])
            np.testing.assert_array_equal(got["timesSec"], expected["timesSec"])


def test_the_viewer_asks_for_a_bundle_and_decodes_the_same_arrays_as_json(ds, browser):
    from test_browser_support import checked_page

    task_input = snippet_input(ds)
    expected = sv.run_task(SNIPPETS, task_input, inline=True)
    with running_server(inline=True) as srv, checked_page(browser) as page:
        page.goto(f"{srv.url}/viewer/index.html")
        kinds = []
        page.on("response", lambda r: kinds.append(r.headers.get("content-type", "")) if "/api/task" in r.url
                else None)
        got = page.evaluate("""async ([name, input]) => {
            const api = await import("/viewer/js/api.js");
            const r = await api.runTask(name, input);
            return {shape: r.snippets.shape, dtype: r.snippets.dtype, snippets: Array.from(r.snippets.data),
                    times: Array.from(r.timesSec.data), offsets: Array.from(r.spikeOffsets.data)};
        }""", [SNIPPETS, task_input])
    assert any(k.startswith("application/x-sortingview-bundle") for k in kinds), kinds
    assert got["shape"] == list(expected["snippets"].shape) and got["dtype"] == "float32"
    np.testing.assert_array_equal(np.array(got["snippets"], np.float32), expected["snippets"].ravel())
    np.testing.assert_array_equal(np.array(got["times"]), expected["timesSec"])
    np.testing.assert_array_equal(np.array(got["offsets"]), expected["spikeOffsets"])
