"""The views-figure curation endpoint (server/views_api.py) over real HTTP: loading a sha1:// or feed:// curation,
and saving a new sha1:// JSON only for a signed-in user, only a small well-formed curation."""
from __future__ import annotations

import pytest
from test_server_support import http, running_server

from sortingview.server.auth import UserStore, users_file
from sortingview.store import load_json, store_json


@pytest.fixture
def server(store_dir):
    token = UserStore(users_file()).add_user("alice")
    with running_server(inline=True) as srv:
        srv.token = token
        yield srv


def save(srv, body, token=None, raw=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return http(f"{srv.url}/api/views/curation", method="POST", body=body, raw=raw, headers=headers)


def test_a_signed_in_user_saves_a_curation_as_a_new_json(server):
    status, r = save(server, {"curation": {"labelsByUnit": {"3": ["accept", "mua"], "4": []},
                                           "mergeGroups": [[7, 2], [2, 9]]}}, server.token)
    assert status == 200, r
    assert r["uri"].startswith("sha1://")
    assert load_json(r["uri"]) == {"labelsByUnit": {"3": ["accept", "mua"]}, "mergeGroups": [[2, 7, 9]],
                                   "isClosed": False}
    status, back = http(f"{server.url}/api/views/curation?uri={r['uri']}")
    assert status == 200 and back["kind"] == "sha1" and back["curation"]["mergeGroups"] == [[2, 7, 9]]
    assert back["canSave"] is False  # not signed in


def test_saving_needs_sign_in_and_a_small_valid_curation(server):
    good = {"curation": {"labelsByUnit": {}, "mergeGroups": []}}
    assert save(server, good)[0] == 401
    assert save(server, good, "alice:wrong")[0] == 401
    cases = [
        ({"curation": []}, "must be a JSON object"),
        ({"curation": {"labelsByUnit": {"1": "accept"}}}, "labelsByUnit['1'] must be a list"),
        ({"curation": {"labelsByUnit": {"1": ["x" * 65]}}}, "at most 64 characters"),
        ({"curation": {"mergeGroups": [[1, {"a": 1}]]}}, "mergeGroups[0] must be a list of unit ids"),
        ({"curation": {"mergeGroups": [[1, True]]}}, "mergeGroups[0] must be a list of unit ids"),
        ({"curation": {"labelsByUnit": {}, "evil": 1}}, "unknown curation field(s) evil"),
        ({"nothing": 1}, "lacks field(s) curation"),
    ]
    for body, message in cases:
        status, r = save(server, body, server.token)
        assert status == 400 and message in r["error"], (body, r)
    big = b'{"curation": {"labelsByUnit": {' + b",".join(b'"%d": ["accept"]' % i for i in range(30000)) + b"}}}"
    status, r = save(server, None, server.token, raw=big)
    assert status == 413, r


def test_loading_names_what_is_wrong(server):
    not_curation = store_json({"hello": "world"})
    status, r = http(f"{server.url}/api/views/curation?uri={not_curation}")
    assert status == 400 and "is not a curation" in r["error"] and "unknown curation field(s) hello" in r["error"]
    status, r = http(f"{server.url}/api/views/curation?uri=feed://{'ab' * 20}")
    assert status == 404 and "is not the curation feed of a workspace sorting" in r["error"]
    status, r = http(f"{server.url}/api/views/curation?uri=https://example.org/x.json")
    assert status == 400 and "sha1:// JSON or a feed://" in r["error"]
    status, r = http(f"{server.url}/api/views/curation?uri=sha1://{'0' * 40}")
    assert status == 404
