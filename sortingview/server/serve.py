"""Serving the app with waitress: ``create_server(host, port, ...)`` -> object with url/serve_forever/shutdown."""
from __future__ import annotations

import logging
import threading

from waitress import create_server as _waitress_server
from waitress.wasyncore import close_all

from .app import create_app

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 15310
log = logging.getLogger(__name__)


class SortingviewServer:
    """One HTTP server. ``serve_forever`` blocks; ``shutdown`` (any thread) makes it return."""

    def __init__(self, host: str, port: int, *, threads: int = 48, **app_kwargs):
        self.app = create_app(**app_kwargs)
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
        finally:
            self._stopped.set()

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop accepting, end long-polls, and wait (up to ``timeout``) for serve_forever to return."""
        self._ctx.stopping.set()  # long-polls answer with the status they have
        self._server.task_dispatcher.shutdown(cancel_pending=True, timeout=timeout)
        # closing the sockets must happen on the loop's own thread (the trigger runs it there), after the
        # answers written by the finished requests have been flushed by that same loop
        self._server.trigger.pull_trigger(lambda: close_all(self._server._map))
        self._stopped.wait(timeout)
        runner = self._ctx.runner
        if hasattr(runner, "close"):
            runner.close()


def create_server(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *, channel: str = "default",
                  channel_url: str | None = None, backend_id: str | None = None, inline: bool = False,
                  threads: int = 48, import_folder: str | None = None, importers=None) -> SortingviewServer:
    """The server ``sortingview-start-backend`` runs (binds 127.0.0.1 unless told otherwise).

    ``backend_id`` (the id of the backend started alongside) is given to tasks whose request names none.
    """
    server = SortingviewServer(host, port, threads=threads, channel=channel, channel_url=channel_url,
                               backend_id=backend_id, inline=inline)
    from .import_api import import_settings  # the import page's folder and users (doc/sorting.md)

    server.app.config["SV_IMPORT"] = import_settings(import_folder, importers)
    return server
