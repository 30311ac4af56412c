"""One conformance suite for every channel implementation (SQLite in the store directory, and Redis)."""
from __future__ import annotations

import threading
import time

import pytest

from sortingview.backend.channel import TaskRequest, open_channel
from sortingview.backend.jobstatus import JobStatus
from sortingview.errors import ChannelError, NotFoundError, TaskTimeoutError


@pytest.fixture(params=["sqlite", "redis"])
def channel(request, store_dir):
    if request.param == "sqlite":
        return open_channel("conformance")
    url = request.getfixturevalue("redis_url")
    return open_channel("conformance", url)


def req(job_id: str, handler: str = "misc", backend_id: str = "", task_type: str = "calculation") -> TaskRequest:
    return TaskRequest(job_id, "svtest.add.1", task_type, handler, {"a": 1, "b": job_id}, backend_id)


def test_submit_then_claim_runs_queued_running_finished(channel):
    rec = channel.submit(req("j1"))
    assert rec.status == "queued" and rec.attempts == 0
    [claimed] = channel.claim("w1", {"misc": 5})
    assert (claimed.job_id, claimed.status, claimed.worker, claimed.attempts) == ("j1", "running", "w1", 1)
    assert claimed.task_input == {"a": 1, "b": "j1"}
    assert channel.finish("w1", "j1", '{"x": 1}')
    done = channel.get("j1")
    assert done.status == "finished" and done.result == '{"x": 1}' and done.finished >= done.started


def test_a_request_for_a_queued_or_running_job_joins_it(channel):
    channel.submit(req("j1"))
    channel.submit(req("j1"))
    assert channel.stats()["queued"] == {"misc": 1}
    assert len(channel.claim("w1", {"misc": 5})) == 1
    again = channel.submit(req("j1"))
    assert again.status == "running" and again.worker == "w1"
    assert channel.claim("w2", {"misc": 5}) == []


def test_a_failed_job_is_queued_afresh_when_requested_again(channel):
    channel.submit(req("j1"))
    channel.claim("w1", {"misc": 1})
    assert channel.fail("w1", "j1", "ValueError: bad", "Traceback ...")
    rec = channel.get("j1")
    assert (rec.status, rec.error, rec.traceback) == ("error", "ValueError: bad", "Traceback ...")
    assert channel.submit(req("j1")).status == "queued"
    assert channel.get("j1").error is None


def test_claim_is_oldest_first_limited_per_handler_and_by_backend_id(channel):
    for i in range(5):
        channel.submit(req(f"m{i}"))
    channel.submit(req("c0", handler="correlograms"))
    channel.submit(req("s0", backend_id="secret"))
    got = channel.claim("w", {"misc": 3, "correlograms": 0})
    assert [r.job_id for r in got] == ["m0", "m1", "m2"]
    assert [r.job_id for r in channel.claim("w", {"correlograms": 2})] == ["c0"]
    assert [r.job_id for r in channel.claim("w", {"misc": 10})] == ["m3", "m4"]
    assert [r.job_id for r in channel.claim("w", {"misc": 10}, backend_id="secret")] == ["s0"]


def test_only_the_lease_holder_can_finish_fail_or_release(channel):
    channel.submit(req("j1"))
    channel.claim("w1", {"misc": 1})
    assert not channel.finish("w2", "j1", None)
    assert not channel.fail("w2", "j1", "nope")
    assert not channel.release("w2", "j1")
    assert channel.heartbeat("w2", ["j1"]) == []
    assert channel.heartbeat("w1", ["j1", "unknown"]) == ["j1"]
    assert channel.get("j1").status == "running"


def test_an_expired_lease_is_claimed_again_with_one_more_attempt(channel):
    channel.submit(req("j1"))
    channel.claim("dead", {"misc": 1}, lease_s=0.05)
    assert channel.claim("w2", {"misc": 1}) == []
    time.sleep(0.1)  # the lease has to run out on the channel's clock
    [again] = channel.claim("w2", {"misc": 1})
    assert (again.worker, again.attempts) == ("w2", 2)
    assert not channel.finish("dead", "j1")  # the dead worker lost the job for good
    assert channel.finish("w2", "j1")


def test_heartbeat_keeps_a_lease_alive(channel):
    channel.submit(req("j1"))
    channel.claim("w1", {"misc": 1}, lease_s=0.2)
    for _ in range(3):
        time.sleep(0.1)
        assert channel.heartbeat("w1", ["j1"], lease_s=0.2) == ["j1"]
    assert channel.claim("w2", {"misc": 1}) == []


def test_release_puts_the_job_back_first_in_line(channel):
    channel.submit(req("j1"))
    channel.submit(req("j2"))
    channel.claim("w1", {"misc": 1})
    assert channel.release("w1", "j1")
    rec = channel.get("j1")
    assert (rec.status, rec.attempts, rec.worker) == ("queued", 0, None)
    assert [r.job_id for r in channel.claim("w2", {"misc": 1})] == ["j1"]
    assert channel.release("w2", "j1", count_attempt=True)
    assert channel.get("j1").attempts == 1


def test_wait_returns_when_another_thread_finishes(channel):
    channel.submit(req("j1"))

    def work():
        [job] = channel.claim("w1", {"misc": 1})
        channel.finish("w1", job.job_id, "42")

    t = threading.Timer(0.05, work)
    t.start()
    rec = channel.wait("j1", timeout=10)
    t.join()
    assert (rec.status, rec.result) == ("finished", "42")


def test_wait_times_out_and_unknown_jobs_are_not_found(channel):
    channel.submit(req("j1"))
    with pytest.raises(TaskTimeoutError, match="still queued"):
        channel.wait("j1", timeout=0.05)
    with pytest.raises(NotFoundError, match="not in channel"):
        channel.wait("nope", timeout=0.05)
    assert channel.get("nope") is None


def test_stats_and_running_jobs(channel):
    for i in range(3):
        channel.submit(req(f"m{i}"))
    channel.submit(req("w0", handler="waveforms"))
    channel.claim("w1", {"misc": 1})
    channel.claim("w1", {"waveforms": 1})
    [j] = channel.claim("w1", {"misc": 1})
    channel.finish("w1", j.job_id)
    st = channel.stats()
    assert st["queued"] == {"misc": 1}
    assert st["running"] == {"misc": 1, "waveforms": 1}
    assert (st["finished"], st["error"]) == (1, 0)
    assert sorted(r.job_id for r in channel.running_jobs()) == ["m0", "w0"]


def test_backend_heartbeats_are_listed_and_removed(channel):
    channel.put_backend("host:1", {"handlers": {"misc": "inline"}})
    assert channel.live_backends()["host:1"]["handlers"] == {"misc": "inline"}
    channel.put_backend("host:1", None)
    assert channel.live_backends() == {}


def test_prune_forgets_old_finished_jobs_only(channel):
    channel.submit(req("j1"))
    channel.submit(req("j2"))
    channel.claim("w", {"misc": 1})
    channel.finish("w", "j1")
    time.sleep(0.02)
    assert channel.prune(0.0) == 1
    assert channel.get("j1") is None and channel.get("j2").status == "queued"


def test_prune_forgets_failed_jobs_and_their_tracebacks_like_finished_ones(channel):
    channel.submit(req("f1"))
    channel.claim("w", {"misc": 1})
    channel.fail("w", "f1", "ValueError: x", "Traceback " * 1000)
    time.sleep(0.02)
    assert channel.prune(3600.0) == 0 and channel.get("f1").traceback.startswith("Traceback")
    assert channel.prune(0.0) == 1
    assert channel.get("f1") is None and channel.stats()["error"] == 0


def test_jobs_for_a_backend_id_no_live_backend_serves_expire(channel):
    from sortingview.backend.channel.base import backend_id_digest

    channel.submit(req("lonely", backend_id="nobody"))
    channel.submit(req("served", backend_id="lab"))
    channel.submit(req("plain"))
    channel.put_backend("host:1", {"backendIdDigest": backend_id_digest("lab")})
    assert channel.expire_unserved(3600.0) == 0  # too young
    time.sleep(0.05)
    assert [r.job_id for r in channel.stale_queued(channel.now())] == ["lonely", "served"]
    assert channel.expire_unserved(0.01) == 1
    rec = channel.get("lonely")
    assert rec.status == JobStatus.ERROR and "no backend serving this job's backend id" in rec.error
    assert channel.wait("lonely", 1).status == "error"  # waiting clients are woken
    assert channel.get("served").status == "queued" and channel.get("plain").status == "queued"
    assert [r.job_id for r in channel.claim("w", {"misc": 5}, backend_id="nobody")] == []
    assert not channel.expire("served-never-submitted", "x")
    channel.put_backend("host:1", None)
    assert channel.expire_unserved(0.01) == 1 and channel.get("served").status == "error"


def test_statuses_are_one_str_enum(channel):
    channel.submit(req("j1"))
    rec = channel.get("j1")
    assert rec.status is JobStatus.QUEUED and rec.status == "queued" and isinstance(rec.status, str)
    [claimed] = channel.claim("w", {"misc": 1})
    assert claimed.status is JobStatus.RUNNING


def test_many_claimers_never_take_the_same_job_twice(channel):
    n = 200
    for i in range(n):
        channel.submit(req(f"j{i}"))
    taken: list[str] = []
    lock = threading.Lock()

    def claimer(w: str):
        while True:
            got = channel.claim(w, {"misc": 7})
            if not got:
                return
            with lock:
                taken.extend(r.job_id for r in got)

    threads = [threading.Thread(target=claimer, args=(f"w{k}",)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(taken) == sorted(f"j{i}" for i in range(n))


def test_bad_channel_names_and_urls_are_clear_errors(store_dir):
    with pytest.raises(ChannelError, match="channel name"):
        open_channel("../etc")
    with pytest.raises(ChannelError, match="redis://host:port/db"):
        open_channel("x", "http://localhost:1234")
    with pytest.raises(ChannelError, match="cannot reach the Redis channel"):
        open_channel("x", "redis://127.0.0.1:1/0").get("j")


def test_sqlite_channel_lives_in_the_store_directory(store_dir):
    chan = open_channel("lab-a")
    assert chan.path == str(store_dir / "sortingview" / "channels" / "lab-a.sqlite")


def test_wait_for_work_returns_soon_after_a_submission_and_times_out_otherwise(channel):
    channel.claim("w", {"misc": 1})  # what a backend does before it idles
    t0 = time.monotonic()
    channel.wait_for_work(0.05)
    assert time.monotonic() - t0 >= 0.04
    # a second channel object stands for another process (its own connection)
    if channel.url.startswith("sqlite"):
        other = type(channel)(channel.path, channel.name)
    else:
        other = type(channel)(channel.url, channel.name)
    threading.Timer(0.05, lambda: other.submit(req("late"))).start()
    t0 = time.monotonic()
    channel.wait_for_work(5.0)
    assert time.monotonic() - t0 < 2.0
    assert [r.job_id for r in channel.claim("w", {"misc": 1})] == ["late"]


def test_end_and_claim_records_the_outcome_and_takes_the_next_job(channel):
    for i in range(3):
        channel.submit(req(f"j{i}"))
    channel.claim("w", {"misc": 1})
    ok, nxt = channel.end_and_claim("w", "j0", result='{"r": 0}', limits={"misc": 1})
    assert ok and [r.job_id for r in nxt] == ["j1"] and nxt[0].status == "running"
    ok, nxt = channel.end_and_claim("w", "j1", error="ValueError: x", traceback="tb", limits={"misc": 5})
    assert ok and [r.job_id for r in nxt] == ["j2"]
    assert (channel.get("j0").result, channel.get("j1").error, channel.get("j1").traceback) == ('{"r": 0}',
                                                                                               "ValueError: x", "tb")
    ok, nxt = channel.end_and_claim("other", "j2", result=None, limits={"misc": 1})
    assert not ok and nxt == [] and channel.get("j2").status == "running"


def test_a_submission_to_a_queue_with_jobs_in_it_still_reaches_an_idle_backend(channel):
    # only a queue turning non-empty wakes idle backends; a busy backend's own look at the channel covers the rest
    channel.submit(req("first"))
    channel.claim("w", {"misc": 0})  # an idle backend that has looked once
    channel.submit(req("second"))
    assert [r.job_id for r in channel.claim("w", {"misc": 5})] == ["first", "second"]


def test_redis_channel_recovers_when_the_server_forgets_its_scripts_or_drops_the_connection(redis_url):
    import redis

    channel = open_channel("recover", redis_url)
    admin = redis.Redis.from_url(redis_url)
    for i in range(3):
        channel.submit(req(f"j{i}"))
    channel.claim("w", {"misc": 1})
    admin.script_flush()  # as after a server restart: the next script call meets NOSCRIPT
    ok, nxt = channel.end_and_claim("w", "j0", result='{"r": 0}', limits={"misc": 1})
    # the script ran exactly once: one job claimed, none left running without a worker that knows it
    assert ok and [r.job_id for r in nxt] == ["j1"]
    assert sorted(r.job_id for r in channel.running_jobs()) == ["j1"]
    [client_id] = channel.wire.call(("CLIENT", "ID"))
    admin.client_kill_filter(_id=client_id)  # the per-task connection is dropped under it
    assert channel.get("j0").status == "finished"
    ok, nxt = channel.end_and_claim("w", "j1", result=None, limits={"misc": 1})
    assert ok and [r.job_id for r in nxt] == ["j2"]
    assert channel.wait("j1", 5).status == "finished"


def test_redis_wait_needs_no_token_and_prune_removes_it(redis_url):
    import redis

    channel = open_channel("tokens", redis_url)
    admin = redis.Redis.from_url(redis_url)
    channel.submit(req("j"))
    channel.claim("w", {"misc": 1})
    channel.finish("w", "j", '{"r": 1}')
    token = channel.prefix + "done:j"
    assert admin.lrange(token, 0, -1) == [b"1"]
    assert channel.wait("j", 5).result == '{"r": 1}' and admin.llen(token) == 1  # waiting leaves the token
    admin.delete(token)  # a record written before tokens lived as long as their job
    t0 = time.monotonic()
    assert channel.wait("j", 5).status == "finished"
    assert time.monotonic() - t0 < 0.5
    channel.submit(req("k"))
    channel.claim("w", {"misc": 1})
    channel.finish("w", "k")
    assert admin.exists(channel.prefix + "done:k")
    assert channel.prune(-1) == 2
    assert not admin.exists(channel.prefix + "done:k", channel.prefix + "job:k", channel.prefix + "job:j")


def test_a_stop_is_requested_of_running_jobs_only_and_read_by_their_holder(channel):
    channel.submit(req("queued"))
    assert not channel.request_stop("queued", "CancelledError: no"), "a queued job is expired, not stopped"
    [running] = channel.claim("w1", {"misc": 1})
    channel.submit(req("other"))
    channel.claim("w2", {"misc": 1})
    assert channel.stop_requests(["queued", "other", "unknown"]) == {}
    assert channel.request_stop(running.job_id, "CancelledError: by alice")
    assert channel.stop_requests([running.job_id, "other", "unknown"]) == {running.job_id: "CancelledError: by alice"}
    assert channel.stop_requests([]) == {}
    assert channel.fail("w1", running.job_id, "CancelledError: by alice")
    assert channel.stop_requests([running.job_id]) == {}, "an ended job is not asked again"
    assert not channel.request_stop(running.job_id, "x") and not channel.request_stop("never-submitted", "x")
    channel.submit(req(running.job_id))  # asked for again (the same sort, say): a new run, not stopped
    channel.claim("w3", {"misc": 1})
    assert channel.get(running.job_id).status == "running" and channel.stop_requests([running.job_id]) == {}
