"""The flask application: configuration, blueprints, and what each request needs (runner, users)."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from flask import Flask

from ..backend.channel.base import UNSERVED_EXPIRY_S
from .auth import UserStore, users_file
from .channels import ChannelGate
from .guard import HostPolicy, install_guards
from .http import install_error_handlers
from .quotas import ClientQueue, LongPollSlots
from .runner import BackendRunner, InlineRunner, TaskRunner

MAX_BODY_BYTES = 1 << 20  # curation actions and task inputs are small; anything bigger is a mistake
#: a client may have this many tasks queued or running before it is answered 429
DEFAULT_MAX_QUEUED_PER_CLIENT = 200


@dataclass
class ServerContext:
    """Shared by all request threads of one server."""

    runner: TaskRunner
    users: UserStore
    backend_status: Callable[[str | None], dict]
    channels: ChannelGate
    long_polls: LongPollSlots
    queued: ClientQueue
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
               inline: bool = False, users_path: str | None = None, bind_host: str = "127.0.0.1",
               allowed_hosts: tuple[str, ...] | list[str] = (), channels: tuple[str, ...] | list[str] = (),
               max_long_polls: int = 40, max_long_polls_per_client: int = 30,
               max_queued_per_client: int = DEFAULT_MAX_QUEUED_PER_CLIENT, private: bool = False,
               unserved_expiry_s: float = UNSERVED_EXPIRY_S) -> Flask:
    """The WSGI app. ``inline=True`` runs tasks in server threads instead of the backend (tests, debugging).

    ``bind_host`` and ``allowed_hosts``: the host names requests may carry (see doc/security.md);
    ``channels``: named channels requests may select besides ``channel`` and those a live backend serves;
    ``max_long_polls`` (per client ``max_long_polls_per_client``): requests that may wait at once;
    ``max_queued_per_client``: tasks one client address may have queued or running;
    ``private``: reads only for signed-in readers of a workspace (server/readers.py);
    ``unserved_expiry_s``: jobs for a backend id no live backend serves fail after this (the YAML's value).
    """
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.json.sort_keys = False
    runner: Any = InlineRunner() if inline else BackendRunner(channel, channel_url, unserved_expiry_s)
    app.config["SV"] = ServerContext(runner=runner, users=UserStore(users_path or users_file()),
                                     backend_status=_backend_status_fn(channel, channel_url, inline),
                                     channels=ChannelGate(channel, channels),
                                     long_polls=LongPollSlots(max_long_polls, max_long_polls_per_client),
                                     queued=ClientQueue(max_queued_per_client), default_backend_id=backend_id)
    from . import api, benchmark_pages, curation_api, import_api, pages, peer_api, views_api

    app.register_blueprint(api.bp)
    app.register_blueprint(peer_api.bp)
    app.register_blueprint(curation_api.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(views_api.bp)
    app.register_blueprint(import_api.bp)
    app.register_blueprint(benchmark_pages.bp)
    install_error_handlers(app)
    install_guards(app, HostPolicy.for_server(bind_host, allowed_hosts))
    if private:
        from .readers import install_reader_check

        install_reader_check(app)  # after the Host/Origin guards
    return app
