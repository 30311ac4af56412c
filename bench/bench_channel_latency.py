"""One-at-a-time round trips through sortingview's Redis channel and RedisHuey, paired in one run.

Both consumers (sortingview's backend with 4 self-claiming ``parallel`` workers; huey's consumer with 4 process
workers, RedisHuey with ``notify_result=True``) and one redis-server are started once; the round trips then
alternate in short blocks (ours, huey, huey, ours, ...), so that load from elsewhere on the machine falls on
both alike, and while one side is measured the other consumer's processes are stopped (SIGSTOP; resumed with
SIGCONT, and two untimed round trips let them settle), so that neither measures the other's idle work
(``--together`` keeps both running). Each side makes ``--trips`` round trips of a trivial task (submit, wait
for the result); the script prints p50 / p90 / p99 / p99.9 of each side, the client's garbage collections, and
the ratios huey / ours (> 1: ours faster). A tail figure needs thousands of round trips: the p99 of 300 is
their third slowest, which moves by 2x between runs on a shared machine.

huey's client is measured two ways, and the better of the two at each percentile is the one compared (the
stricter test for ours):
``poll`` (``result.get(blocking=False)`` from 0.2 ms growing by 1.5x to at most 20 ms, one round trip per look)
and ``block`` (huey's own ``result.get(blocking=True)``, a BLPOP on the result's notification key).

With ``--breakdown`` the slowest of our round trips are split at the channel's own timestamps (Redis server
clock, the same host's): submit -> queued (the SUBMIT script ran) -> claimed (a worker's claim ran) ->
ended (the worker's END ran) -> seen by the client.

Run: ``python bench/bench_channel_latency.py [--trips 10000] [--block 50] [--breakdown]``.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_channel import HUEY_TASKS, SV_TASKS, poll, start_redis  # noqa: E402

QUANTILES = (0.5, 0.9, 0.99, 0.999)


def tree(root: int) -> list[int]:
    """``root`` and its live descendants (Linux /proc)."""
    parent = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    parent[int(d)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += [c for c, p in parent.items() if p == pid]
    return out


def pause(pids: list[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass

class GcPauses:
    """The client's garbage collections from now until :meth:`stop`: how many of each generation, the longest."""

    def __init__(self):
        import gc

        self.t0, self.by_gen = 0.0, {}
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict) -> None:
        if phase == "start":
            self.t0 = time.perf_counter()
        else:
            n, longest = self.by_gen.get(info["generation"], (0, 0.0))
            self.by_gen[info["generation"]] = (n + 1, max(longest, time.perf_counter() - self.t0))

    def stop(self) -> None:
        import gc

        gc.callbacks.remove(self._callback)

    def __str__(self) -> str:
        return ", ".join(f"generation {g}: {n} (longest {1000 * t:.2f} ms)"
                         for g, (n, t) in sorted(self.by_gen.items())) or "none"


def quantile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, round(q * (len(sorted_values) - 1)))]


def start_sortingview(work: str, url: str, name: str = "sv"):
    """sortingview's backend on ``url`` (its configuration in ``work/name``), 4 workers for the ``misc`` tasks."""
    import yaml

    from sortingview.backend.plugins import load_task_modules

    tasks = os.path.join(work, "svbench_tasks.py")
    if not os.path.exists(tasks):
        with open(tasks, "w") as f:
            f.write(SV_TASKS)
        load_task_modules([tasks])
    os.makedirs(os.path.join(work, name), exist_ok=True)
    cfg = os.path.join(work, name, "backend.yaml")
    with open(cfg, "w") as f:
        yaml.safe_dump({"task_modules": [tasks], "channel_url": url,
                        "job_handlers": {"misc": {"type": "parallel", "params": {"num_workers": 4}}}}, f)
    return subprocess.Popen([sys.executable, "-c", "from sortingview.cli.backend_cmds import start_backend; "
                             "start_backend()", "--no-server", "--config", cfg],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_huey(work: str, url: str):
    env = dict(os.environ, HUEYBENCH_KIND="redis", HUEYBENCH_TARGET=url,
               PYTHONPATH=os.pathsep.join([work, os.environ.get("PYTHONPATH", "")]))
    with open(os.path.join(work, "hueybench.py"), "w") as f:
        f.write(HUEY_TASKS)
    os.environ.update(HUEYBENCH_KIND="redis", HUEYBENCH_TARGET=url)
    sys.path.insert(0, work)
    consumer = ("import hueybench; hueybench.huey.create_consumer(workers=4, worker_type='process', "
                "initial_delay=0.001, backoff=1.15, max_delay=0.01).run()")
    return subprocess.Popen([sys.executable, "-c", consumer], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trips", type=int, default=10_000, help="round trips of each side")
    ap.add_argument("--block", type=int, default=50, help="round trips in a row of one side")
    ap.add_argument("--together", action="store_true",
                    help="keep both consumers running (by default the one not measured is stopped, SIGSTOP)")
    ap.add_argument("--breakdown", action="store_true", help="split our slowest round trips at the channel's times")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="bench_latency_")
    os.environ["KACHERY_CLOUD_DIR"] = os.path.join(work, "store")
    redis_proc, base = start_redis(work)
    sv_proc = huey_proc = None
    try:
        sv_proc = start_sortingview(work, f"{base}/0")
        huey_proc = start_huey(work, f"{base}/1")
        import hueybench

        from sortingview.backend.channel import open_channel
        from sortingview.backend.client import submit_task

        chan = open_channel("default", f"{base}/0")
        last: list[str] = []

        def ours(i: int):
            h = submit_task("svbench.echo.1", {"i": i}, channel=chan)
            last[:] = [h.job_id]
            return h.wait(120)

        poll(lambda: True if chan.live_backends() else None, "the backend to start")
        sides = {
            "ours": lambda i: ours(i),
            "huey poll": lambda i: poll(lambda r=hueybench.noop(i): r.get(blocking=False), "a huey result"),
            "huey block": lambda i: hueybench.noop(i).get(blocking=True, timeout=120),
        }
        for trip in sides.values():  # warm up: connections, and every worker process started
            for i in range(50):
                trip(i)
        for h in [submit_task("svbench.echo.1", {"i": 10**6 + i}, channel=chan) for i in range(200)]:
            h.wait(120)
        trees = {"ours": tree(sv_proc.pid), "huey": tree(huey_proc.pid)}
        load0 = os.getloadavg()[0]
        pauses = GcPauses()
        lat, slow = measure_paired(sides, trees, last, args)
        pauses.stop()
        print(f"{args.trips} round trips each, blocks of {args.block}, "
              f"{'both consumers running' if args.together else 'the other consumer stopped'}, load {load0:.1f} -> "
              f"{os.getloadavg()[0]:.1f}; ms:")
        table = {name: [1000 * quantile(sorted(v), q) for q in QUANTILES] for name, v in lat.items()}
        table["huey best"] = [min(a, b) for a, b in zip(table["huey poll"], table["huey block"], strict=True)]
        print(f"{'':<12}" + "".join(f"{f'p{100 * q:g}':>9}" for q in QUANTILES))
        for name, row in table.items():
            print(f"{name:<12}" + "".join(f"{x:>9.3f}" for x in row))
        print(f"garbage collections in this client while measuring: {pauses}")
        ratios = [h / o for h, o in zip(table["huey best"], table["ours"], strict=True)]
        print(f"{'huey/ours':<12}" + "".join(f"{x:>8.2f}x" for x in ratios) + "   (> 1: ours faster)")
        if args.breakdown:
            breakdown(chan, sorted(slow, reverse=True)[:max(10, args.trips // 100)])
    finally:
        for p in (sv_proc, huey_proc):
            if p is not None:
                for pid in tree(p.pid):
                    pause([pid], signal.SIGCONT)
                p.terminate()
                p.wait(60)
        redis_proc.terminate()
        redis_proc.wait(10)


def measure_paired(sides: dict, trees: dict[str, list[int]], last: list[str], args):
    """Each side's round trips in alternating blocks, the other consumer stopped unless ``args.together``;
    returns the seconds of each side's round trips, and ours as (seconds, job id, wall clock at submit)."""
    lat: dict[str, list[float]] = {name: [] for name in sides}
    slow: list[tuple[float, str, float, int]] = []  # our round trips: (seconds, job id, wall clock at submit)
    names = list(sides)
    for b in range(0, args.trips, args.block):
        order = names if (b // args.block) % 2 == 0 else names[::-1]
        for name in order:
            trip = sides[name]
            idle = "huey" if name == "ours" else "ours"
            if not args.together:  # the other consumer stopped, as if it were not there
                pause(trees[idle], signal.SIGSTOP)
                pause(trees[name.split()[0]], signal.SIGCONT)
                for _ in range(2):  # untimed: the resumed processes settle (both sides alike)
                    trip(b)
            for i in range(b, min(b + args.block, args.trips)):
                w0, t0 = time.time(), time.perf_counter()
                trip(10**7 + i)
                dt = time.perf_counter() - t0
                lat[name].append(dt)
                if name == "ours":
                    slow.append((dt, last[0], w0, i - b))
    for pids in trees.values():
        pause(pids, signal.SIGCONT)
    return lat, slow


def breakdown(chan, slow: list[tuple[float, str, float, int]]) -> None:
    """Where the slowest round trips spent their time, from the job records' server-side timestamps."""
    print("slowest round trips of ours, ms: submit->queued, ->claimed, ->ended, ->seen (total; the worker)")
    for dt, job_id, w0, k in slow:
        rec = chan.get(job_id)
        if rec is None or rec.finished is None:
            print(f"  {1000 * dt:.2f}: record gone")
            continue
        steps = [rec.submitted - w0, rec.started - rec.submitted, rec.finished - rec.started,
                 w0 + dt - rec.finished]
        print(f"  {1000 * dt:7.2f}: " + " ".join(f"{1000 * s:6.2f}" for s in steps)
              + f"  ({rec.worker}, #{k} of its block)")


if __name__ == "__main__":
    main()
