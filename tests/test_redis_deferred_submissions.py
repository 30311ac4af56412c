"""Submissions on Redis do not wait for their answer (backend/channel/redis_wire.py), yet none is lost: not when
the submitting process exits right after submitting, not when the server lacks the submit script, and a job is
queued before the submitter makes another call (real redis-server, real processes)."""
from __future__ import annotations

import os
import subprocess
import sys
import time

from sortingview.backend.channel import open_channel

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SUBMIT_THEN = """
import sys, time
from sortingview.backend.channel import open_channel
from sortingview.backend.client import submit_task
chan = open_channel(sys.argv[1], sys.argv[2])
for i in range(int(sys.argv[3])):
    submit_task("sortingview.recording_info.1", {"recording": "sha1://%040x" % (1000 + i)}, channel=chan)
print("submitted", flush=True)
time.sleep(float(sys.argv[4]))  # 0: exit at once, with every answer unread
"""


def _submitter(channel: str, url: str, n: int, sleep_s: float) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": REPO + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen([sys.executable, "-c", SUBMIT_THEN, channel, url, str(n), str(sleep_s)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _queued(channel) -> int:
    return channel.stats()["queued"].get("misc", 0)


def test_a_process_that_submits_and_exits_at_once_loses_no_job(store_dir, redis_url):
    import redis

    redis.Redis.from_url(redis_url).script_flush()  # as a new or restarted server: no script loaded
    proc = _submitter("deferred-exit", redis_url, 300, 0)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and "submitted" in out, err
    assert _queued(open_channel("deferred-exit", redis_url)) == 300


def test_a_job_is_queued_before_the_submitter_calls_again(store_dir, redis_url):
    import redis

    redis.Redis.from_url(redis_url).script_flush()
    proc = _submitter("deferred-idle", redis_url, 3, 60)
    try:
        assert proc.stdout.readline().strip() == "submitted"
        channel = open_channel("deferred-idle", redis_url)
        deadline = time.monotonic() + 10
        while _queued(channel) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)  # another process's submissions: nothing to await but the queue itself
        assert _queued(channel) == 3, "the submitter is idle, and its jobs must already be queued"
    finally:
        proc.kill()
        proc.wait(10)
