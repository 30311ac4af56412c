"""A query task for the batch tests (tests/test_channel_batch.py): no result file, so jobs are short enough for
a worker to take them in batches; ``hangSec`` makes one of them hang."""
from __future__ import annotations

import time

from sortingview.tasks import register_task


@register_task("svtest.echo_or_hang.1", handler="misc", task_type="query")
def echo_or_hang(i: int, hangSec: float = 0) -> dict:
    if hangSec:
        time.sleep(hangSec)
    return {"i": i}
