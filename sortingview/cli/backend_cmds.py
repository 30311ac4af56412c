"""`sortingview-start-backend` and `sortingview status`."""
from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading

import click

from ..live_server import forget_server, record_server
from . import main
from ._common import friendly_errors

log = logging.getLogger("sortingview.backend")


def _configure_logging(level: str) -> None:
    logging.basicConfig(stream=sys.stderr, level=getattr(logging, level.upper()),
                        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")


def _start_server(cfg, allowed_hosts=(), max_queued_per_client=None, import_folder=None, importers=None,
                  private=False):
    try:
        from ..server import create_server
    except ImportError as exc:
        raise click.ClickException(f"the HTTP server is not available ({exc}); run with --no-server") from exc
    limits = {} if max_queued_per_client is None else {"max_queued_per_client": max_queued_per_client}
    server = create_server(cfg.host, cfg.port, channel=cfg.channel, channel_url=cfg.channel_url,
                           backend_id=cfg.backend_id, allowed_hosts=allowed_hosts, import_folder=import_folder,
                           importers=importers, private=private,
                           unserved_expiry_s=cfg.unserved_expiry_s, **limits)
    threading.Thread(target=server.serve_forever, name="sortingview-http", daemon=True).start()
    record_server(server.url)  # links made by scripts on this store now point here
    click.echo(f"sortingview server at {server.url}", err=True)
    return server


def _install_signal_handlers(stop) -> None:
    def handler(signum, frame):  # only sets flags: the loop does the stopping
        log.info("received %s: stopping (send it again to stop at once)", signal.Signals(signum).name)
        stop()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--channel", default=None, help="Channel to serve [env SORTINGVIEW_CHANNEL; default: default].")
@click.option("--channel-url", default=None,
              help="redis://host:port/db for a channel shared by several hosts [env SORTINGVIEW_CHANNEL_URL; "
                   "default: a SQLite file in the store directory].")
@click.option("--backend-id", default=None,
              help="Serve only requests that carry this id [env SORTINGVIEW_BACKEND_ID].")
@click.option("--config", "config_path", default=None, type=click.Path(dir_okay=False),
              help="YAML job-handler configuration [env SORTINGVIEW_JOB_HANDLER_CONFIG]; "
                   "see sortingview.yaml.example.")
@click.option("--host", default=None, help="Address the HTTP server binds [default 127.0.0.1].")
@click.option("--port", default=None, type=int, help="Port of the HTTP server [default 15310].")
@click.option("--allowed-host", "allowed_hosts", multiple=True, envvar="SORTINGVIEW_ALLOWED_HOSTS",
              help="A host name requests may carry besides the bound host, localhost and $SORTINGVIEW_URL's "
                   "(repeatable; env: comma-separated). Other Host headers are refused (421) against DNS rebinding.")
@click.option("--max-queued-per-client", type=click.IntRange(min=1, max=1_000_000), default=None,
              envvar="SORTINGVIEW_MAX_QUEUED_PER_CLIENT",
              help="Tasks one client address may have queued or running before it is answered 429 [default 200].")
@click.option("--private", is_flag=True,
              help="Serve store files, feeds, figures and chunk manifests only to signed-in readers of a workspace "
                   "that reaches them (`sortingview workspace readers URI --add USER`); see doc/sharing.md.")
@click.option("--no-server", is_flag=True, help="Run workers only (e.g. on more machines sharing the channel).")
@click.option("--no-workers", is_flag=True, help="Run the HTTP server only.")
@click.option("--demo", is_flag=True,
              help="Create the demo workspace (once per store; later starts reuse it) and print its figURL.")
@click.option("--import-folder", default=None, type=click.Path(file_okay=False, exists=True),
              help="Folder whose recordings and sortings importers may import from the browser "
              "[env SORTINGVIEW_IMPORT_FOLDER].")
@click.option("--importers", default=None, help="USER[,USER]: who may import and sort [env SORTINGVIEW_IMPORTERS].")
@click.option("--burst", is_flag=True, help="Run what is queued, then exit (scripts and batch jobs).")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False))
@friendly_errors
def start_backend(channel, channel_url, backend_id, config_path, host, port, allowed_hosts, max_queued_per_client,
                  private, no_server, no_workers, demo, import_folder, importers, burst, log_level) -> None:
    """Start the sortingview backend: task workers and the HTTP server for the viewer.

    Workers pull tasks from the channel and run them in per-type job handlers (parallel process pools by
    default). SIGINT/SIGTERM stop gracefully: running tasks finish (up to grace_s) or go back to the channel.

    Links: while the server runs, its URL is recorded in the store (<store>/sortingview/server.json), so links
    printed here and made by scripts on the same store (W.spikesortingview()) point to this --host/--port.
    $SORTINGVIEW_URL overrides it (e.g. http://lab-server:15310 for links shared on a network); with no
    server running, links use http://127.0.0.1:15310.
    """
    from ..backend.config import load_config
    from ..backend.daemon import Backend

    _configure_logging(log_level)
    cfg = load_config(config_path, overrides={"channel": channel, "channel_url": channel_url,
                                              "backend_id": backend_id, "host": host, "port": port})
    # worker processes (and the backend_status task) learn the channel from the environment
    os.environ["SORTINGVIEW_CHANNEL"] = cfg.channel
    if cfg.channel_url:
        os.environ["SORTINGVIEW_CHANNEL_URL"] = cfg.channel_url
    if no_server and no_workers:
        raise click.UsageError("--no-server and --no-workers together leave nothing to run")
    from ..backend.plugins import load_task_modules

    load_task_modules(cfg.task_modules)  # the server validates requests for plugin tasks too
    backend = None if no_workers else Backend(cfg)
    hosts = tuple(h.strip() for v in allowed_hosts for h in v.split(",") if h.strip())
    server = None if (no_server or burst) else _start_server(cfg, hosts, max_queued_per_client, import_folder,
                                                            importers, private)
    try:
        if demo:
            from ..server.demo import ensure_demo_workspace

            # the link names the server just started (recorded in the store), unless SORTINGVIEW_URL is set
            click.echo(f"demo workspace: {ensure_demo_workspace()}")
        _run(backend, burst)
    finally:
        if server is not None:
            forget_server()
            server.shutdown()


def _run(backend, burst: bool) -> None:
    """Run the workers (or, with --no-workers, wait) until SIGINT/SIGTERM."""
    stopped = threading.Event()
    _install_signal_handlers(backend.stop if backend else stopped.set)
    if backend is not None:
        backend.run(burst=burst)
    else:
        while not stopped.wait(0.5):
            pass

@main.command("status")
@click.option("--channel", default=None, help="Channel to report on [env SORTINGVIEW_CHANNEL; default: default].")
@click.option("--channel-url", default=None, help="redis://host:port/db [env SORTINGVIEW_CHANNEL_URL].")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON (for scripts).")
@friendly_errors
def status(channel: str | None, channel_url: str | None, as_json: bool) -> None:
    """Show the live backends of a channel, their handlers, the queue per handler and the running tasks."""
    from ..backend.status import backend_status

    st = backend_status(channel, channel_url)
    if as_json:
        click.echo(json.dumps(st, indent=2))
        return
    for line in format_status(st):
        click.echo(line)


@main.command("cancel")
@click.argument("job_id")
@click.option("--channel", default=None, help="Channel of the task [env SORTINGVIEW_CHANNEL; default: default].")
@click.option("--channel-url", default=None, help="redis://host:port/db [env SORTINGVIEW_CHANNEL_URL].")
@friendly_errors
def cancel(job_id: str, channel: str | None, channel_url: str | None) -> None:
    """Cancel a task: a queued one leaves the queue, a running one is stopped by its backend (its worker process
    is killed, about a second later). JOB_ID is the job's id, or the start of it that `sortingview status`
    shows for a running task."""
    import getpass
    import socket

    from ..backend.channel import resolve_channel
    from ..backend.client import cancel_job

    chan = resolve_channel(channel, channel_url)
    if chan.get(job_id) is None:
        found = sorted({r.job_id for r in chan.running_jobs() if r.job_id.startswith(job_id)}) if job_id else []
        if len(found) != 1:
            what = "no task" if not found else f"{len(found)} running tasks"
            raise click.ClickException(f"{what} of channel {chan.name!r} has a job id starting with {job_id!r}; "
                                       "give the whole id (`sortingview status --json` lists them)")
        job_id = found[0]
    error = f"CancelledError: cancelled with `sortingview cancel` by {getpass.getuser()}@{socket.gethostname()}"
    was = cancel_job(chan, job_id, error)
    if was == "queued":
        click.echo(f"cancelled {job_id} (it was queued)")
    elif was == "running":
        click.echo(f"asked the backend running {job_id} to stop it; it fails with: {error}")
    else:
        rec = chan.get(job_id)
        raise click.ClickException(f"job {job_id} has already ended ({rec.status if rec else 'gone'}): nothing to "
                                   "cancel")


def format_status(st: dict) -> list[str]:
    lines = [f"channel {st['channel']!r} at {st['channelUrl']}"]
    if not st["backends"]:
        lines.append("no backend is running on this channel; start one with `sortingview-start-backend`")
    for b in st["backends"]:
        idtag = ", with a backend id" if b.get("hasBackendId") else ""
        lines.append(f"backend {b['workerId']} (host {b['host']}, pid {b['pid']}{idtag}): heartbeat "
                     f"{b['lastHeartbeatSecAgo']:.1f} s ago, {len(b['running'])} running, {b['completed']} done")
        lines.append("  handlers: " + ", ".join(f"{k}={v}" for k, v in b["handlers"].items()))
    queued = ", ".join(f"{h} {n}" for h, n in sorted(st["queued"].items())) or "empty"
    lines.append(f"queue: {queued}")
    lines.append(f"running: {len(st['running'])}")
    for r in st["running"]:
        lines.append(f"  {r['jobId'][:10]} {r['taskName']} on {r['handler']} by {r['worker']} "
                     f"for {r['runningSec']} s (attempt {r['attempts']})")
        lines += [f"    | {line}" for line in (r.get("logTail") or "").splitlines()]  # a sorter's log
    lines.append(f"finished: {st['numFinished']}, errors: {st['numErrors']}")
    return lines

