"""Canonical JSON, task job ids and the ndarray encoding (sortingview.serialize)."""
from __future__ import annotations

import base64
import hashlib
import json
import zlib

import numpy as np
import pytest

from sortingview.errors import SerializationError
from sortingview.serialize import (
    SUPPORTED_DTYPES,
    canonical_json,
    decode_array,
    decode_value,
    encode_array,
    encode_value,
    store_json_bytes,
    task_job_id,
)


def _sample(dtype: str, shape) -> np.ndarray:
    """Values that use the whole range of the dtype (extremes included), seeded."""
    rng = np.random.default_rng(7)
    n = int(np.prod(shape)) if shape else 1
    if dtype == "bool":
        a = rng.integers(0, 2, n).astype(bool)
    elif dtype.startswith(("int", "uint")):
        info = np.iinfo(dtype)
        a = rng.integers(info.min, info.max, n, dtype=dtype, endpoint=True)
        if n >= 2:
            a[:2] = [info.min, info.max]
    else:
        a = (rng.standard_normal(n) * 1e3).astype(dtype)
        if n >= 3:
            a[:3] = [np.finfo(dtype).max, np.finfo(dtype).tiny, -0.0]
    return a.reshape(shape)


SHAPES = [(), (0,), (0, 3), (17,), (2, 3, 4), (5, 64)]


@pytest.mark.parametrize("dtype", SUPPORTED_DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("compress", [True, False, None])
def test_round_trip_every_dtype_and_shape(dtype, shape, compress):
    a = _sample(dtype, shape)
    enc = encode_array(a, compress=compress)
    assert enc["dtype"] == dtype and enc["shape"] == list(shape)
    assert ("data_gzip_b64" in enc) == (compress is True or (compress is None and a.nbytes >= 256))
    json.dumps(enc)  # the encoding is plain JSON
    b = decode_array(json.loads(json.dumps(enc)))
    assert b.dtype == np.dtype(dtype) and b.shape == shape
    assert np.array_equal(a, b)


@pytest.mark.parametrize("dtype", [d for d in SUPPORTED_DTYPES if d not in ("bool", "int8", "uint8")])
def test_big_endian_input_is_written_little_endian(dtype):
    a = _sample(dtype, (3, 5))
    big = a.astype(np.dtype(dtype).newbyteorder(">"))
    enc = encode_array(big, compress=False)
    assert base64.b64decode(enc["data_b64"]) == a.astype(np.dtype(dtype).newbyteorder("<")).tobytes()
    assert np.array_equal(decode_array(enc), a)


def test_non_contiguous_input():
    a = np.arange(60, dtype=np.int32).reshape(6, 10)
    for view in (a[::2, 1::3], a.T, a[:, ::-1]):
        assert not view.flags["C_CONTIGUOUS"]
        b = decode_array(encode_array(view))
        assert np.array_equal(b, view) and b.flags["C_CONTIGUOUS"]


def test_encoding_matches_the_documented_format():
    """What the viewer decodes: little-endian raw bytes, base64, optionally zlib-compressed."""
    enc = encode_array(np.array([1, 2, 3], dtype=np.int16), compress=False)
    assert enc == {"_type": "ndarray", "shape": [3], "dtype": "int16", "data_b64": "AQACAAMA"}
    raw = np.array([[0.5, -1.0]], dtype="<f4").tobytes()
    theirs = {"_type": "ndarray", "shape": [1, 2], "dtype": "float32",
              "data_gzip_b64": base64.b64encode(zlib.compress(raw, 9)).decode()}
    assert np.array_equal(decode_array(theirs), np.array([[0.5, -1.0]], dtype=np.float32))


def test_nan_and_inf_inside_arrays_round_trip():
    a = np.array([np.nan, np.inf, -np.inf, 1.5, -0.0])
    for dtype in ("float32", "float64"):
        b = decode_array(encode_array(a.astype(dtype)))
        assert np.array_equal(b, a.astype(dtype), equal_nan=True)
        assert np.signbit(b[-1])


@pytest.mark.parametrize("dtype", ["complex128", "float16", "<U3", "object", "datetime64[ns]"])
def test_unsupported_dtypes_name_the_supported_ones(dtype):
    a = np.zeros(2, dtype=dtype)
    with pytest.raises(SerializationError) as ei:
        encode_array(a)
    assert "float32" in str(ei.value) and "convert" in str(ei.value)


@pytest.mark.parametrize("bad", [
    {"_type": "ndarray", "shape": [2], "data_b64": "AAAA"},
    {"_type": "ndarray", "shape": [2], "dtype": "complex64", "data_b64": "AAAA"},
    {"_type": "ndarray", "shape": [2], "dtype": "int16"},
    {"_type": "ndarray", "shape": [3], "dtype": "int16", "data_b64": "AQACAA=="},
    {"_type": "ndarray", "shape": [1], "dtype": "int16", "data_gzip_b64": "bm90IHpsaWI="},
    {"_type": "ndarray", "shape": "x", "dtype": "int16", "data_b64": "AQA="},
    {"_type": "ndarray", "shape": [1], "dtype": "int32", "data_b64": "AQA="},
])
def test_malformed_encodings_are_serialization_errors(bad):
    with pytest.raises(SerializationError):
        decode_array(bad)
    with pytest.raises(SerializationError):
        decode_value({"result": [bad]})


def test_encode_value_converts_nested_structures():
    value = {
        "unitIds": np.array([1, 2, 3], dtype=np.int64),
        "snr": np.float32(4.5), "count": np.int64(7), "flag": np.bool_(True),
        "undefined": [np.float64("nan"), float("inf"), -np.inf, 1.0],
        "pair": (np.uint8(1), "x"),
        5: "int key",
    }
    enc = encode_value(value)
    text = json.dumps(enc, allow_nan=False)  # nothing left that JSON cannot hold
    assert enc["snr"] == 4.5 and type(enc["snr"]) is float
    assert enc["count"] == 7 and type(enc["count"]) is int
    assert enc["flag"] is True
    assert enc["undefined"] == [None, None, None, 1.0]
    assert enc["pair"] == [1, "x"] and enc["5"] == "int key"
    dec = decode_value(json.loads(text))
    assert isinstance(dec["unitIds"], np.ndarray) and np.array_equal(dec["unitIds"], [1, 2, 3])
    assert dec["undefined"] == [None, None, None, 1.0]


# canonical JSON and job ids ---------------------------------------------------------------------------
def test_canonical_json_writes_integral_floats_as_integers():
    assert canonical_json({"b": 1.0, "a": [2.0, 2.5, -0.0, 1e20, True, None]}) == \
        '{"a":[2,2.5,0,100000000000000000000,true,null],"b":1}'
    assert canonical_json({"x": np.float64(3.0), "y": np.int32(4)}) == '{"x":3,"y":4}'
    assert canonical_json({"é": "ü"}) == '{"\\u00e9":"\\u00fc"}'


def test_canonical_json_agrees_with_kachery_cloud_deterministic_json():
    from kachery_cloud._json_stringify_deterministic import _json_stringify_deterministic

    obj = {"taskInput": {"windowMs": 50.0, "binMs": 1, "units": [1.0, 2.5], "s": "µ"}, "taskName": "t.1"}
    assert canonical_json(obj) == _json_stringify_deterministic(obj)


def test_task_job_id_is_stable_and_independent_of_float_spelling():
    name = "sortingview.autocorrelograms.1"
    task_input = {"sorting": "sha1://" + "ab" * 20, "windowMs": 50.0, "binMs": 1, "unitIds": [1, 2]}
    # written out by hand: keys sorted, no spaces, 50.0 written as 50
    text = ('{"taskInput":{"binMs":1,"sorting":"sha1://' + "ab" * 20 + '","unitIds":[1,2],"windowMs":50},'
            '"taskName":"sortingview.autocorrelograms.1"}')
    expected = hashlib.sha1(text.encode("ascii")).hexdigest()
    assert task_job_id(name, task_input) == expected
    same = {"unitIds": [1.0, 2.0], "binMs": 1.0, "windowMs": 50, "sorting": "sha1://" + "ab" * 20}
    assert task_job_id(name, same) == expected
    assert task_job_id(name, {**task_input, "binMs": 2}) != expected
    assert task_job_id("sortingview.autocorrelograms.2", task_input) != expected


def test_known_job_id_literal():
    """Pinned: if this changes, every cached task result is orphaned."""
    assert task_job_id("sortingview.sorting_info.1", {"sorting": "sha1://" + "0" * 40}) == \
        hashlib.sha1(b'{"taskInput":{"sorting":"sha1://' + b"0" * 40 + b'"},'
                     b'"taskName":"sortingview.sorting_info.1"}').hexdigest()


@pytest.mark.parametrize("bad,where", [
    ({"a": float("nan")}, "$.a"),
    ({"a": [1, float("inf")]}, "$.a[1]"),
    ({"a": {"b": -float("inf")}}, "$.a.b"),
])
def test_nan_and_inf_are_refused_with_their_location(bad, where):
    for fn in (canonical_json, store_json_bytes):
        with pytest.raises(SerializationError) as ei:
            fn(bad)
        msg = str(ei.value)
        assert where in msg and "None" in msg
    with pytest.raises(SerializationError):
        task_job_id("t.1", bad)


def test_unencodable_values_say_to_encode_first():
    with pytest.raises(SerializationError, match="encode_value"):
        store_json_bytes({"a": np.arange(3)})
    with pytest.raises(SerializationError, match="encode_value"):
        store_json_bytes({"a": {1, 2}})


def test_circular_structures_are_refused():
    a: dict = {"x": 1}
    a["self"] = a
    with pytest.raises(SerializationError, match="ircular"):
        store_json_bytes(a)
    with pytest.raises(SerializationError, match="ircular"):
        canonical_json(a)


def test_store_json_bytes_is_ascii_sorted_compact():
    assert store_json_bytes({"b": [1, 2.5], "a": "é"}) == b'{"a":"\\u00e9","b":[1,2.5]}'
    assert store_json_bytes({"x": 1.0}) == b'{"x":1.0}'  # store_json keeps the float spelling
