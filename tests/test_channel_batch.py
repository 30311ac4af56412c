"""A self-claiming worker's batch on Redis: several outcomes recorded, the rest given back, a fair share claimed,
and the wait for the next job in the same round trip (real redis-server)."""
from __future__ import annotations

import threading
import time

import pytest
from backend_tasks import start_backend_process
from test_channel import req
from test_redis_workers import _config, procs  # noqa: F401  (the fixture that kills the started backends)

from sortingview.backend.channel import open_channel
from sortingview.backend.client import submit_task
from sortingview.errors import ChannelError


def _tokens_match_queue(channel, admin) -> bool:
    """Never more wake tokens than queued jobs (a spare one costs an empty claim; none missing here)."""
    return admin.llen(channel.prefix + "w::misc") == admin.llen(channel.prefix + "q::misc")


def test_end_many_records_gives_back_and_claims_at_most_a_fair_share(redis_url):
    import redis

    channel = open_channel("batch", redis_url)
    admin = redis.Redis.from_url(redis_url)
    for i in range(20):
        channel.submit(req(f"j{i}"))
    held = [r.job_id for r in channel.claim("w", {"misc": 3})]
    assert held == ["j0", "j1", "j2"]
    accepted, claimed, queued = channel.end_many_and_claim(
        "w", [("j0", '{"r": 0}', None, None), ("j1", None, "ValueError: bad", "tb"), ("j9", "{}", None, None)],
        ["j2"], "misc", 8, share=4)
    assert accepted == [True, True, False]  # j9 was never this worker's
    assert channel.get("j0").status == "finished" and channel.get("j0").result == '{"r": 0}'
    assert channel.get("j1").status == "error" and channel.get("j1").error == "ValueError: bad"
    given_back = channel.get("j2")
    assert given_back.status == "running" and given_back.attempts == 1  # given back uncounted, then re-claimed
    # 18 queued after the give-back: a quarter of them (rounded up) for one of 4 workers, the given-back job first
    assert [r.job_id for r in claimed] == ["j2", "j3", "j4", "j5", "j6"] and queued == 13
    assert all(r.status == "running" and r.worker == "w" for r in claimed)
    assert _tokens_match_queue(channel, admin)
    # a short queue still gives one job to a worker that asked for several; nothing wanted, nothing taken
    ended = [(r.job_id, None, None, None) for r in claimed]
    assert channel.end_many_and_claim("w", ended, [], "misc", 0, share=4) == ([True] * 5, [], 13)
    for _ in range(12):
        channel.claim("other", {"misc": 1})
    _, claimed, queued = channel.end_many_and_claim("w", [], [], "misc", 8, share=4)
    assert [r.job_id for r in claimed] == ["j19"] and queued == 0
    assert _tokens_match_queue(channel, admin)


def test_end_many_with_a_wait_records_first_then_takes_the_next_submission(redis_url):
    channel = open_channel("batch-wait", redis_url)
    client = open_channel("batch-wait", redis_url + "?client_name=client")  # another process's connections
    channel.submit(req("a"))
    channel.claim("w", {"misc": 1})
    seen = []

    def on_ended(accepted):
        seen.append((accepted, client.get("a").status))  # recorded before the wait, visible to everyone

    threading.Timer(0.3, lambda: client.submit(req("b"))).start()
    t0 = time.monotonic()
    accepted, claimed, _ = channel.end_many_and_claim("w", [("a", '{"r": 1}', None, None)], [], "misc", 8,
                                                      wait=5.0, on_ended=on_ended)
    assert seen == [([True], "finished")] and accepted == [True]
    assert [r.job_id for r in claimed] == ["b"] and time.monotonic() - t0 < 4  # woken by the submission
    # nothing queued: the wait ends empty-handed after its timeout, and the outcome is still recorded
    accepted, claimed, _ = channel.end_many_and_claim("w", [("b", None, "RuntimeError: x", None)], [], "misc", 1,
                                                      wait=0.2)
    assert (accepted, claimed) == ([True], []) and channel.get("b").status == "error"


def test_end_many_reloads_its_script_after_a_server_restart(redis_url):
    import redis

    channel = open_channel("batch-noscript", redis_url)
    for i in range(3):
        channel.submit(req(f"j{i}"))
    channel.claim("w", {"misc": 1})
    redis.Redis.from_url(redis_url).script_flush()
    accepted, claimed, _ = channel.end_many_and_claim("w", [("j0", "{}", None, None)], [], "misc", 1, wait=1.0)
    assert accepted == [True] and [r.job_id for r in claimed] == ["j1"]
    assert channel.get("j0").status == "finished"
    assert sorted(r.job_id for r in channel.running_jobs()) == ["j1"]  # each ran exactly once
    assert channel.get("j2").status == "queued"


@pytest.mark.slow
def test_workers_take_short_jobs_in_batches_and_finish_every_one(store_dir, tmp_path, procs, redis_url):  # noqa: F811
    chan = open_channel("default", redis_url)
    handles = [submit_task("svtest.add.1", {"a": i, "b": 2}, channel=chan) for i in range(400)]
    procs.append(start_backend_process(_config(tmp_path, redis_url), log_path=tmp_path / "log"))
    assert [h.wait(timeout=60)["sum"] for h in handles] == [i + 2 for i in range(400)]
    records = [chan.get(h.job_id) for h in handles]
    assert all(r.status == "finished" and r.attempts == 1 for r in records)  # none run twice, none given up
    # jobs claimed together share their start (one script, one clock reading) and their worker
    claims = {}
    for r in records:
        claims.setdefault((r.worker, r.started), []).append(r.job_id)
    assert max(len(ids) for ids in claims.values()) > 1
    assert len({r.worker for r in records}) == 2  # and the burst was shared


def test_a_deferred_submission_is_answered_with_the_next_call_and_survives_lost_scripts(redis_url):
    import redis

    channel = open_channel("deferred", redis_url)
    admin = redis.Redis.from_url(redis_url)
    channel.submit_nowait(req("first"))  # a script's first command on a connection runs at once (loads it)
    assert not channel.wire._local.deferred and channel.queue_length("misc") == 1
    channel.submit_nowait(req("a"))
    assert len(channel.wire._local.deferred) == 1  # sent, its answer not read yet
    assert channel.get("a").status == "queued" and not channel.wire._local.deferred  # read with the get
    channel.submit_nowait(req("b"))
    assert channel.stats()["queued"] == {"misc": 3}  # other calls read the answers first, so they see the job
    admin.script_flush()  # as after a server restart: the deferred submission meets NOSCRIPT
    channel.submit_nowait(req("c"))
    assert channel.get("c").status == "queued"  # loaded and submitted again, then read
    assert [r.job_id for r in channel.claim("w", {"misc": 5})] == ["first", "a", "b", "c"]  # each queued once
    with pytest.raises(ChannelError, match="cannot reach the Redis channel"):  # an outage is told at once
        open_channel("deferred", "redis://127.0.0.1:1/0").submit_nowait(req("d"))


def test_deferred_submissions_are_bounded_and_resent_after_a_dropped_connection(redis_url):
    import redis

    from sortingview.backend.channel.redis_wire import MAX_DEFERRED

    channel = open_channel("deferred-many", redis_url)
    admin = redis.Redis.from_url(redis_url)
    for i in range(MAX_DEFERRED + 10):
        channel.submit_nowait(req(f"j{i}"))
        assert len(channel.wire._local.deferred) <= MAX_DEFERRED
    [client_id] = channel.wire.call(("CLIENT", "ID"))
    channel.submit_nowait(req("late"))
    admin.client_kill_filter(_id=client_id)  # dropped with an answer unread: the submission goes out again
    assert channel.get("late").status == "queued"
    assert channel.queue_length("misc") == MAX_DEFERRED + 11  # every job queued, none twice


@pytest.mark.slow
def test_a_job_that_hangs_inside_a_batch_is_the_one_timed_out_and_the_rest_finish(store_dir, redis_url):
    import batch_tasks  # noqa: F401  (registers the query task here too)
    from test_handlers import run_backend

    from sortingview.errors import TaskError

    chan = open_channel("default", redis_url)
    before = [submit_task("svtest.echo_or_hang.1", {"i": i}, channel=chan) for i in range(40)]
    hung = submit_task("svtest.echo_or_hang.1", {"i": -1, "hangSec": 30}, channel=chan)
    after = [submit_task("svtest.echo_or_hang.1", {"i": 100 + i}, channel=chan) for i in range(40)]
    t0 = time.monotonic()
    run_backend(channel_url=redis_url, task_modules=("backend_tasks", "batch_tasks"),
                job_handlers={"misc": {"num_workers": 1, "timeout_s": 1.0}})
    assert time.monotonic() - t0 < 25  # the hung job was stopped at its own timeout, not waited out
    with pytest.raises(TaskError, match="TaskTimeoutError"):
        hung.wait(1)
    # the jobs of its batch (it is rarely the first of one), run before it or not yet, are not blamed for it
    assert [h.wait(1)["i"] for h in before + after] == list(range(40)) + [100 + i for i in range(40)]
    assert chan.stats()["running"] == {} and chan.stats()["queued"] == {}
