"""End to end: every task timed three ways in the same run, against the peer where one exists.

    python bench/bench_e2e.py                       # every case, 2 rounds (peers run in every round)
    python bench/bench_e2e.py --rounds 3 --only cross_correlograms.2,autocorrelograms.2
    python bench/bench_e2e.py --no-peers            # ours only (quick)

For each case, in one round and one after the other (so load hits them alike):

* **compute**: the task function called in this process (warm: objects loaded, numba compiled), no encoding;
* **run_task**: ``sv.run_task(name, input)`` answered by a warm ``sortingview-start-backend`` process (real
  subprocess, inline handlers, SQLite channel in a temporary store), from the call to the decoded result;
* **HTTP**: ``POST /api/task`` to the same process's server (long-poll ``GET /api/task/<jobId>`` if needed)
  until the whole JSON answer is received, as the browser gets it; time and bytes;
* **peer**: what a user of phylib / spikeinterface runs for the same numbers, from the same data in memory.

Before every timed run the stored result is deleted, so every run computes (the input never changes), and
``SORTINGVIEW_REUSE_TEMPLATES=0`` stops a task from reusing the templates of the one before (the backend
process runs them all). A peer shared by two cases (.1 and .2) runs once per round.
"encode+decode" is measured on the compute result in this process, as the backend and ``sv.run_task`` do it:
``encode_value`` + ``pack_result`` (a bundle when the result holds large arrays, else JSON), then
``unpack_result`` + ``decode_value``; its share is of the run_task time (target < 20 %). HTTP asks for what the
viewer asks for: a bundle when the result holds large arrays. Ratios are
peer / ours of the same round; the table gives the median over rounds and the load average of each round.
Data: ``bench/_datasets.py`` ("stress": 400 units, 2.7 M spikes; "large": 64 channels, 600 s, 100 units).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _datasets import Datasets  # noqa: E402
from _e2e_peers import PEERS  # noqa: E402


@dataclass
class Case:
    key: str  # task name without the "sortingview." prefix, plus a tag when one task has several cases
    task: str
    task_input: dict
    peer: str | None = None  # key of PEERS
    target: float | None = None  # peer time / our run_task time
    rows: dict = field(default_factory=dict)  # what -> list of per-round values


def cases(uris: dict, large, stress_units: list, large_units: list) -> list[Case]:
    rec, srt, stress = uris["recording"], uris["large_sorting"], uris["stress_sorting"]
    n = large.recording.get_num_samples()
    both = {"recording": rec, "sorting": srt}
    u0, u1 = large_units[0], large_units[1]
    return [
        Case("cross_correlograms.2", "sortingview.cross_correlograms.2",
             {"sorting": stress, "unitIds": stress_units, "windowMs": 100, "binMs": 1}, "phylib_ccg", 10.0),
        Case("cross_correlograms.1", "sortingview.cross_correlograms.1",
             {"sorting": stress, "unitIds": stress_units, "windowMs": 100, "binMs": 1}, "phylib_ccg"),
        Case("autocorrelograms.2", "sortingview.autocorrelograms.2", {"sorting": stress, "windowMs": 50},
             "si_acg", 5.0),
        Case("autocorrelograms.1", "sortingview.autocorrelograms.1", {"sorting": stress, "windowMs": 50}, "si_acg"),
        Case("average_waveforms.2", "sortingview.average_waveforms.2", dict(both), "si_templates", 8.0),
        Case("average_waveforms.1", "sortingview.average_waveforms.1", dict(both)),
        Case("unit_features.2", "sortingview.unit_features.2", dict(both), "si_pca", 10.0),
        Case("unit_metrics.2", "sortingview.unit_metrics.2", dict(both), "si_metrics", 1.0),
        Case("unit_metrics.1", "sortingview.unit_metrics.1", dict(both)),
        Case("spike_amplitudes.2", "sortingview.spike_amplitudes.2", dict(both), "si_amplitudes", 1.0),
        Case("spike_amplitudes.1", "sortingview.spike_amplitudes.1", dict(both)),
        Case("unit_snippets.2", "sortingview.unit_snippets.2", {**both, "unitIds": large_units, "maxSnippets": 100},
             "si_waveforms100", 1.0),
        Case("unit_snippets.1", "sortingview.unit_snippets.1", {**both, "unitId": u0}),
        Case("unit_features.1", "sortingview.unit_features.1", {**both, "unitId": u0}),
        Case("pair_features.1", "sortingview.pair_features.1", {**both, "unitId1": u0, "unitId2": u1}),
        Case("recording_info.1", "sortingview.recording_info.1", {"recording": rec}),
        Case("sorting_info.1", "sortingview.sorting_info.1", {"sorting": stress}),
        Case("timeseries_segment.1 (10 s)", "sortingview.timeseries_segment.1",
             {"recording": rec, "startFrame": n // 2, "endFrame": n // 2 + 300_000}),
        Case("compare_sortings.1", "sortingview.compare_sortings.1", {"sorting": srt, "groundTruthSorting": srt}),
    ]


# --- the three ways -----------------------------------------------------------------------------------------
def forget(case: Case) -> None:
    """Delete the stored result so the next request computes again."""
    from sortingview.serialize import task_job_id
    from sortingview.store import get_store

    path = get_store()._task_result_path(case.task, task_job_id(case.task, case.task_input))
    if os.path.exists(path):
        os.remove(path)


def time_compute(case: Case) -> tuple[float, Any]:
    from sortingview.tasks import get_task, validate_input

    spec = get_task(case.task)
    kwargs = validate_input(spec, case.task_input)
    t = time.perf_counter()
    out = spec.func(**kwargs)
    return time.perf_counter() - t, out


def time_codec(result: Any) -> tuple[float, float, int]:
    from sortingview.bundle import BLOBS_FROM, pack_result, unpack_result
    from sortingview.serialize import decode_value, encode_value

    t0 = time.perf_counter()
    data = pack_result(encode_value(result, blobs_from=BLOBS_FROM))  # what a worker stores
    t1 = time.perf_counter()
    decode_value(unpack_result(bytearray(data)))  # what sv.run_task reads back
    return t1 - t0, time.perf_counter() - t1, len(data)


def time_run_task(case: Case) -> float:
    import sortingview as sv

    forget(case)
    t = time.perf_counter()
    sv.run_task(case.task, case.task_input, timeout=1800)
    return time.perf_counter() - t


def answer(conn) -> tuple[bytes, dict]:
    """The body of the response and its parse (header only for a bundle: the arrays stay bytes, as in the
    browser, which makes typed arrays over them)."""
    from sortingview.bundle import unpack_result

    resp = conn.getresponse()
    data = resp.read()
    return data, unpack_result(data)


def time_http(case: Case, port: int) -> tuple[float, int]:
    from sortingview.bundle import BUNDLE_MIMETYPE

    forget(case)
    accept = f"{BUNDLE_MIMETYPE}, application/json"  # as the viewer asks (viewer/js/api.js)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1900)
    t = time.perf_counter()
    body = json.dumps({"taskName": case.task, "taskInput": case.task_input, "waitSec": 25})
    conn.request("POST", "/api/task", body=body, headers={"Content-Type": "application/json", "Accept": accept})
    data, status = answer(conn)
    if "jobId" not in status:  # refused (a bound of the server): say what it said
        raise RuntimeError(f"{case.task}: the server answered {status}")
    while status.get("status") not in ("finished", "error"):
        conn.request("GET", f"/api/task/{status['jobId']}?wait=20", headers={"Accept": accept})
        data, status = answer(conn)
    elapsed = time.perf_counter() - t
    conn.close()
    if status["status"] != "finished":
        raise RuntimeError(f"{case.task} failed over HTTP: {status.get('error')}")
    return elapsed, len(data)


# --- backend process ------------------------------------------------------------------------------------------
def start_backend(workdir: str) -> tuple[subprocess.Popen, int]:
    from sortingview.tasks import HANDLER_TYPES

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
    from conftest import free_port

    port = free_port()
    cfg = os.path.join(workdir, "handlers.yaml")
    with open(cfg, "w") as f:
        f.write("job_handlers:\n" + "".join(f"  {h}: {{type: inline}}\n" for h in HANDLER_TYPES))
    log = open(os.path.join(workdir, "backend.log"), "w")
    cmd = [sys.executable, "-c", "from sortingview.cli.backend_cmds import start_backend; start_backend()",
           "--port", str(port), "--config", cfg]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy())
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the backend exited: {open(log.name).read()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/backend-status")
            if json.loads(conn.getresponse().read()).get("backends"):
                return proc, port
        except (OSError, ValueError):
            pass
        time.sleep(0.2)  # a starting process: no event to await
    raise RuntimeError("no live backend after 120 s")


def store_data(datasets) -> tuple[dict, list, list]:
    from sortingview.extractors import store_recording, store_sorting

    large, stress = datasets["large"], datasets["stress"]
    uris = {"recording": store_recording(large.recording), "large_sorting": store_sorting(large.sorting),
            "stress_sorting": store_sorting(stress.sorting)}
    return uris, [u.item() for u in stress.sorting.unit_ids], [u.item() for u in large.sorting.unit_ids]


# --- report -------------------------------------------------------------------------------------------------
def _med(values: list) -> float:
    return statistics.median(values) if values else float("nan")


def report(selected: list[Case], loads: list[str]) -> list[dict]:
    print(f"\nload average (1, 5, 15 min) at the start of each round: {' | '.join(loads)}")
    head = (f"{'case':30s} {'compute':>8s} {'run_task':>8s} {'HTTP':>8s} {'HTTP MB':>8s} {'enc+dec':>8s} "
            f"{'share':>6s} {'peer':>8s} {'peer/run_task':>13s} {'peer/HTTP':>9s} target")
    print(head)
    out = []
    for c in selected:
        r = {k: _med(v) for k, v in c.rows.items()}
        share = (r["encode"] + r["decode"]) / r["run_task"]
        ratio = [p / o for p, o in zip(c.rows.get("peer", []), c.rows["run_task"], strict=False)]
        ratio_http = [p / o for p, o in zip(c.rows.get("peer", []), c.rows["http"], strict=False)]
        met = None if c.target is None or not ratio else _med(ratio) >= c.target and share < 0.2
        peer = f"{r['peer']:8.2f}" if "peer" in r else f"{'':8s}"
        rt = f"{_med(ratio):12.1f}x" if ratio else f"{'':13s}"
        rh = f"{_med(ratio_http):8.1f}x" if ratio_http else f"{'':9s}"
        tgt = "" if c.target is None else f">= {c.target:g}x: {'met' if met else 'NOT met'}"
        print(f"{c.key:30s} {r['compute']:8.3f} {r['run_task']:8.3f} {r['http']:8.3f} {r['http_bytes'] / 1e6:8.2f} "
              f"{r['encode'] + r['decode']:8.3f} {share:6.1%} {peer} {rt} {rh} {tgt}")
        out.append({"case": c.key, "task": c.task, **r, "share": share, "peer": c.peer,
                    "ratio": _med(ratio) if ratio else None, "ratio_http": _med(ratio_http) if ratio else None,
                    "rounds": c.rows, "target": c.target, "met": met})
    return out


def run_round(selected: list[Case], port: int, peers: dict[str, Callable[[], float]], timed: bool) -> None:
    peer_times: dict[str, float] = {}  # a peer shared by two cases (.1 and .2) runs once per round
    for c in selected:
        t_compute, result = time_compute(c)
        enc, dec, _ = time_codec(result)
        del result
        t_run = time_run_task(c)
        t_http, nbytes = time_http(c, port)
        values = {"compute": t_compute, "encode": enc, "decode": dec, "run_task": t_run, "http": t_http,
                  "http_bytes": nbytes}
        if c.peer and c.peer in peer_times:
            values["peer"] = peer_times[c.peer]
        elif c.peer and c.peer in peers:
            try:
                values["peer"] = peer_times[c.peer] = peers[c.peer]()
            except Exception as exc:  # a peer that breaks is reported, and the other cases still run
                print(f"  peer {c.peer} failed: {type(exc).__name__}: {exc}", flush=True)
        line = "  ".join(f"{k} {v:.3f}" if k != "http_bytes" else f"{k} {v / 1e6:.2f} MB" for k, v in values.items())
        print(f"  {'' if timed else '(warm-up) '}{c.key}: {line}", flush=True)
        if timed:
            for k, v in values.items():
                c.rows.setdefault(k, []).append(v)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--only", default=None, help="comma-separated case keys (see the table)")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--json", default=None, help="also write the rows to this file")
    args = ap.parse_args(argv)
    datasets = Datasets()
    with tempfile.TemporaryDirectory(prefix="sv-bench-e2e-") as tmp:
        os.environ["KACHERY_CLOUD_DIR"] = os.path.join(tmp, "store")
        os.makedirs(os.environ["KACHERY_CLOUD_DIR"])
        os.environ.pop("SORTINGVIEW_JOB_HANDLER_CONFIG", None)
        os.environ["SORTINGVIEW_REUSE_TEMPLATES"] = "0"  # each task computes its own templates, as timed alone
        uris, stress_units, large_units = store_data(datasets)
        selected = cases(uris, datasets["large"], stress_units, large_units)
        if args.only:
            keep = set(args.only.split(","))
            selected = [c for c in selected if c.key in keep]
        peers = {} if args.no_peers else {k: (lambda f=f: f(datasets)) for k, f in PEERS.items()
                                          if any(c.peer == k for c in selected)}
        proc, port = start_backend(tmp)
        loads = []
        try:
            print("warm-up round (backend and this process load objects, numba code and caches):", flush=True)
            run_round(selected, port, {}, timed=False)
            for i in range(args.rounds):
                loads.append(" ".join(f"{x:.2f}" for x in os.getloadavg()))
                print(f"round {i + 1} (load average {loads[-1]}):", flush=True)
                run_round(selected, port, peers, timed=True)
        finally:
            proc.terminate()
            proc.wait(60)
        rows = report(selected, loads)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"loads": loads, "rows": rows}, f, indent=1, default=float)
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
