"""The backend as a real process: SIGKILLed workers and backends, SIGTERM, two backends sharing Redis."""
from __future__ import annotations

import signal

import pytest
from backend_tasks import backend_alive, start_backend_process, wait_until, write_config
from kill_scenarios import backend_killed_mid_task, worker_killed_mid_task

from sortingview.backend.channel import open_channel
from sortingview.backend.client import get_task_status, submit_task

pytestmark = pytest.mark.slow


@pytest.fixture
def procs():
    started = []
    yield started
    for p in started:
        if p.poll() is None:
            p.kill()
            p.wait(10)


def _finished(handles) -> bool:
    return all(h.status().status in ("finished", "error") for h in handles)


def test_a_worker_killed_mid_task_is_replaced_and_the_task_finishes(store_dir, tmp_path, procs):
    cfg = write_config(tmp_path / "b.yaml", job_handlers={"misc": {"type": "parallel", "params": {"num_workers": 2}}})
    worker_killed_mid_task(open_channel(), cfg, tmp_path, procs)


def test_a_backend_killed_with_tasks_queued_and_running_finishes_them_after_restart(store_dir, tmp_path, procs):
    cfg = write_config(tmp_path / "b.yaml", lease_s=1,
                       job_handlers={"misc": {"type": "parallel", "params": {"num_workers": 2}}})
    backend_killed_mid_task(open_channel(), cfg, tmp_path, procs, check_stats=True)


def test_sigterm_lets_running_tasks_finish_and_leaves_the_queue_alone(store_dir, tmp_path, procs):
    cfg = write_config(tmp_path / "b.yaml", job_handlers={"misc": {"type": "parallel", "params": {"num_workers": 2}}})
    handles = [submit_task("svtest.sleep.1", {"seconds": 0.5, "tag": str(i)}) for i in range(6)]
    chan = open_channel()
    proc = start_backend_process(cfg, log_path=tmp_path / "log")
    procs.append(proc)
    wait_until(lambda: len(chan.running_jobs()) == 2, what="two running tasks")
    running = [r.job_id for r in chan.running_jobs()]
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    assert all(get_task_status(j).status == "finished" for j in running)
    assert sum(h.status().status == "queued" for h in handles) == 4
    assert chan.live_backends() == {}, "a stopped backend removes its heartbeat"


def test_sigterm_after_the_grace_period_releases_running_tasks(store_dir, tmp_path, procs):
    cfg = write_config(tmp_path / "b.yaml", grace_s=0.2,
                       job_handlers={"misc": {"type": "parallel", "params": {"num_workers": 2}}})
    handles = [submit_task("svtest.sleep.1", {"seconds": 60, "tag": str(i)}) for i in range(2)]
    chan = open_channel()
    proc = start_backend_process(cfg, log_path=tmp_path / "log")
    procs.append(proc)
    wait_until(lambda: len(chan.running_jobs()) == 2, what="two running tasks")
    proc.send_signal(signal.SIGINT)
    assert proc.wait(30) == 0
    for h in handles:
        rec = chan.get(h.job_id)
        assert (rec.status, rec.attempts, rec.worker) == ("queued", 0, None)
    assert "released" in (tmp_path / "log").read_text()


def test_two_backends_share_a_redis_channel_and_one_finishes_when_the_other_is_killed(
        store_dir, tmp_path, procs, redis_url):
    cfg = write_config(tmp_path / "b.yaml", lease_s=1, channel_url=redis_url,
                       job_handlers={"misc": {"type": "parallel", "params": {"num_workers": 2}}})
    chan = open_channel("default", redis_url)
    handles = [submit_task("svtest.add.1", {"a": i, "b": 3, "sleepSec": 0.01}, channel=chan) for i in range(240)]
    a = start_backend_process(cfg, log_path=tmp_path / "log_a")
    b = start_backend_process(cfg, log_path=tmp_path / "log_b")
    procs += [a, b]
    wait_until(lambda: backend_alive(chan, a.pid) and backend_alive(chan, b.pid), what="both backends")

    def both_working():
        workers = {r.worker for r in chan.running_jobs()}
        return len({w.split(":")[1] for w in workers if w}) == 2

    wait_until(both_working, what="both backends running tasks")
    a.send_signal(signal.SIGKILL)
    a.wait(10)
    assert [h.wait(timeout=90)["sum"] for h in handles] == [i + 3 for i in range(240)]
    by = {chan.get(h.job_id).worker.split(":")[1] for h in handles}
    assert by == {str(a.pid), str(b.pid)} or by == {str(b.pid)}
    assert str(b.pid) in by
    assert any(chan.get(h.job_id).worker.split(":")[1] == str(b.pid) and chan.get(h.job_id).attempts == 2
               for h in handles), "the killed backend's running tasks were taken over"


def test_a_bad_config_fails_at_start_up_naming_the_key_and_the_file(store_dir, tmp_path):
    cfg = write_config(tmp_path / "bad.yaml", job_handlers={"misc": {"type": "parallel", "params": {"workers": 2}}})
    proc = start_backend_process(cfg, log_path=tmp_path / "log")
    assert proc.wait(60) == 1
    out = (tmp_path / "log").read_text()
    assert "job_handlers.misc.params.workers" in out and str(tmp_path / "bad.yaml") in out
    assert "Traceback" not in out


def test_start_backend_with_its_http_server_answers_tasks_and_stops_on_sigterm(store_dir, tmp_path, procs):
    import json
    import subprocess
    import sys
    import urllib.request

    from backend_tasks import backend_env
    from conftest import free_port

    cfg = write_config(tmp_path / "b.yaml", job_handlers={"misc": {"type": "parallel", "params": {"num_workers": 1}}})
    port = free_port()
    cmd = [sys.executable, "-c", "from sortingview.cli.backend_cmds import start_backend; start_backend()",
           "--config", cfg, "--port", str(port)]
    log = open(tmp_path / "log", "w")
    proc = subprocess.Popen(cmd, env=backend_env(), stdout=log, stderr=subprocess.STDOUT)
    procs.append(proc)
    chan = open_channel()
    wait_until(lambda: backend_alive(chan, proc.pid), what="the backend")
    body = json.dumps({"taskName": "svtest.add.1", "taskInput": {"a": 20, "b": 22}, "waitSec": 20}).encode()

    def post():
        try:
            req = urllib.request.Request(f"http://127.0.0.1:{port}/api/task", data=body,
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=30) as resp:
                return json.loads(resp.read())
        except OSError:
            return None

    answer = wait_until(post, what="the HTTP server")
    assert answer["status"] == "finished" and answer["result"]["sum"] == 42
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    assert f"127.0.0.1:{port}" in (tmp_path / "log").read_text()


def test_demo_prints_a_figurl_on_the_server_it_started(store_dir, tmp_path, procs):
    import subprocess
    import sys

    from backend_tasks import backend_env
    from conftest import free_port

    port = free_port()
    cmd = [sys.executable, "-c", "from sortingview.cli.backend_cmds import start_backend; start_backend()",
           "--no-workers", "--demo", "--port", str(port)]
    env = backend_env()
    env.pop("SORTINGVIEW_URL", None)
    proc = subprocess.Popen(cmd, env=env, stdout=open(tmp_path / "out", "w"), stderr=subprocess.STDOUT)
    procs.append(proc)
    prefix = f"demo workspace: http://127.0.0.1:{port}/f?v=spikesortingview-1&d=sha1://"
    wait_until(lambda: prefix in (tmp_path / "out").read_text(), timeout=120, what="the demo figURL")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
