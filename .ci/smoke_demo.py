"""CI smoke run of the README's first command in a fresh environment: start
``sortingview-start-backend --demo --port <free port>``, wait (bounded) for the link it prints, then run every
registered task once on the demo data through the server's HTTP API, and stop the server. The server gets an
import folder and one importer, the user ``smoke`` this script adds, whose token goes with every task request:
over HTTP, only a signed-in importer may start ``sortingview.run_sorter.1``.

Run it with the Python of a virtual environment where sortingview was installed exactly as the README says
(``pip install -e .``, no extras), so that a runtime import missing from ``install_requires`` fails here:

    /tmp/venv/bin/python .ci/smoke_demo.py

The task list comes from the registry of that installation; inputs come from the demo's figure data
(recording, sorting, unit ids) and its workspace (the ground-truth sorting). A task with a required input
this script cannot derive fails with a message that names it. Only the standard library talks HTTP.
"""
from __future__ import annotations

import argparse
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

START_TIMEOUT_S = 420  # the first start generates the demo data (about a minute on a laptop)
TASK_TIMEOUT_S = 240
LINK_PREFIX = "demo workspace: "


class SmokeFailure(Exception):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pump(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def start_server(port: int, log_path: str, import_folder: str) -> tuple[subprocess.Popen, str]:
    """Start the demo server from this environment (the user ``smoke`` may import); return it and the demo link
    once printed."""
    exe = os.path.join(os.path.dirname(sys.executable), "sortingview-start-backend")
    log = open(log_path, "w")
    proc = subprocess.Popen([exe, "--demo", "--port", str(port), "--import-folder", import_folder,
                             "--importers", "smoke"], stdout=subprocess.PIPE, stderr=log, text=True,
                            start_new_session=True)  # its own process group: the worker pools stop with it
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1.0)
        except queue.Empty:
            continue
        if line is None:
            break
        if line.startswith(LINK_PREFIX):
            return proc, line[len(LINK_PREFIX):].strip()
    stop_server(proc)
    why = f"exited with code {proc.returncode}" if proc.returncode not in (None, -signal.SIGTERM) else \
        f"printed no '{LINK_PREFIX}...' line within {START_TIMEOUT_S} s"
    last = [line for line in _tail(log_path).splitlines() if line.strip()][-1:]
    raise SmokeFailure(f"sortingview-start-backend --demo {why}" + (f": {last[0].strip()}" if last else ""))


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _tail(path: str, n: int = 25) -> str:
    with open(path, errors="replace") as f:
        return "".join(f.readlines()[-n:])


def http_json(url: str, body: dict | None = None, timeout: float = 60.0, token: str | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} if data else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        body = exc.read()[:2000].decode(errors="replace")
        raise SmokeFailure(f"{req.get_method()} {url} answered {exc.code}: {body}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise SmokeFailure(f"{req.get_method()} {url} failed: {exc}") from None


def demo_inputs(base: str, link: str) -> dict:
    """Values for the task inputs this script knows how to fill, from the demo's figure data."""
    d = urllib.parse.parse_qs(urllib.parse.urlparse(link).query)["d"][0]
    fig = http_json(f"{base}/api/figure?d={urllib.parse.quote(d, safe='')}")
    units = fig["unitIds"]
    if len(units) < 2:
        raise SmokeFailure(f"the demo figure data has {len(units)} units; the smoke needs at least 2")
    import sortingview as sv

    W = sv.load_workspace(fig["workspaceUri"])
    truth = [s["sortingUri"] for s in W.sorting_records() if s["sortingLabel"] == "ground truth"]
    fs = fig.get("samplingFrequency") or 30000
    from sortingview.tasks.sorting import sorting_task_input

    # the sorter that needs no extra (k-means clustering; hdbscan comes with sortingview[sorters])
    sorter = sorting_task_input(fig["recordingUri"], "simple",
                                {"clusterer": "kmeans", "clusterer_kwargs": {"n_clusters": 8, "random_state": 0}})
    return {"sorterName": sorter["sorterName"], "params": sorter["params"], "sorterVersion": sorter["sorterVersion"],
            "sortings": [fig["sortingUri"], truth[0] if truth else fig["sortingUri"]],
            "recording": fig["recordingUri"], "sorting": fig["sortingUri"], "unitIds": units[:3],
            "unitId": units[0], "unitId1": units[0], "unitId2": units[1],
            "groundTruthSorting": truth[0] if truth else fig["sortingUri"], "startFrame": 0, "endFrame": int(fs)}


def task_input(spec, known: dict) -> dict:
    """The required inputs of a task (and unitIds, to keep the run short), or a failure naming what is missing."""
    out, missing = {}, []
    for name, p in spec.parameters.items():
        required = p.default is p.empty
        if name in known and (required or name == "unitIds"):
            out[name] = known[name]
        elif required:
            missing.append(name)
    if missing:
        raise SmokeFailure(f"task {spec.name} needs input(s) {', '.join(missing)} that .ci/smoke_demo.py cannot "
                           "derive from the demo; teach demo_inputs() how")
    return out


def run_task(base: str, name: str, inputs: dict, token: str) -> float:
    t0 = time.monotonic()
    st = http_json(f"{base}/api/task", {"taskName": name, "taskInput": inputs, "waitSec": 20}, token=token)
    while st.get("status") not in ("finished", "error"):
        if time.monotonic() - t0 > TASK_TIMEOUT_S:
            raise SmokeFailure(f"task {name} is still {st.get('status')!r} after {TASK_TIMEOUT_S} s")
        st = http_json(f"{base}/api/task/{st['jobId']}?wait=20", token=token)
    if st["status"] == "error":
        raise SmokeFailure(f"task {name} failed: {st.get('error')}\n{st.get('traceback') or ''}")
    if not isinstance(st.get("result"), dict):
        raise SmokeFailure(f"task {name} finished without a result object: {str(st)[:500]}")
    return time.monotonic() - t0


def check_sorter_needs_sign_in(base: str, known: dict) -> None:
    """Without a token, the task API refuses to start a spike sorter (401)."""
    from sortingview.tasks import get_task

    inputs = task_input(get_task("sortingview.run_sorter.1"), known)
    try:
        http_json(f"{base}/api/task", {"taskName": "sortingview.run_sorter.1", "taskInput": inputs, "waitSec": 0})
    except SmokeFailure as exc:
        if "answered 401" in str(exc):
            return
        raise
    raise SmokeFailure("the server started sortingview.run_sorter.1 for a request without a token; only a "
                       "signed-in importer may")


def run_all_tasks(base: str, link: str, token: str) -> None:
    from sortingview.tasks import list_tasks

    known = demo_inputs(base, link)
    check_sorter_needs_sign_in(base, known)
    specs = list_tasks()
    for i, spec in enumerate(specs, 1):
        secs = run_task(base, spec.name, task_input(spec, known), token)
        print(f"smoke: [{i}/{len(specs)}] {spec.name} ok ({secs:.1f} s)", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0, help="server port [a free one]")
    args = ap.parse_args()
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="sv-smoke-") as tmp:
        os.environ["KACHERY_CLOUD_DIR"] = os.path.join(tmp, "store")  # the server inherits it
        os.environ.pop("SORTINGVIEW_URL", None)
        port = args.port or free_port()
        log_path = os.path.join(tmp, "backend.log")
        import_folder = os.path.join(tmp, "import")
        os.makedirs(import_folder)
        from sortingview.server.auth import UserStore, users_file

        token = UserStore(users_file()).add_user("smoke")  # in the store the server is about to use
        try:
            proc, link = start_server(port, log_path, import_folder)
            if not link.startswith(f"http://127.0.0.1:{port}/f?"):
                stop_server(proc)
                raise SmokeFailure(f"the demo link {link} does not name the server started on port {port}")
            print(f"smoke: server up after {time.monotonic() - t0:.0f} s: {link}", flush=True)
            try:
                run_all_tasks(f"http://127.0.0.1:{port}", link, token)
            finally:
                stop_server(proc)
        except SmokeFailure as exc:
            print(f"smoke: FAILED: {exc}", file=sys.stderr)
            if os.path.exists(log_path):
                print(f"smoke: backend log (last lines):\n{_tail(log_path)}", file=sys.stderr)
            return 1
    print(f"smoke: every task ran on the demo in {time.monotonic() - t0:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
