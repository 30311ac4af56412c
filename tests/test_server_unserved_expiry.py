"""The server started by ``sortingview-start-backend`` expires unserved jobs after the YAML's ``unserved_expiry_s``."""
from __future__ import annotations

import backend_tasks  # noqa: F401  (registers the svtest.* tasks)
import pytest
from conftest import free_port

from sortingview.backend.channel import open_channel
from sortingview.backend.client import submit_task
from sortingview.backend.config import load_config
from sortingview.backend.jobstatus import JobStatus
from sortingview.cli.backend_cmds import _start_server


def _age(job_id: str, seconds: int) -> None:
    chan = open_channel()
    chan._tx().__enter__().execute("UPDATE jobs SET submitted = submitted - ? WHERE job_id = ?", (seconds, job_id))
    chan._db().execute("COMMIT")


@pytest.mark.parametrize("expiry_s, age_s, expired", [(60, 600, True), (86400, 7200, False)])
def test_the_server_uses_the_configs_unserved_expiry(store_dir, tmp_path, expiry_s, age_s, expired):
    # the default (3600 s) would decide both cases the other way round
    cfg_path = tmp_path / "backend.yaml"
    cfg_path.write_text(f"port: {free_port()}\nunserved_expiry_s: {expiry_s}\n")
    cfg = load_config(str(cfg_path))
    server = _start_server(cfg)
    try:
        runner = server.app.config["SV"].runner
        assert runner.unserved_expiry_s == expiry_s
        orphan = submit_task("svtest.add.1", {"a": 1}, backend_id="nobody-runs-me")
        _age(orphan.job_id, age_s)
        runner.submit("svtest.add.1", {"a": 2}, backend_id="nobody-runs-me")  # the server checks on submit
        st = orphan.status()
        if expired:
            assert st.status == JobStatus.ERROR and "BackendUnavailableError" in st.error
        else:
            assert st.status == JobStatus.QUEUED
    finally:
        server.shutdown()
