"""Following a workspace of another server: time to open it, bytes to open its view, curation round trips.

    python bench/bench_remote_workspace.py                    # 64 channels, 60 s, 20 units x 200 spikes
    python bench/bench_remote_workspace.py --channels 384 --units 100

Server A (a real ``sortingview-start-backend --private`` process) owns a workspace with an int16 recording
(linked in place) and a sorting. This process is B, with an empty store and only A's URL and a reader's token.
Reported, end to end as a user of B gets them:

* follow: ``sv.load_workspace(uri, peer=A, token=T)`` on a fresh store (reads the workspace feed), median;
* open a view: ``W.spikesortingview(...)`` on that store (fetches the recording and sorting objects, verified),
  and the bytes of B's store afterwards;
* average waveforms from the followed workspace, computed in B on lazily read chunks: bytes against the file;
* curation write: ``W.apply_curation_action`` (sent to A with the token, A appends, B reads it back), median;
* live follow: a curation write made on A (HTTP) until B's ``RemoteFeed.wait_for_records`` returns it, median.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))


def make_home(workdir: str, channels: int, seconds: float, units: int, spikes: int) -> dict:
    """Store A: the workspace, a reader/curator ``lab-b`` and its token."""
    from bench_sharing import make_site_a

    import sortingview as sv
    from sortingview.extractors import load_recording, load_sorting
    from sortingview.server.auth import UserStore, users_file

    os.environ["KACHERY_CLOUD_DIR"] = a_store = os.path.join(workdir, "store-a")
    site = make_site_a(workdir, channels, seconds, units, spikes, 7.0, 2.34375)  # bench_sharing's default signal
    W = sv.create_workspace(label="bench home")
    rid = W.add_recording(label="rec", recording=load_recording(site["recording"]))
    sid = W.add_sorting(recording_id=rid, label="srt", sorting=load_sorting(site["sorting"]))
    W.set_readers(["lab-b"])
    W.set_sorting_curation_authorized_users(sid, ["lab-b"])
    token = UserStore(users_file(a_store)).add_user("lab-b")
    return {**site, "store": a_store, "uri": W.uri, "rid": rid, "sid": sid, "token": token,
            "unit": W.get_unit_ids(sid)[0]}


def fresh_b(workdir: str, name: str) -> None:
    from sortingview.tasks import _objects

    os.environ["KACHERY_CLOUD_DIR"] = os.path.join(workdir, name)
    _objects.load_recording.cache_clear()
    _objects.load_sorting.cache_clear()


def store_bytes(path: str) -> int:
    return sum(os.path.getsize(os.path.join(r, f)) for r, _, files in os.walk(os.path.join(path, "sha1"))
               for f in files)


def post(url: str, body: dict, token: str) -> None:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        resp.read()


def measure(home: dict, a_url: str, workdir: str, repeats: int) -> list[tuple[str, str]]:
    import sortingview as sv
    from sortingview.store.remote_binary import STATS
    from sortingview.tasks import run_task_inline

    rows = []
    follow = []
    for i in range(repeats):
        fresh_b(workdir, f"store-b-follow-{i}")
        t0 = time.perf_counter()
        sv.load_workspace(home["uri"], peer=a_url, token=home["token"])
        follow.append(time.perf_counter() - t0)
    rows.append(("follow (fresh store)", f"median {1000 * statistics.median(follow):.1f} ms"))
    fresh_b(workdir, "store-b")
    W = sv.load_workspace(home["uri"], peer=a_url, token=home["token"])
    t0 = time.perf_counter()
    W.spikesortingview(recording_id=home["rid"], sorting_id=home["sid"], label="bench", base_url="http://b")
    rows.append(("open a view (figure data, objects)", f"{1000 * (time.perf_counter() - t0):.0f} ms, "
                 f"{store_bytes(os.environ['KACHERY_CLOUD_DIR']):,d} bytes in B's store"))
    b0, w0, t0 = STATS.raw_bytes, STATS.bytes_received, time.perf_counter()
    run_task_inline("sortingview.average_waveforms.1", {"recording": home["recording"], "sorting": home["sorting"]},
                    use_cache=False)
    got, wire = STATS.raw_bytes - b0, STATS.bytes_received - w0
    rows.append(("average waveforms (computed in B)", f"{time.perf_counter() - t0:.2f} s, {got:,d} bytes of the file "
                 f"= {100 * got / home['size']:.2f}% of the {home['size'] / 1e6:.0f} MB file, received compressed "
                 f"in {wire:,d} bytes = {100 * wire / home['size']:.2f}%"))
    writes = []
    for i in range(2 * repeats):
        kind = "ADD_UNIT_LABEL" if i % 2 == 0 else "REMOVE_UNIT_LABEL"
        t0 = time.perf_counter()
        W.apply_curation_action(home["sid"], {"type": kind, "unitId": home["unit"], "label": "noise"})
        writes.append(time.perf_counter() - t0)
    rows.append(("curation write from B (to A and back)", f"median {1000 * statistics.median(writes):.1f} ms"))
    rows.append(("live follow (write on A -> seen in B)", live_follow(home, a_url, W, repeats)))
    return rows


def live_follow(home: dict, a_url: str, W, repeats: int) -> str:
    feed = W.get_curation_feed_for_sorting(home["sid"])
    delays = []
    for i in range(repeats):
        n = len(feed.get_records(fresh=True))
        seen: list[float] = []
        waiter = threading.Thread(target=lambda n=n, seen=seen: (feed.wait_for_records(n, 20),
                                                                 seen.append(time.perf_counter())))
        waiter.start()
        time.sleep(0.2)  # the follower is waiting on A before the write (what is measured is the push)
        kind = "ADD_UNIT_LABEL" if i % 2 == 0 else "REMOVE_UNIT_LABEL"
        t0 = time.perf_counter()
        post(f"{a_url}/api/curation", {"workspace": home["uri"], "sortingId": home["sid"],
                                       "action": {"type": kind, "unitId": home["unit"], "label": "mua"}},
             home["token"])
        waiter.join(30)
        delays.append(seen[0] - t0)
    return f"median {1000 * statistics.median(delays):.1f} ms"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--channels", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--units", type=int, default=20)
    ap.add_argument("--spikes", type=int, default=200, help="spikes per unit")
    ap.add_argument("--repeats", type=int, default=10)
    args = ap.parse_args()
    workdir = tempfile.mkdtemp(prefix="bench-remote-ws-")
    try:
        home = make_home(workdir, args.channels, args.seconds, args.units, args.spikes)
        from sharing_support import server_process

        with server_process(home["store"], workdir, args=("--private",)) as a_url:
            rows = measure(home, a_url, workdir, args.repeats)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"\n{args.channels} channels, {args.seconds:g} s, {args.units} units x {args.spikes} spikes; "
          f"A --private on loopback, B in this process; load average {os.getloadavg()}\n")
    for label, value in rows:
        print(f"{label:42} {value}")


if __name__ == "__main__":
    main()
