"""Encoding of large result arrays: zlib level 1 / level 3 against plain base64, and what serialize chooses.

    python bench/bench_encoding.py [--repeats 5]

For arrays shaped like the packed ``.2`` results (seeded): all-pairs correlogram counts of 400 units
(160,000 x 100, uint8), spike times of 2.7 M spikes (float64), amplitudes (float32) and 10,000 snippets of
90 x 7 (float32 microvolts from int16 samples). For each way: encode (array -> JSON bytes, as a result is
stored) and decode (JSON bytes -> array), median of ``--repeats``, and the size. "serialize" is
``store_json_bytes(encode_value(...))`` / ``decode_value(json.loads(...))``, i.e. what the tasks do.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import time
import zlib

import numpy as np


def arrays() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "correlogram counts 160,000 x 100 uint8": rng.poisson(20, (160_000, 100)).astype(np.uint8),
        "spike times 2.7 M float64": np.sort(rng.uniform(0, 600, 2_700_000)),
        "amplitudes 2.7 M float32": (rng.normal(-80, 20, 2_700_000) // 0.195 * 0.195).astype(np.float32),
        "snippets 10,000 x 90 x 7 float32": (rng.integers(-300, 300, (10_000, 90, 7)) * 0.195).astype(np.float32),
    }


def ways(a: np.ndarray):
    from sortingview.serialize import decode_value, encode_value, store_json_bytes

    raw = a.tobytes()

    def zlib_way(level):
        def enc():
            return json.dumps({"d": base64.b64encode(zlib.compress(raw, level)).decode()}).encode()

        def dec(data):
            return np.frombuffer(zlib.decompress(base64.b64decode(json.loads(data)["d"])), a.dtype)

        return enc, dec

    plain = (lambda: json.dumps({"d": base64.b64encode(raw).decode()}).encode(),
             lambda data: np.frombuffer(base64.b64decode(json.loads(data)["d"]), a.dtype))
    ours = (lambda: store_json_bytes(encode_value({"d": a})), lambda data: decode_value(json.loads(data))["d"])
    return {"zlib level 3": zlib_way(3), "zlib level 1": zlib_way(1), "plain base64": plain, "serialize": ours}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'array':36s} {'way':14s} {'MB raw':>7s} {'MB JSON':>8s} {'encode s':>9s} {'decode s':>9s}")
    for name, a in arrays().items():
        for way, (enc, dec) in ways(a).items():
            te, td = [], []
            for _ in range(args.repeats):
                t = time.perf_counter()
                data = enc()
                te.append(time.perf_counter() - t)
                t = time.perf_counter()
                dec(data)
                td.append(time.perf_counter() - t)
            print(f"{name:36s} {way:14s} {a.nbytes / 1e6:7.1f} {len(data) / 1e6:8.1f} "
                  f"{statistics.median(te):9.3f} {statistics.median(td):9.3f}", flush=True)


if __name__ == "__main__":
    main()
