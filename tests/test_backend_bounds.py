"""Resource bounds of workers and the queue: memory limits, jobs nobody serves, bounded errors, config values."""
from __future__ import annotations

import math
from dataclasses import replace

import backend_tasks  # noqa: F401  (registers the svtest.* tasks)
import pytest

from sortingview.backend.channel import TaskRequest, open_channel
from sortingview.backend.channel.base import MAX_ERROR_CHARS, backend_id_digest
from sortingview.backend.client import submit_task
from sortingview.backend.config import DEFAULT_MEMORY_LIMIT_GB, load_config
from sortingview.backend.daemon import Backend
from sortingview.backend.jobstatus import JobStatus
from sortingview.errors import ConfigError


def backend(misc: dict | None = None, **top) -> Backend:
    cfg = load_config(env={}, overrides={"task_modules": ("backend_tasks",), "lease_s": 5.0, **top})
    cfg = replace(cfg, handlers=tuple(replace(h, **(misc or {})) if h.name == "misc" else h for h in cfg.handlers))
    return Backend(cfg)


def test_a_job_over_the_memory_limit_fails_clearly_and_its_worker_is_replaced(store_dir):
    big = submit_task("svtest.allocate.1", {"gigabytes": 3.0})
    after = submit_task("svtest.add.1", {"a": 2, "b": 3})
    b = backend({"num_workers": 1, "memory_limit_gb": 1.5})
    b.run(burst=True)
    st = big.status()
    assert st.status == JobStatus.ERROR
    assert "MemoryError" in st.error and "1.5 GB limit" in st.error and "job_handlers.misc.memory_limit_gb" in st.error
    assert open_channel().get(big.job_id).attempts == 1  # a clear failure, not a retried "lost" job
    res = after.wait(1)
    assert res["sum"] == 5 and open_channel().get(after.job_id).attempts == 1  # handed to a fresh worker
    small = submit_task("svtest.allocate.1", {"gigabytes": 0.25})
    b2 = backend({"num_workers": 1, "memory_limit_gb": 1.5})
    b2.run(burst=True)
    assert small.wait(1)["bytes"] == 2**28


def test_memory_limit_defaults_to_4_gb_and_0_means_none(tmp_path):
    assert load_config(env={}).handler("waveforms").memory_limit_gb == DEFAULT_MEMORY_LIMIT_GB == 4.0
    cfg = tmp_path / "c.yaml"
    cfg.write_text("job_handlers:\n  misc: {memory_limit_gb: 0}\n  clusters: {memory_limit_gb: 8}\n")
    c = load_config(str(cfg), env={})
    assert (c.handler("misc").memory_limit_gb, c.handler("clusters").memory_limit_gb) == (0, 8)


@pytest.mark.parametrize("text, key", [
    ("job_handlers:\n  misc: {timeout_s: .nan}\n", "job_handlers.misc.timeout_s"),
    ("job_handlers:\n  misc: {memory_limit_gb: .inf}\n", "job_handlers.misc.memory_limit_gb"),
    ("job_handlers:\n  misc: {memory_limit_gb: -1}\n", "job_handlers.misc.memory_limit_gb"),
    ("lease_s: .inf\n", "lease_s"),
    ("unserved_expiry_s: .nan\n", "unserved_expiry_s"),
    ("port: 70000\n", "port"),
    ("port: 0\n", "port"),
])
def test_non_finite_or_out_of_range_values_are_refused_naming_the_key(tmp_path, text, key):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")) as err:
        load_config(str(cfg), env={})
    assert str(cfg) in str(err.value)


def test_a_config_file_that_is_not_utf8_is_a_config_error(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_bytes(b"channel: caf\xe9\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(str(cfg), env={})


def test_a_port_out_of_range_from_the_command_line_is_refused():
    with pytest.raises(ConfigError, match="--port"):
        load_config(env={}, overrides={"port": 99999})
    assert not math.isnan(load_config(env={}, overrides={"port": 8080}).port)


def test_jobs_for_a_backend_id_nobody_serves_expire_with_a_clear_error(store_dir):
    orphan = submit_task("svtest.add.1", {"a": 1}, backend_id="nobody-runs-me")
    served = submit_task("svtest.add.1", {"a": 2}, backend_id="lab")
    plain = submit_task("svtest.add.1", {"a": 3})
    chan = open_channel()
    chan.put_backend("other-host:1", {"backendIdDigest": backend_id_digest("lab")})
    for job_id in (orphan.job_id, served.job_id, plain.job_id):  # as if queued two hours ago
        chan._tx().__enter__().execute("UPDATE jobs SET submitted = submitted - 7200 WHERE job_id = ?", (job_id,))
        chan._db().execute("COMMIT")
    b = backend(unserved_expiry_s=3600.0)
    b.run(burst=True)  # serves jobs without a backend id, and expires what nobody serves
    st = orphan.status()
    assert st.status == JobStatus.ERROR and "BackendUnavailableError" in st.error and "--backend-id" in st.error
    assert served.status().status == JobStatus.QUEUED  # a live backend serves "lab": it stays
    assert plain.wait(1)["sum"] == 3


def test_a_huge_traceback_is_stored_cut_to_a_bound(store_dir):
    chan = open_channel()
    chan.submit(TaskRequest("j" * 40, "svtest.fail.1", "calculation", "misc", {"message": "x"}))
    chan.claim("w", {"misc": 1})
    chan.fail("w", "j" * 40, "E" * 10**6, "T" * 10**6)
    rec = chan.get("j" * 40)
    assert len(rec.error) < MAX_ERROR_CHARS + 100 and len(rec.traceback) < MAX_ERROR_CHARS + 100
    assert rec.traceback.startswith("T") and rec.traceback.endswith("T") and "characters cut" in rec.traceback


def test_a_dask_job_over_the_memory_limit_fails_naming_the_limit_and_the_worker_is_restarted(store_dir):
    pytest.importorskip("distributed")
    import dask

    big = submit_task("svtest.allocate.1", {"gigabytes": 3.0})
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        b = backend({"type": "dask", "num_workers": 1, "memory_limit_gb": 0.75, "max_attempts": 1})
        b.run(burst=True)
    st = big.status()
    assert st.status == JobStatus.ERROR
    assert "KilledWorker" in st.error and "0.75 GB limit" in st.error, st.error
    assert "job_handlers.misc.memory_limit_gb" in st.error
    small = submit_task("svtest.add.1", {"a": 1, "b": 1})  # the handler still serves the next job
    b2 = backend({"type": "dask", "num_workers": 1, "memory_limit_gb": 0.75})
    b2.run(burst=True)
    assert small.wait(1)["sum"] == 2
