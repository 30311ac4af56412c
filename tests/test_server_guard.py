"""Who may talk to the server: DNS rebinding, cross-site requests, framing, viewer paths, sign-in timing.

Each test sends the attack to a real server on 127.0.0.1 exactly as a hostile page or a rebinding DNS name
would make a browser send it, and checks it is refused.
"""
from __future__ import annotations

import pytest
from test_server_support import request, running_server

from sortingview import store
from sortingview.backend.channel import open_channel
from sortingview.server import auth

TASK = {"taskName": "sortingview.sorting_info.1", "taskInput": {"sorting": f"sha1://{'c' * 40}"}, "waitSec": 0}


@pytest.fixture
def server(store_dir, monkeypatch):
    monkeypatch.setenv("SORTINGVIEW_URL", "http://lab-server.example.org:15310")
    with running_server(allowed_hosts=["sv.lab.internal"]) as srv:
        yield srv


def _routes() -> list[tuple[str, str, dict | None]]:
    sha1 = store.store_text("a store file")[len("sha1://"):].split("?")[0]
    feed = store.create_feed()
    return [
        ("GET", "/", None),
        ("GET", f"/f?v=spikesortingview-1&d=sha1://{sha1}", None),
        ("GET", "/viewer/js/main.js", None),
        ("GET", f"/api/file/{sha1}", None),
        ("GET", f"/api/figure?d=sha1://{sha1}", None),
        ("GET", f"/api/feed/{feed.feed_id}", None),
        ("GET", "/api/backend-status", None),
        ("GET", "/api/whoami", None),
        ("GET", f"/api/task/{'e' * 40}?wait=0", None),
        ("POST", "/api/task", TASK),
        ("POST", "/api/signin", {"token": "x:y"}),
    ]


@pytest.mark.parametrize("host", ["evil.example", "evil.example:15310", "127.0.0.1.evil.example",
                                  "localhost.evil.example", "[::2]", "10.1.2.3", "", "a b"])
def test_a_foreign_host_header_is_421_on_every_route(server, host):
    for method, path, body in _routes():
        status, headers, _ = request(f"{server.url}{path}", method=method, body=body, headers={"Host": host})
        assert status == 421, (path, status)
        assert headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST", "[::1]:{port}",
                                  "lab-server.example.org:15310", "sv.lab.internal:{port}"])
def test_the_bound_host_localhost_sortingview_url_and_allowed_hosts_are_answered(server, host):
    for method, path, body in _routes():
        status, _, _ = request(f"{server.url}{path}", method=method, body=body,
                               headers={"Host": host.format(port=server.port)})
        assert status != 421, (path, status)


def test_a_wildcard_bind_answers_its_ip_addresses_but_not_other_names(store_dir):
    with running_server(host="0.0.0.0") as srv:
        assert request(f"{srv.url}/api/backend-status", headers={"Host": "10.1.2.3:80"})[0] == 200
        assert request(f"{srv.url}/api/backend-status", headers={"Host": "evil.example"})[0] == 421


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1:1",
                                    "http://localhost:{port}", "file://", "https://127.0.0.1:{port}.evil.example"])
def test_a_foreign_origin_cannot_start_tasks_or_change_anything(server, origin):
    origin = origin.format(port=server.port)
    for path, body in [("/api/task", TASK), ("/api/signin", {"token": "x:y"}),
                       ("/api/curation", {"workspace": "w", "sortingId": "s", "action": {}}),
                       ("/api/label-choices", {"workspace": "w", "sortingId": "s", "label": "x"})]:
        status, _, r = request(f"{server.url}{path}", method="POST", body=body, headers={"Origin": origin})
        assert status == 403 and "another site" in r["error"], (path, status)
    assert open_channel("default").stats()["queued"] == {}


def test_a_cross_site_text_plain_or_form_post_cannot_start_a_task(server):
    import json

    raw = json.dumps(TASK).encode()
    for ctype in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None]:
        headers = {"Content-Type": ctype} if ctype else {"Content-Type": ""}
        status, _, r = request(f"{server.url}/api/task", method="POST", raw=raw, headers=headers)
        assert status == 415 and "application/json" in r["error"], ctype
    # a fetch without Origin whose browser says it is cross-site
    status, _, _ = request(f"{server.url}/api/task", method="POST", body=TASK, headers={"Sec-Fetch-Site": "cross-site"})
    assert status == 403
    assert open_channel("default").stats()["queued"] == {}
    # the viewer's own requests: same origin, JSON
    status, _, r = request(f"{server.url}/api/task", method="POST", body=TASK,
                           headers={"Origin": server.url, "Sec-Fetch-Site": "same-origin"})
    assert status == 200 and r["status"] == "queued"


def test_pages_and_answers_cannot_be_framed_and_scripts_come_only_from_the_server(server):
    for method, path, body in _routes():
        status, headers, _ = request(f"{server.url}{path}", method=method, body=body)
        csp = headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY", path
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "object-src 'none'" in csp
        assert "unsafe-eval" not in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["cross-origin-resource-policy"] == "same-origin"


@pytest.mark.parametrize("path", ["/viewer/templates/home.html", "/viewer/../server/app.py", "/viewer/%2e%2e/cli.py",
                                  "/viewer/js/../../server/app.py", "/viewer/.gitignore", "/viewer/js/.hidden.js",
                                  "/viewer/js", "/viewer/", "/viewer/js//main.js", "/viewer/js/main.js%00.css",
                                  "/viewer/js/main.py", "/viewer/js\\main.js", "/viewer/__init__.py"])
def test_viewer_urls_serve_viewer_assets_only(server, path):
    status, _, body = request(f"{server.url}{path}")
    assert status in (400, 404), (path, status)
    assert b"import" not in (body if isinstance(body, bytes) else b"")


def test_viewer_assets_are_served_with_their_types(server):
    status, headers, body = request(f"{server.url}/viewer/js/main.js")
    assert status == 200 and "javascript" in headers["content-type"] and b"import" in body
    status, headers, _ = request(f"{server.url}/viewer/style.css")
    assert status == 200 and headers["content-type"].startswith("text/css")


def test_sign_in_does_the_same_hashing_work_for_unknown_users(store_dir, monkeypatch):
    users = auth.UserStore(auth.users_file())
    token = users.add_user("alice")
    calls: list[int] = []
    real = auth._digest

    def counting(secret: str, salt: str, iterations: int) -> str:
        calls.append(iterations)
        return real(secret, salt, iterations)

    monkeypatch.setattr(auth, "_digest", counting)
    work = {}
    for label, attempt in [("known user, wrong secret", "alice:wrong"), ("unknown user", "mallory:wrong"),
                           ("no user id", "wrong"), ("empty", "")]:
        calls.clear()
        with pytest.raises(auth.AuthError):
            users.verify(attempt)
        work[label] = list(calls)
    assert all(w == [auth._ITERATIONS] for w in work.values()), work
    # over HTTP too; and the right token still signs in
    with running_server() as srv:
        calls.clear()
        assert request(f"{srv.url}/api/signin", method="POST", body={"token": "mallory:wrong"})[0] == 401
        assert calls == [auth._ITERATIONS]
        status, _, r = request(f"{srv.url}/api/signin", method="POST", body={"token": token})
        assert status == 200 and r["userId"] == "alice"


@pytest.fixture
def other_site(tmp_path):
    """Another web site on another port, whose page frames the viewer (as a hostile page would)."""
    import functools
    import http.server
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "site"))
    (tmp_path / "site").mkdir()
    site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    yield tmp_path / "site", f"http://127.0.0.1:{site.server_address[1]}"
    site.shutdown()
    site.server_close()


def test_the_viewer_runs_under_its_policy_in_chromium_and_cannot_be_framed(store_dir, tmp_path, chromium_path,
                                                                          other_site):
    from datasets import make_dataset
    from test_browser_support import chromium_browser

    from sortingview.workspace import create_workspace

    ds = make_dataset(tmp_path, seed=3, num_channels=4, durations=2.0, num_units=3)
    W = create_workspace(label="csp")
    rid = W.add_recording(label="r", recording=ds.recording)
    sid = W.add_sorting(recording_id=rid, label="s", sorting=ds.sorting)
    site_dir, site_url = other_site
    with running_server(inline=True) as srv, chromium_browser(chromium_path) as browser:
        link = W.spikesortingview(recording_id=rid, sorting_id=sid, label="csp", base_url=srv.url)
        (site_dir / "frame.html").write_text(f'<iframe id="f" src="{link}" width="800" height="600"></iframe>')
        page = browser.new_page()
        violations: list[str] = []
        page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(link)
        page.wait_for_selector("#acg-view[data-drawn='3']", timeout=60_000)  # scripts ran, tasks came back
        page.click("button[title='keyboard shortcuts']")  # the one inline handler the policy lets run
        assert page.eval_on_selector("#help-dialog", "d => d.open")
        assert violations == []
        # the same viewer inside another site's page: Chromium refuses to render it (frame-ancestors 'none')
        page.goto(f"{site_url}/frame.html")
        page.wait_for_load_state("load")
        framed = [f for f in page.frames if f is not page.main_frame]
        assert framed and all(f.query_selector("#units-pane") is None for f in framed)
        assert any("frame-ancestors 'none'" in v for v in violations)


def test_a_flood_of_wrong_tokens_is_answered_busy_not_queued(store_dir, monkeypatch):
    import threading

    users = auth.UserStore(auth.users_file())
    token = users.add_user("alice")
    lock, running, peak = threading.Lock(), [0], [0]
    real = auth._digest

    def tracking(secret: str, salt: str, iterations: int) -> str:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        try:
            return real(secret, salt, iterations)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(auth, "_digest", tracking)
    with running_server() as srv:
        answers: list[tuple[int, dict]] = []

        def attempt(i: int) -> None:
            status, headers, _ = request(f"{srv.url}/api/signin", method="POST", body={"token": f"u{i}:wrong"})
            answers.append((status, headers))

        threads = [threading.Thread(target=attempt, args=(i,)) for i in range(30)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert len(answers) == 30 and {s for s, _ in answers} <= {401, 503}
        assert all(h.get("retry-after") == "2" for s, h in answers if s == 503)
        assert peak[0] <= auth.MAX_CONCURRENT_DIGESTS
        assert request(f"{srv.url}/api/signin", method="POST", body={"token": token})[2]["userId"] == "alice"
