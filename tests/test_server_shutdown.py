"""A server whose loop wake-up pipe was closed under it (a descriptor closed elsewhere in the process) still
shuts down, says so in the log, and frees its thread and port."""
from __future__ import annotations

import logging
import os
import socket
import threading

from test_server_support import http

from sortingview.server.serve import create_server


def test_shutdown_survives_a_closed_wake_up_pipe(store_dir, caplog):
    srv = create_server("127.0.0.1", 0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    assert http(f"{srv.url}/api/backend-status")[0] == 200
    os.close(srv._server.trigger.trigger)  # the write end of waitress's wake-up pipe, as a stray close would
    with caplog.at_level(logging.WARNING, logger="sortingview.server.serve"):
        srv.shutdown(timeout=10)
    thread.join(10)
    assert not thread.is_alive(), "the server loop did not return"
    assert "wake-up pipe was closed" in caplog.text
    with socket.socket() as s:  # the port is free again: nothing listens
        assert s.connect_ex(("127.0.0.1", int(srv.port))) != 0
