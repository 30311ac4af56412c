"""Serving the app with waitress: ``create_server(host, port, ...)`` -> object with url/serve_forever/shutdown."""
from __future__ import annotations

import logging
import threading

from waitress import create_server as _waitress_server
from waitress.wasyncore import close_all

from ..backend.channel.base import UNSERVED_EXPIRY_S
from .app import DEFAULT_MAX_QUEUED_PER_CLIENT, create_app

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 15310
log = logging.getLogger(__name__)


#: threads kept free of long-polls, so pages, files and status answer while every viewer waits
RESERVED_THREADS = 8


class SortingviewServer:
    """One HTTP server. ``serve_forever`` blocks; ``shutdown`` (any thread) makes it return."""

    def __init__(self, host: str, port: int, *, threads: int = 48, **app_kwargs):
        if threads < RESERVED_THREADS + 2:
            raise ValueError(f"threads={threads}: the server needs at least {RESERVED_THREADS + 2} (long-polls "
                             f"may hold all but {RESERVED_THREADS})")
        long_polls = threads - RESERVED_THREADS
        self.app = create_app(bind_host=host, max_long_polls=long_polls,
                              max_long_polls_per_client=max(1, long_polls * 3 // 4), **app_kwargs)
        self._ctx = self.app.config["SV"]
        # long-polls hold a thread each, so there are many more threads than cores
        self._server = _waitress_server(self.app, host=host, port=port, threads=threads, ident="sortingview",
                                        channel_timeout=60, clear_untrusted_proxy_headers=True)
        self.host = host
        self.port = self._server.effective_port
        self._stopped = threading.Event()

    @property
    def url(self) -> str:
        host = self.host if self.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        return f"http://{host}:{self.port}"

    def serve_forever(self) -> None:
        log.info("sortingview server at %s", self.url)
        try:
            self._server.run()
        except OSError:
            if not self._ctx.stopping.is_set():
                raise
            # shutdown closed the sockets from its own thread (see shutdown): the loop met them closed
        finally:
            self._stopped.set()

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop accepting, end long-polls, and wait (up to ``timeout``) for serve_forever to return."""
        self._ctx.stopping.set()  # long-polls answer with the status they have
        self._server.task_dispatcher.shutdown(cancel_pending=True, timeout=timeout)
        # closing the sockets must happen on the loop's own thread (the trigger runs it there), after the
        # answers written by the finished requests have been flushed by that same loop
        try:
            self._server.trigger.pull_trigger(lambda: close_all(self._server._map))
        except OSError as exc:
            # the loop's wake-up pipe is gone: a descriptor of this process was closed under the server (seen
            # twice in the test suite at shutdown, cause unknown). Close the sockets from this thread; the loop
            # finds its map empty within its poll timeout (1 s) and returns.
            log.warning("sortingview server at %s: its wake-up pipe was closed under it (%s); closing its sockets "
                        "from the stopping thread", self.url, exc)
            close_all(self._server._map)
        self._stopped.wait(timeout)
        runner = self._ctx.runner
        if hasattr(runner, "close"):
            runner.close()


def create_server(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *, channel: str = "default",
                  channel_url: str | None = None, backend_id: str | None = None, inline: bool = False,
                  threads: int = 48, allowed_hosts: tuple[str, ...] | list[str] = (),
                  channels: tuple[str, ...] | list[str] = (),
                  max_queued_per_client: int = DEFAULT_MAX_QUEUED_PER_CLIENT, import_folder: str | None = None,
                  importers=None, private: bool = False, unserved_expiry_s: float = UNSERVED_EXPIRY_S
                  ) -> SortingviewServer:
    """The server ``sortingview-start-backend`` runs (binds 127.0.0.1 unless told otherwise).

    ``backend_id`` (the id of the backend started alongside) is given to tasks whose request names none.
    ``allowed_hosts``: host names besides the bound host, localhost and $SORTINGVIEW_URL's that requests may
    carry (421 otherwise). ``channels``: named channels requests may select besides ``channel`` and those a
    live backend serves. ``max_queued_per_client``: tasks one client address may have queued or running
    (429 beyond). ``unserved_expiry_s``: jobs for a backend id no live backend serves fail after this.
    Long-polls may hold all threads but ``RESERVED_THREADS``. ``private``: store files, feeds,
    figures and manifests only for signed-in readers of a workspace that reaches them (doc/sharing.md).
    """
    server = SortingviewServer(host, port, threads=threads, channel=channel, channel_url=channel_url,
                               backend_id=backend_id, inline=inline, allowed_hosts=tuple(allowed_hosts),
                               channels=tuple(channels), max_queued_per_client=max_queued_per_client,
                               private=private, unserved_expiry_s=unserved_expiry_s)
    from .import_api import import_settings, resume_watching  # the import page (doc/sorting.md)

    server.app.config["SV_IMPORT"] = import_settings(import_folder, importers)
    resume_watching(server.app)  # the sorter jobs a previous server started from the import page
    return server
