"""Helpers for the browser tests: a seeded workspace, a real backend subprocess, headless Chromium.

(No tests here.) The backend is ``sortingview-start-backend`` started as a real process with its HTTP server
on a free port; tasks run in its inline job handlers, which keeps the suite light on a 2-core machine.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from typing import Iterator
from urllib.parse import urlparse

from conftest import free_port
from test_server_support import http

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "test-artifacts")
HANDLERS = ("clusters", "correlograms", "extract_snippets", "metrics", "misc", "timeseries", "waveforms")


def write_inline_config(path: str) -> str:
    lines = ["job_handlers:"] + [f"  {h}: {{type: inline}}" for h in HANDLERS]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


@contextlib.contextmanager
def backend_process(workdir: str, *extra: str) -> Iterator[str]:
    """``sortingview-start-backend`` on a free port; yields the server URL once a backend is alive."""
    exe = shutil.which("sortingview-start-backend")
    assert exe, "sortingview-start-backend is not installed (pip install -e .)"
    port = free_port()
    cfg = write_inline_config(os.path.join(workdir, "handlers.yaml"))
    log = open(os.path.join(workdir, f"backend-{port}.log"), "w")
    proc = subprocess.Popen([exe, "--port", str(port), "--config", cfg, *extra], stdout=log,
                            stderr=subprocess.STDOUT, env=os.environ.copy())
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_alive(proc, url, log.name)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()


def _wait_alive(proc: subprocess.Popen, url: str, log_path: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the backend exited with {proc.returncode}: {open(log_path).read()[-3000:]}")
        try:
            status, st = http(f"{url}/api/backend-status", timeout=5)
            if status == 200 and st.get("backends"):
                return
        except OSError:
            pass
        time.sleep(0.2)  # polling a process that is starting up: there is no event to await
    raise AssertionError(f"no live backend at {url} after {timeout} s: {open(log_path).read()[-3000:]}")


@contextlib.contextmanager
def module_backend(tmp, *, set_url: bool = False) -> Iterator[str]:
    """For a module of browser tests: Chromium must be there (else skip, or fail with SORTINGVIEW_REQUIRE_ALL);
    a fresh store in ``tmp`` as $KACHERY_CLOUD_DIR and a real backend on it. Yields the server URL, also set as
    $SORTINGVIEW_URL with ``set_url`` (where the code under test prints links)."""
    import pytest
    from conftest import CHROMIUM, skip_or_fail

    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        skip_or_fail(f"Chromium not found at {CHROMIUM}; install it with `apt-get install -y chromium`")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KACHERY_CLOUD_DIR", str(tmp / "store"))
        (tmp / "store").mkdir()
        with backend_process(str(tmp)) as url:
            if set_url:
                mp.setenv("SORTINGVIEW_URL", url)
            yield url


@contextlib.contextmanager
def seeded_view(tmp, *, workspace_label: str, label: str, seed: int, num_units: int, num_channels: int = 8,
                authorized: tuple[str, ...] = (), users: tuple[str, ...] = ()) -> Iterator[dict]:
    """A store in ``tmp`` with one seeded recording + sorting, the given viewer users (their tokens under
    ``tokens``), a real backend, and the figURL of the sorting on it."""
    import pytest
    from datasets import make_dataset

    from sortingview.server.auth import UserStore, users_file
    from sortingview.workspace import create_workspace

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KACHERY_CLOUD_DIR", str(tmp / "store"))
        (tmp / "store").mkdir()
        ds = make_dataset(tmp, seed=seed, num_channels=num_channels, durations=8.0, num_units=num_units)
        W = create_workspace(label=workspace_label)
        rid = W.add_recording(label="rec1", recording=ds.recording)
        sid = W.add_sorting(recording_id=rid, label="sorting1", sorting=ds.sorting)
        if authorized:
            W.set_sorting_curation_authorized_users(sid, list(authorized))
        store_users = UserStore(users_file())
        tokens = {u: store_users.add_user(u) for u in users}
        with backend_process(str(tmp)) as url:
            link = W.spikesortingview(recording_id=rid, sorting_id=sid, label=label, base_url=url)
            yield {"W": W, "sid": sid, "rid": rid, "url": url, "link": link, "tokens": tokens, "ds": ds}


@contextlib.contextmanager
def chromium_browser(executable_path: str):
    """Headless Chromium through Playwright, closed at the end."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_chromium(p, executable_path)
        yield b
        b.close()


@contextlib.contextmanager
def checked_page(browser, *, width: int = 1440, height: int = 860, console: bool = False):
    """A page in a fresh context; the test fails if the page raised a JavaScript error (and, with
    ``console``, if it logged one to the console)."""
    ctx = browser.new_context(viewport={"width": width, "height": height})
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    if console:
        pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield pg
    ctx.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


def launch_chromium(playwright, executable_path: str):
    return playwright.chromium.launch(executable_path=executable_path, args=CHROMIUM_ARGS)


def screenshot(page, name: str) -> str:
    os.makedirs(ARTIFACTS, exist_ok=True)
    path = os.path.join(ARTIFACTS, name)
    page.screenshot(path=path)
    return path


# JavaScript run in the page: how many pixels of a canvas differ from white/transparent, and in which colour
CANVAS_INK = """(canvas) => {
  const ctx = canvas.getContext('2d');
  const {data} = ctx.getImageData(0, 0, canvas.width, canvas.height);
  let ink = 0, blue = 0;
  for (let i = 0; i < data.length; i += 4) {
    const [r, g, b, a] = [data[i], data[i+1], data[i+2], data[i+3]];
    if (a > 0 && (r < 235 || g < 235 || b < 235)) ink++;
    if (a > 200 && b > 150 && r < 80 && g > 80 && g < 140) blue++;
  }
  return {ink, blue, width: canvas.width, height: canvas.height};
}"""


STRICT_CSP = "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"


def serve_with_csp(page, policy: str = STRICT_CSP) -> None:
    """Serve the page's figURL documents with ``policy`` as their Content-Security-Policy (what a strict server
    sends) and record violations in ``window.__cspViolations``."""
    def add_header(route):
        resp = route.fetch()
        route.fulfill(response=resp, headers={**resp.headers, "content-security-policy": policy})

    # a predicate, not the glob "**/f?*": a glob's * stops at "/", and the links carry d=sha1://...
    page.route(lambda url: urlparse(url).path == "/f", add_header)
    page.add_init_script("window.__cspViolations = []; document.addEventListener('securitypolicyviolation', "
                         "(e) => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));")

# JavaScript run in the page: whether an inline <script> added to the document runs (it must not under the CSP)
INLINE_SCRIPT_RUNS = """() => {
  const s = document.createElement('script');
  s.textContent = 'window.__inlineRan = true';
  document.head.appendChild(s);
  return window.__inlineRan === true;
}"""
