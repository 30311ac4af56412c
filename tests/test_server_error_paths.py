"""HTTP error answers never reveal the server's store directory (doc/security.md): the message names "the store"
instead, and the server log keeps the full text."""
from __future__ import annotations

import logging

from test_server_support import http, running_server

from sortingview import store

MISSING = "sha1://" + "ab" * 20


def test_figure_and_task_errors_never_contain_the_store_directory(store_dir, caplog):
    directory = store.store_dir()
    with caplog.at_level(logging.WARNING), running_server(inline=True) as srv:
        st_fig, fig = http(f"{srv.url}/api/figure?d={MISSING}")
        st_task, task = http(f"{srv.url}/api/task", body={
            "taskName": "sortingview.sorting_info.1", "taskInput": {"sorting": MISSING}, "waitSec": 20})
        st_page, page = http(f"{srv.url}/view?d={MISSING}")
    assert st_fig == 404 and "not in the store" in fig["error"], fig
    answers = [fig, task, page]
    assert st_page == 404 and "not in the store" in task["error"], task
    for body in answers:
        text = body.decode(errors="replace") if isinstance(body, bytes) else str(body)
        assert directory not in text, text
    # the full message, with the directory, is in the server log
    assert any(directory in r.getMessage() for r in caplog.records), [r.getMessage() for r in caplog.records]


def test_redact_store_leaves_other_text_alone(store_dir):
    from sortingview.server.http import redact_store

    d = store.store_dir()
    assert redact_store(f"{MISSING} is not in the store at {d}; store it") == f"{MISSING} is not in the store; store it"
    assert redact_store(f"open {d}/sha1/ab failed") == "open the store/sha1/ab failed"
    assert redact_store("unit 3 has no spikes") == "unit 3 has no spikes"
