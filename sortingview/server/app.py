"""The flask application: configuration, blueprints, and what each request needs (runner, users)."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from flask import Flask

from .auth import UserStore, users_file
from .http import install_error_handlers
from .runner import BackendRunner, InlineRunner, TaskRunner

MAX_BODY_BYTES = 1 << 20  # curation actions and task inputs are small; anything bigger is a mistake


@dataclass
class ServerContext:
    """Shared by all request threads of one server."""

    runner: TaskRunner
    users: UserStore
    backend_status: Callable[[str | None], dict]
    default_backend_id: str | None = None  # used when a request names no backend id
    max_wait: float = 25.0  # long-poll cap, under common proxy/browser idle timeouts
    stopping: threading.Event = field(default_factory=threading.Event)


def _backend_status_fn(channel: str, channel_url: str | None, inline: bool) -> Callable[[str | None], dict]:
    def status(requested: str | None) -> dict:
        if inline:
            return {"mode": "inline", "channel": None, "backends": [{"backendId": None, "alive": True,
                                                                       "inline": True}]}
        from ..backend.status import backend_status

        if requested and requested != channel:
            return backend_status(channel=requested)
        return backend_status(channel=channel, channel_url=channel_url)

    return status


def create_app(*, channel: str = "default", channel_url: str | None = None, backend_id: str | None = None,
               inline: bool = False, users_path: str | None = None) -> Flask:
    """The WSGI app. ``inline=True`` runs tasks in server threads instead of the backend (tests, debugging)."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.json.sort_keys = False
    runner: Any = InlineRunner() if inline else BackendRunner(channel, channel_url)
    app.config["SV"] = ServerContext(runner=runner, users=UserStore(users_path or users_file()),
                                     backend_status=_backend_status_fn(channel, channel_url, inline),
                                     default_backend_id=backend_id)
    from . import api, benchmark_pages, curation_api, import_api, pages

    app.register_blueprint(api.bp)
    app.register_blueprint(curation_api.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(import_api.bp)
    app.register_blueprint(benchmark_pages.bp)
    install_error_handlers(app)
    return app
