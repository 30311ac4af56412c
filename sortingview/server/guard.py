"""Who may talk to the server: a Host allow-list, same-origin JSON for requests that change state or start
work, viewer assets only under ``/viewer/``, and headers that keep pages out of frames and scripts to our own.

The threats and why each rule answers one are in doc/security.md.
"""
from __future__ import annotations

import ipaddress
import os
import posixpath
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Flask, Response, request

from .http import error_response

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
WILDCARD_BINDS = ("", "0.0.0.0", "::")
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
VIEWER_EXTENSIONS = frozenset({".js", ".mjs", ".css", ".html", ".svg", ".png", ".ico", ".woff2", ".json", ".map"})

# The viewer's index.html still has one inline handler (the help button's onclick); 'unsafe-hashes' with its
# hash lets exactly that text run and nothing else inline. Drop both once the viewer binds the handler in JS.
_HELP_ONCLICK_HASH = "'sha256-+rnpyyHlXxkNWHxUXnNzOPylwyjxF7b0TomP1G6Igz0='"
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    f"script-src 'self' 'unsafe-hashes' {_HELP_ONCLICK_HASH}",
    "style-src 'self' 'unsafe-inline'",  # the viewer sets style attributes (colours, sizes) in its markup
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # a figURL carries the figure's sha1: not for other sites' logs
    "Cross-Origin-Resource-Policy": "same-origin",  # other sites cannot embed store files or API answers
}


def hostname_of(netloc: str) -> str | None:
    """The host of ``host``, ``host:port``, ``[v6]`` or ``[v6]:port``, lower-cased; None if malformed."""
    try:
        host = urlsplit(f"//{netloc}").hostname
    except ValueError:
        return None
    return host.rstrip(".") if host else None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class HostPolicy:
    """The host names this server answers to (DNS rebinding sends a name the attacker owns, never these)."""

    hosts: frozenset[str]
    any_ip_literal: bool = False  # a wildcard bind is reached by its addresses; a name cannot rebind to an IP
    public_origin: str | None = None  # the netloc of SORTINGVIEW_URL, a same origin too

    @classmethod
    def for_server(cls, bind_host: str = "127.0.0.1", allowed_hosts: tuple[str, ...] | list[str] = ()) -> HostPolicy:
        hosts = {*LOCAL_HOSTS, *(h.lower() for h in allowed_hosts)}
        public = os.environ.get("SORTINGVIEW_URL") or ""
        public_netloc = urlsplit(public).netloc.lower() if public.startswith(("http://", "https://")) else ""
        if public_netloc and hostname_of(public_netloc):
            hosts.add(hostname_of(public_netloc))
        wildcard = bind_host in WILDCARD_BINDS
        if wildcard:
            hosts.update(n.lower() for n in (socket.gethostname(), socket.getfqdn()) if n)
        elif bind_host:
            hosts.add(bind_host.lower() if _is_ip(bind_host) else hostname_of(bind_host) or bind_host.lower())
        return cls(frozenset(hosts), any_ip_literal=wildcard, public_origin=public_netloc or None)

    def allows(self, host_header: str) -> bool:
        host = hostname_of(host_header)
        if host is None:
            return False
        return host in self.hosts or (self.any_ip_literal and _is_ip(host))

    def describe(self) -> str:
        names = sorted(self.hosts) + (["any IP address of this machine"] if self.any_ip_literal else [])
        return ", ".join(names)


def _check_host(policy: HostPolicy) -> Response | None:
    host = request.environ.get("HTTP_HOST")
    if host is None or policy.allows(host):  # no Host at all: an HTTP/1.0 tool, never a browser
        return None
    return error_response(421, f"this server does not answer to the host name in the request ({host[:80]!r}); it "
                               f"answers to {policy.describe()}. If people reach it by that name, start it with "
                               "--allowed-host NAME or set SORTINGVIEW_URL to the address in the links")


def _check_state_change(policy: HostPolicy) -> Response | None:
    """Requests that change state or start tasks: JSON only (no form or text/plain), and same-origin."""
    if request.method not in UNSAFE_METHODS:
        return None
    origin = request.headers.get("Origin")
    if origin is not None:
        parts = urlsplit(origin) if origin != "null" else None
        netloc = parts.netloc.lower() if parts and parts.scheme in ("http", "https") else None
        if netloc not in (request.host.lower(), policy.public_origin):
            return error_response(403, f"requests from another site (Origin {origin[:80]!r}) may not change "
                                       "anything or start tasks here; open the view from this server's own address")
    elif request.headers.get("Sec-Fetch-Site") == "cross-site":
        return error_response(403, "requests from another site may not change anything or start tasks here")
    if request.mimetype != "application/json":
        got = request.mimetype or "no Content-Type"
        return error_response(415, f"send the request body as JSON (Content-Type: application/json), not {got}")
    return None


def _check_viewer_path() -> Response | None:
    """``/viewer/<file>`` serves the viewer's assets by extension, never dot-files, templates or other folders."""
    if not request.path.startswith("/viewer/"):
        return None
    rel = request.path[len("/viewer/"):]
    parts = rel.split("/")
    bad = (not rel or "\\" in rel or "\x00" in rel or posixpath.normpath(rel) != rel or parts[0] == "templates"
           or any(not p or p.startswith(".") for p in parts)
           or posixpath.splitext(rel)[1].lower() not in VIEWER_EXTENSIONS)
    if bad:
        return error_response(404, f"/viewer/{rel[:80]} is not a file of the viewer")
    return None


def install_guards(app: Flask, policy: HostPolicy) -> None:
    """Check every request before its route runs; add the security headers to every answer."""

    @app.before_request
    def _guard():
        return _check_host(policy) or _check_viewer_path() or _check_state_change(policy)

    @app.after_request
    def _headers(resp: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            resp.headers.setdefault(name, value)
        return resp
