"""The import page's sorter jobs survive a server restart (real ``sortingview-start-backend`` processes), a
queued job can be cancelled by a signed-in importer (API and the page's button in Chromium), a running one is
stopped by its backend, an ended one cannot be cancelled, and a job queued before a restart is watched again
and added to its workspace when it ends."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time

from conftest import free_port
from test_browser_support import backend_process, checked_page, chromium_browser
from test_server_support import http


@contextlib.contextmanager
def server_only(workdir: str, *extra: str, config: str | None = None):
    """``sortingview-start-backend --no-workers`` (the HTTP server, nobody claims jobs), or with workers as
    ``config`` says; yields its URL."""
    port = free_port()
    log = open(os.path.join(workdir, f"server-{port}.log"), "w")
    workers = ("--config", config) if config else ("--no-workers",)
    proc = subprocess.Popen([shutil.which("sortingview-start-backend"), "--port", str(port), *workers, *extra],
                            stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy())
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, open(log.name).read()[-3000:]
            try:
                if http(f"{url}/api/import/config", timeout=5)[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, open(log.name).read()[-3000:]
            time.sleep(0.2)  # a process starting up: nothing to await but its port
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        log.close()


def _jobs(url: str, token: str) -> dict:
    status, body = http(f"{url}/api/import/jobs", headers={"Authorization": f"Bearer {token}"})
    assert status == 200, body
    return {j["jobId"]: j for j in body["jobs"]}


def _sign_in(pg, url: str, token: str) -> None:
    """Open the import page and sign in with ``token``, as an importer does."""
    pg.goto(f"{url}/import")
    pg.fill("#im-token", token)
    pg.click("#im-signin-btn")


@contextlib.contextmanager
def _sorting_server(tmp_path, folder: str, handler: str, seconds: float, num_channels: int, num_units: int,
                    seed: int):
    """A server whose import folder holds one generated recording, ``folder``, and whose sorting handler is
    ``handler`` (YAML), with alice as importer; yields (URL, alice's token, her auth header)."""
    from spikeinterface.core import generate_ground_truth_recording

    from sortingview.server.auth import UserStore, users_file

    root = tmp_path / "import"
    root.mkdir()
    rec, _ = generate_ground_truth_recording(durations=[seconds], num_channels=num_channels, num_units=num_units,
                                             seed=seed)
    rec.save(folder=str(root / folder), verbose=False)
    alice = UserStore(users_file()).add_user("alice")
    config = tmp_path / "handlers.yaml"
    config.write_text(f"job_handlers:\n  sorting: {handler}\n")
    with server_only(str(tmp_path), "--import-folder", str(root), "--importers", "alice", config=str(config)) as url:
        yield url, alice, {"Authorization": f"Bearer {alice}"}


def _running_sort(url: str, token: str, folder: str) -> tuple[str, str, dict]:
    """A new workspace with the import folder's ``folder``, sorted by tridesclous2 from the import page's API;
    (workspace URI, recording id, the job) once the job is running."""
    auth = {"Authorization": f"Bearer {token}"}
    ws = http(f"{url}/api/import/workspace", body={"label": folder}, headers=auth)[1]["workspaceUri"]
    rid = http(f"{url}/api/import/recording", body={"workspaceUri": ws, "path": folder},
               headers=auth)[1]["recordingId"]
    status, body = http(f"{url}/api/import/sort", headers=auth, body={
        "workspaceUri": ws, "recordingIds": [rid], "sorters": {"tridesclous2": {}}})
    assert status == 200, body
    [job] = body["jobs"]
    deadline = time.monotonic() + 120
    while _jobs(url, token)[job["jobId"]]["status"] != "running":
        assert time.monotonic() < deadline, _jobs(url, token)
        time.sleep(0.2)  # the page polls the same way
    return ws, rid, job


def test_jobs_survive_restarts_and_queued_ones_cancel(store_dir, tmp_path, chromium_path):
    from spikeinterface.core import generate_ground_truth_recording

    from sortingview.backend.client import get_task_status
    from sortingview.server.auth import UserStore, users_file
    from sortingview.workspace import load_workspace

    root = tmp_path / "import"
    root.mkdir()
    rec, _ = generate_ground_truth_recording(durations=[5.0], num_channels=4, num_units=3, seed=8)
    rec.save(folder=str(root / "session1"), verbose=False)
    users = UserStore(users_file())
    alice, bob = users.add_user("alice"), users.add_user("bob")
    auth = {"Authorization": f"Bearer {alice}"}
    opts = ("--import-folder", str(root), "--importers", "alice")
    with server_only(str(tmp_path), *opts) as url:
        ws = http(f"{url}/api/import/workspace", body={"label": "restarts"}, headers=auth)[1]["workspaceUri"]
        rid = http(f"{url}/api/import/recording", body={"workspaceUri": ws, "path": "session1"},
                   headers=auth)[1]["recordingId"]
        status, body = http(f"{url}/api/import/sort", headers=auth, body={
            "workspaceUri": ws, "recordingIds": [rid],
            "sorters": {"simple": {}, "tridesclous2": {}, "spykingcircus2": {}}})
        assert status == 200, body
        simple, tdc2, sc2 = (j["jobId"] for j in body["jobs"])
        assert {j["status"] for j in _jobs(url, alice).values()} == {"queued"}
    files = sorted(f for f in os.listdir(store_dir / "sortingview") if f.startswith("import_jobs-"))
    assert files[0].endswith(".json") and files[1:] == [files[0] + ".lock"]  # the list, and its lock file

    with server_only(str(tmp_path), *opts) as url:  # a new server process: the list is back
        jobs = _jobs(url, alice)
        assert set(jobs) == {simple, tdc2, sc2} and {j["status"] for j in jobs.values()} == {"queued"}
        assert jobs[simple]["sorter"] == "simple" and jobs[simple]["user"] == "alice"
        assert http(f"{url}/api/import/cancel", body={"jobId": tdc2}, headers={"Authorization": f"Bearer {bob}"}
                    )[0] == 403
        assert http(f"{url}/api/import/cancel", body={"jobId": "0" * 40}, headers=auth)[0] == 404
        status, body = http(f"{url}/api/import/cancel", body={"jobId": tdc2}, headers=auth)
        assert status == 200 and body["job"]["status"] == "cancelled" and body["job"]["cancelledBy"] == "alice"
        st = get_task_status(tdc2, channel=jobs[tdc2]["channel"])
        assert st.status == "error" and "cancelled from the import page by alice" in st.error
        status, body = http(f"{url}/api/import/cancel", body={"jobId": tdc2}, headers=auth)
        assert status == 409 and "already ended (cancelled)" in body["error"]
        with chromium_browser(chromium_path) as browser, checked_page(browser) as pg:  # the page's button
            _sign_in(pg, url, alice)
            pg.wait_for_selector(f"tr.im-job[data-job-id='{sc2}'][data-status=queued] button.im-cancel")
            assert not pg.query_selector(f"tr.im-job[data-job-id='{tdc2}'] button.im-cancel")
            pg.click(f"tr.im-job[data-job-id='{sc2}'] button.im-cancel")
            pg.wait_for_selector(f"tr.im-job[data-job-id='{sc2}'][data-status=cancelled]")
            assert pg.text_content("#im-message") == ""

    # a backend with workers: the job queued before the restarts runs, and is watched and added to the workspace
    with backend_process(str(tmp_path), *opts) as url:
        deadline = time.monotonic() + 300
        while (jobs := _jobs(url, alice))[simple]["status"] not in ("done", "failed"):
            assert time.monotonic() < deadline, jobs[simple]
            time.sleep(0.5)  # the page polls the same way
        assert jobs[simple]["status"] == "done", jobs[simple]["error"]
        assert jobs[tdc2]["status"] == jobs[sc2]["status"] == "cancelled"
        status, body = http(f"{url}/api/import/cancel", body={"jobId": simple}, headers=auth)
        assert status == 409 and "already ended (done)" in body["error"]
    W = load_workspace(ws)
    labels = [W.get_sorting_record(s)["sortingLabel"] for s in W.get_sorting_ids_for_recording(rid)]
    assert labels == ["simple default"] and jobs[simple]["sortingId"] in W.get_sorting_ids_for_recording(rid)
    with open(store_dir / "sortingview" / files[0]) as f:
        assert {j["jobId"]: j["status"] for j in json.load(f)} == {simple: "done", tdc2: "cancelled", sc2: "cancelled"}


def test_a_running_sorter_job_is_stopped_from_the_page(store_dir, tmp_path, chromium_path):
    """The page's cancel button on a running job: the backend kills the sorter's worker within seconds and the
    job shows as cancelled, not failed; the sorting handler then takes the next job."""
    from sortingview.backend.client import get_task_status

    # long enough that tridesclous2 runs for about 30 s: the button is pressed while it runs
    with _sorting_server(tmp_path, "long", "{type: parallel, params: {num_workers: 1}}", 150.0, 32, 20,
                         3) as (url, alice, auth):
        _, _, job = _running_sort(url, alice, "long")
        assert _jobs(url, alice)[job["jobId"]]["stoppable"] is True  # a parallel handler kills its worker
        with chromium_browser(chromium_path) as browser, checked_page(browser) as pg:
            _sign_in(pg, url, alice)
            row = f"tr.im-job[data-job-id='{job['jobId']}']"
            pg.click(f"{row}[data-status=running] button.im-cancel")
            t0 = time.monotonic()
            pg.wait_for_selector(f"{row}[data-status=cancelled]", timeout=30_000)
            assert time.monotonic() - t0 < 20 and pg.text_content("#im-message") == ""
        st = get_task_status(job["jobId"], channel=_jobs(url, alice)[job["jobId"]]["channel"])
        assert st.status == "error" and "cancelled from the import page by alice" in st.error
        assert _jobs(url, alice)[job["jobId"]]["stopRequestedBy"] == "alice"
        status, body = http(f"{url}/api/import/cancel", body={"jobId": job["jobId"]}, headers=auth)
        assert status == 409 and "already ended (cancelled)" in body["error"]


def test_the_job_file_is_bounded_and_a_damaged_one_starts_empty(tmp_path):
    from sortingview.server.import_jobs import MAX_ERROR_CHARS, MAX_JOBS, JobBook

    path = str(tmp_path / "sv" / "import_jobs-x.json")
    book = JobBook(path)
    jobs = [{"jobId": f"j{i}", "status": "queued"} for i in range(MAX_JOBS + 10)]
    for j in jobs[:MAX_JOBS]:
        book.add(j)
    book.update(jobs[7], status="failed", error="x" * (10 * MAX_ERROR_CHARS))
    assert len(jobs[7]["error"]) == MAX_ERROR_CHARS
    assert not book.update(jobs[7], status="running")  # an ended job stays as it ended
    book.add(jobs[MAX_JOBS])
    ids = [j["jobId"] for j in JobBook(path).jobs]
    assert len(ids) == MAX_JOBS and "j7" not in ids and ids[:2] == ["j0", "j1"]  # the ended job went first
    for j in jobs[MAX_JOBS + 1:]:
        book.add(j)
    ids = [j["jobId"] for j in JobBook(path).jobs]
    assert len(ids) == MAX_JOBS and ids[0] == "j10" and ids[-1] == f"j{MAX_JOBS + 9}"  # then the oldest
    with open(path, "w") as f:
        f.write("{not json")
    assert JobBook(path).jobs == []


def test_only_signed_in_importers_start_a_sorter_through_the_task_api(store_dir, tmp_path):
    from test_server_support import running_server

    from sortingview.server.auth import UserStore, users_file

    users = UserStore(users_file())
    alice, bob = users.add_user("alice"), users.add_user("bob")
    task = {"taskName": "sortingview.run_sorter.1", "taskInput": {"recording": "sha1://" + "0" * 40}, "waitSec": 0}
    with running_server(inline=True, import_folder=str(tmp_path), importers="alice") as srv:
        status, body = http(f"{srv.url}/api/task", body=task)
        assert status == 401 and "runs a spike sorter" in body["error"] and "sign in" in body["error"]
        status, body = http(f"{srv.url}/api/task", body=task, headers={"Authorization": f"Bearer {bob}"})
        assert status == 403 and "may not import" in body["error"]
        # alice gets past the check: what stops this request is its missing inputs
        status, body = http(f"{srv.url}/api/task", body=task, headers={"Authorization": f"Bearer {alice}"})
        assert status == 400 and "sorterName" in body["error"]
        status, body = http(f"{srv.url}/api/task", body={"taskName": "sortingview.backend_status.1", "taskInput": {}})
        assert status == 200 and body["status"] == "finished"  # other tasks need no sign-in
    with running_server(inline=True) as srv:  # no import folder: nobody starts sorters over HTTP
        status, body = http(f"{srv.url}/api/task", body=task, headers={"Authorization": f"Bearer {alice}"})
        assert status == 403 and "no import folder" in body["error"]


TWO_SERVERS = """
import sys, time
from sortingview.server.import_jobs import JobBook
path, me, ends = sys.argv[1:4]
book = JobBook(path)
for i in range(40):  # jobs of its own, added while the other server adds its own
    book.add({"jobId": f"{me}-{i}", "status": "queued"})
shared = [book.find(f"both-{i}") for i in range(15)]
for job in shared:  # both watch the same jobs and see them end: each end is recorded by one of them only
    def end(job=job):
        with open(ends, "a") as f:
            f.write(job["jobId"] + "\\n")
        return {"status": "done", "sortingId": me}
    book.finish(job, end)
    book.update(job, status="running")  # too late: an ended job stays as it ended
print(sum(1 for j in shared if j["status"] == "done"))
"""


def test_two_servers_on_one_job_list_lose_nothing_and_end_each_job_once(tmp_path):
    import subprocess
    import sys

    from sortingview.server.import_jobs import JobBook

    path, ends = str(tmp_path / "sv" / "import_jobs-x.json"), str(tmp_path / "ends.txt")
    book = JobBook(path)
    for i in range(15):
        book.add({"jobId": f"both-{i}", "status": "queued"})
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")])}
    procs = [subprocess.Popen([sys.executable, "-c", TWO_SERVERS, path, me, ends], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for me in ("a", "b")]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
    assert [int(o[0]) for o in outs] == [15, 15]  # each saw every shared job done, by whichever ended it
    with open(ends) as f:
        ended = f.read().split()
    assert sorted(ended) == sorted(f"both-{i}" for i in range(15))  # each end ran once, not twice
    jobs = {j["jobId"]: j for j in JobBook(path).jobs}
    assert set(jobs) == {f"both-{i}" for i in range(15)} | {f"{me}-{i}" for me in "ab" for i in range(40)}
    assert all(jobs[f"both-{i}"]["status"] == "done" and jobs[f"both-{i}"]["sortingId"] in "ab" for i in range(15))
    book.update(book.find("a-3"), status="running")  # this process's book sees the others' changes too
    assert JobBook(path).find("a-3")["status"] == "running" and book.find("b-39")["status"] == "queued"


def test_a_stop_asked_of_a_handler_that_cannot_stop_still_keeps_the_sorting_out(store_dir, tmp_path, chromium_path):
    """An inline sorting handler cannot interrupt a running sorter: it runs to its end, and the job still ends
    cancelled, with nothing added to the workspace, as the importer asked."""
    from sortingview.workspace import load_workspace

    with _sorting_server(tmp_path, "s", "{type: inline}", 60.0, 16, 10, 5) as (url, alice, auth):
        ws, rid, job = _running_sort(url, alice, "s")
        status, body = http(f"{url}/api/import/cancel", body={"jobId": job["jobId"]}, headers=auth)
        assert status == 200 and body["job"]["stopRequestedBy"] == "alice", body
        assert body["job"]["status"] == "running"  # asked, not stopped: the inline handler cannot
        listed = _jobs(url, alice)[job["jobId"]]
        assert listed["status"] == "running" and listed["stoppable"] is False, listed
        with chromium_browser(chromium_path) as browser, checked_page(browser) as pg:  # what the page says
            _sign_in(pg, url, alice)
            row = f"tr.im-job[data-job-id='{job['jobId']}'][data-status=running]"
            pg.wait_for_selector(f"{row} .im-stopping")
            assert "cannot be stopped" in pg.text_content(f"{row} .im-stopping")
            assert not pg.query_selector(f"{row} button.im-cancel")
        deadline = time.monotonic() + 300
        while (ended := _jobs(url, alice)[job["jobId"]])["status"] == "running":
            assert time.monotonic() < deadline, ended
            time.sleep(0.5)
    assert ended["status"] == "cancelled" and ended["cancelledBy"] == "alice", ended
    assert "ran to its end" in ended["error"] and "not added" in ended["error"]
    assert ended.get("sortingId") is None and ended.get("url") is None
    assert load_workspace(ws).get_sorting_ids_for_recording(rid) == []
