"""`sortingview user add|ls|rm` as real commands, tokens stored hashed, and sign-in over HTTP."""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess

import pytest
from test_server_support import http, running_server

from sortingview.errors import AuthError
from sortingview.server.auth import UserStore, users_file


def sv(*args: str) -> subprocess.CompletedProcess:
    exe = shutil.which("sortingview")
    assert exe, "the sortingview console script is not installed (pip install -e .)"
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=60, env=os.environ.copy())


def test_user_add_prints_a_token_that_is_stored_only_hashed(store_dir):
    r = sv("user", "add", "alice@lab.org")
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    assert token.startswith("alice@lab.org:") and len(token) > 40
    path = users_file(str(store_dir))
    text = open(path).read()
    assert token.split(":", 1)[1] not in text
    rec = json.loads(text)["users"]["alice@lab.org"]
    assert set(rec) == {"salt", "digest", "iterations", "created"} and rec["iterations"] >= 100_000
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert UserStore(path).verify(token) == "alice@lab.org"


def test_user_ls_rm_and_errors(store_dir):
    assert sv("user", "add", "bob").returncode == 0
    assert sv("user", "add", "carol").returncode == 0
    r = sv("user", "ls")
    assert [line.split("\t")[0] for line in r.stdout.splitlines()] == ["bob", "carol"]
    again = sv("user", "add", "bob")
    assert again.returncode == 1 and "already exists" in again.stderr and "--replace" in again.stderr
    assert "Traceback" not in again.stderr
    assert sv("user", "rm", "bob").returncode == 0
    missing = sv("user", "rm", "bob")
    assert missing.returncode == 1 and "no user 'bob'" in missing.stderr and "carol" in missing.stderr
    bad = sv("user", "add", "../evil")
    assert bad.returncode == 1 and "invalid user id" in bad.stderr


def test_replaced_and_removed_tokens_stop_working(store_dir):
    users = UserStore(users_file(str(store_dir)))
    old = users.add_user("dana")
    new = users.add_user("dana", replace=True)
    assert users.verify(new) == "dana"
    with pytest.raises(AuthError):
        users.verify(old)
    users.remove_user("dana")
    with pytest.raises(AuthError):
        users.verify(new)
    for bogus in ["", "dana", "dana:", ":x", "nobody:abc"]:
        with pytest.raises(AuthError):
            users.verify(bogus)


def test_signin_over_http_sees_users_added_while_running(store_dir):
    with running_server(inline=True) as srv:
        token = sv("user", "add", "erin").stdout.strip()
        status, r = http(f"{srv.url}/api/signin", body={"token": token})
        assert status == 200 and r == {"userId": "erin"}
        status, r = http(f"{srv.url}/api/whoami", headers={"Authorization": f"Bearer {token}"})
        assert r == {"userId": "erin"}
        status, r = http(f"{srv.url}/api/signin", body={"token": token + "x"})
        assert status == 401 and "not valid" in r["error"]
        status, r = http(f"{srv.url}/api/whoami", headers={"Authorization": "Basic abc"})
        assert status == 401 and "Bearer" in r["error"]
        assert sv("user", "rm", "erin").returncode == 0
        assert http(f"{srv.url}/api/signin", body={"token": token})[0] == 401


def test_users_added_at_the_same_time_are_all_kept(store_dir):
    procs = [subprocess.Popen([shutil.which("sortingview"), "user", "add", f"user{i}"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=os.environ.copy()) for i in range(6)]
    tokens = [p.communicate(timeout=60)[0].decode().strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    users = UserStore(users_file(str(store_dir)))
    assert [u.user_id for u in users.list_users()] == [f"user{i}" for i in range(6)]
    assert [users.verify(t) for t in tokens] == [f"user{i}" for i in range(6)]
