"""Where the running server is, so that links made by scripts point to it.

``sortingview-start-backend`` records the URL of the HTTP server it started in
``<store>/sortingview/server.json`` (``{url, pid, hostname, started}``, written atomically) and removes the
record when it stops. :func:`live_server_url` returns the recorded URL while that process is alive on this
host, and None otherwise (no record, a record left by a server that was killed, or one written on another
host that shares the store). ``default_base_url()`` in ``workspace/figurl.py`` puts it after
``$SORTINGVIEW_URL`` and before the default address.
"""
from __future__ import annotations

import json
import os
import socket
import time

from .store import get_store
from .store._fs import atomic_write

RECORD_NAME = "server.json"


def record_path() -> str | None:
    """``<store>/sortingview/server.json``, or None for a store without a directory (in memory)."""
    directory = get_store().directory
    return os.path.join(directory, "sortingview", RECORD_NAME) if directory else None


def record_server(url: str) -> str | None:
    """Record that this process serves ``url``; returns the record's path."""
    path = record_path()
    if path is not None:
        record = {"url": url, "pid": os.getpid(), "hostname": socket.gethostname(), "started": time.time()}
        atomic_write(path, json.dumps(record).encode())
    return path


def forget_server() -> None:
    """Remove the record if this process wrote it (another server may have replaced it since)."""
    path = record_path()
    record = _read(path)
    if record is not None and record.get("pid") == os.getpid():
        try:
            os.remove(path)
        except FileNotFoundError:
            pass


def live_server_url() -> str | None:
    """The recorded server URL if its process is alive on this host, else None."""
    record = _read(record_path())
    if record is None or record.get("hostname") != socket.gethostname():
        return None
    url, pid = record.get("url"), record.get("pid")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")) or not isinstance(pid, int):
        return None
    return url.rstrip("/") if _alive(pid) else None


def _read(path: str | None) -> dict | None:
    if path is None:
        return None
    try:
        with open(path, "rb") as f:
            record = json.loads(f.read(65536))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)  # signal 0: only checks that the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, run by another user of a shared store
    try:
        with open(f"/proc/{pid}/stat") as f:  # Linux: a killed server not yet reaped by its parent is a zombie
            return f.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except (OSError, IndexError):
        return True
