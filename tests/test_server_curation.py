"""Curation over HTTP (sign-in, 401/403, validation) and the home page, against a real server."""
from __future__ import annotations

import re

import pytest
from datasets import make_dataset
from test_server_support import http, running_server

from sortingview.server.auth import UserStore, users_file


@pytest.fixture
def setup(store_dir, tmp_path):
    from sortingview.workspace import create_workspace

    ds = make_dataset(tmp_path, seed=5, num_channels=4, durations=2.0, num_units=4)
    W = create_workspace(label="curation over http")
    rid = W.add_recording(label="rec A", recording=ds.recording)
    sid = W.add_sorting(recording_id=rid, label="sorter X", sorting=ds.sorting)
    W.set_sorting_curation_authorized_users(sid, ["alice"])
    users = UserStore(users_file())
    tokens = {"alice": users.add_user("alice"), "bob": users.add_user("bob")}
    with running_server(inline=True) as srv:
        yield {"W": W, "sid": sid, "rid": rid, "units": ds.unit_ids, "tokens": tokens, "url": srv.url}


def write(s, action, user=None):
    headers = {"Authorization": f"Bearer {s['tokens'][user]}"} if user else {}
    return http(f"{s['url']}/api/curation", body={"workspace": s["W"].uri, "sortingId": s["sid"], "action": action},
                headers=headers)


def read(s, user=None):
    headers = {"Authorization": f"Bearer {s['tokens'][user]}"} if user else {}
    return http(f"{s['url']}/api/curation?workspace={s['W'].uri}&sortingId={s['sid']}", headers=headers)


def test_authorized_user_curates_and_is_recorded_as_author(setup):
    s = setup
    u0, u1, u2 = s["units"][:3]
    assert write(s, {"type": "ADD_UNIT_LABEL", "unitId": u0, "label": "accept"}, "alice")[0] == 200
    status, r = write(s, {"type": "MERGE_UNITS", "unitIds": [u1, u2]}, "alice")
    assert status == 200 and r["curation"]["mergeGroups"] == [[u1, u2]]
    cur = s["W"].get_sorting_curation(s["sid"])
    assert cur["labelsByUnit"] == {str(u0): ["accept"]} and cur["mergeGroups"] == [[u1, u2]]
    status, r = read(s, "alice")
    assert r["canCurate"] is True and r["userId"] == "alice"
    assert [h["userId"] for h in r["history"]] == ["alice", "alice"]
    assert r["history"][1]["action"]["type"] == "MERGE_UNITS"
    assert r["labelChoices"][:2] == ["accept", "reject"]


def test_writes_without_sign_in_or_authorization_are_refused(setup):
    s = setup
    action = {"type": "ADD_UNIT_LABEL", "unitId": s["units"][0], "label": "reject"}
    status, r = write(s, action)
    assert status == 401 and "sign in" in r["error"]
    status, r = write(s, action, "bob")
    assert status == 403 and "bob" in r["error"] and "set_sorting_curation_authorized_users" in r["error"]
    status, r = http(f"{s['url']}/api/curation", headers={"Authorization": "Bearer alice:forged"},
                     body={"workspace": s["W"].uri, "sortingId": s["sid"], "action": action})
    assert status == 401
    assert s["W"].get_sorting_curation(s["sid"])["labelsByUnit"] == {}
    # reads need no account, and a stale token still reads
    status, r = read(s)
    assert status == 200 and r["canCurate"] is False and r["userId"] is None
    status, r = http(f"{s['url']}/api/curation?workspace={s['W'].uri}&sortingId={s['sid']}",
                     headers={"Authorization": "Bearer stale:token"})
    assert status == 200 and r["canCurate"] is False


@pytest.mark.parametrize("action,message", [
    ({"type": "ADD_UNIT_LABEL", "unitId": 999, "label": "accept"}, "999"),
    ({"type": "ADD_UNIT_LABEL", "unitId": 0, "label": "not-a-choice"}, "label choices"),
    ({"type": "MERGE_UNITS", "unitIds": [0]}, "two or more"),
    ({"type": "EXPLODE"}, "unknown curation action"),
    ({"unitId": 0}, "'type'"),
])
def test_invalid_curation_actions_are_400_with_the_reason(setup, action, message):
    status, r = write(setup, action, "alice")
    assert status == 400 and message in r["error"], r


def test_bad_curation_requests(setup):
    s = setup
    hdr = {"Authorization": f"Bearer {s['tokens']['alice']}"}
    status, r = http(f"{s['url']}/api/curation", raw=b"{nope", headers=hdr)
    assert status == 400 and "not valid JSON" in r["error"]
    status, r = http(f"{s['url']}/api/curation", body={"workspace": "sortingview-workspace:zz", "sortingId": "S",
                                                       "action": {"type": "CLOSE_CURATION"}}, headers=hdr)
    assert status == 400 and "workspace URI" in r["error"]
    status, r = http(f"{s['url']}/api/curation", body={"workspace": s["W"].uri, "sortingId": "S-none",
                                                       "action": {"type": "CLOSE_CURATION"}}, headers=hdr)
    assert status == 404 and "S-none" in r["error"]
    status, r = http(f"{s['url']}/api/curation", body={"workspace": s["W"].uri, "sortingId": s["sid"],
                                                       "action": "CLOSE"}, headers=hdr)
    assert status == 400 and "'action' must be a dict" in r["error"]


def test_closed_curation_refuses_changes_until_reopened(setup):
    s = setup
    assert write(s, {"type": "CLOSE_CURATION"}, "alice")[0] == 200
    status, r = write(s, {"type": "ADD_UNIT_LABEL", "unitId": s["units"][0], "label": "accept"}, "alice")
    assert status == 400 and "closed" in r["error"]
    assert write(s, {"type": "REOPEN_CURATION"}, "alice")[0] == 200
    assert write(s, {"type": "ADD_UNIT_LABEL", "unitId": s["units"][0], "label": "accept"}, "alice")[0] == 200


def test_home_page_lists_workspaces_with_links_to_views(setup):
    s = setup
    status, html = http(f"{s['url']}/")
    html = html.decode()
    assert status == 200 and "curation over http" in html and "sorter X" in html and "rec A" in html
    links = re.findall(r'href="([^"]*/f\?v=spikesortingview-1[^"]*)"', html)
    assert len(links) == 1 and links[0].startswith(s["url"])
    status, page = http(links[0].replace("&amp;", "&"))
    assert status == 200 and b'<script type="module" src="/viewer/js/main.js">' in page


def test_curators_add_custom_labels_to_the_label_choices(setup):
    s = setup
    body = {"workspace": s["W"].uri, "sortingId": s["sid"], "label": "burst"}
    assert http(f"{s['url']}/api/label-choices", body=body)[0] == 401
    bob = {"Authorization": f"Bearer {s['tokens']['bob']}"}
    assert http(f"{s['url']}/api/label-choices", body=body, headers=bob)[0] == 403
    alice = {"Authorization": f"Bearer {s['tokens']['alice']}"}
    status, r = http(f"{s['url']}/api/label-choices", body=body, headers=alice)
    assert status == 200 and r["labelChoices"][-1] == "burst"
    assert write(s, {"type": "ADD_UNIT_LABEL", "unitId": s["units"][1], "label": "burst"}, "alice")[0] == 200
    assert s["W"].get_sorting_curation(s["sid"])["labelsByUnit"] == {str(s["units"][1]): ["burst"]}
    status, r = http(f"{s['url']}/api/label-choices", body={**body, "label": "  "}, headers=alice)
    assert status == 400 and "label choices" in r["error"]
    status, r = http(f"{s['url']}/api/label-choices", body={**body, "label": "y" * 65}, headers=alice)
    assert status == 400 and "at most 64 characters" in r["error"]
    assert "y" * 65 not in s["W"].get_label_choices(s["sid"])
