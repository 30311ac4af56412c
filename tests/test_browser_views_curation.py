"""Curation in views figures (SortingCuration2 with the link's state.sortingCuration), in Chromium against a
real server: a sha1:// JSON curation is loaded, changed (labels with shift+number, merge, unmerge), saved by a
signed-in user as a new JSON whose URI replaces the link's, and reloads; a workspace curation feed is written as
the signed-in, authorized user; anyone else's save is a copy (a new sha1:// JSON in the link)."""
from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest
from test_browser_support import checked_page, screenshot
from test_server_support import running_server
from views_figure_data import autocorrelograms, figure_url, mountain, store_figure, units_table

from sortingview.server.auth import UserStore, users_file
from sortingview.store import load_json, store_json

UNITS = [1, 2, 3, 5, 8, 13]


@pytest.fixture
def tokens(store_dir):
    users = UserStore(users_file())
    return {u: users.add_user(u) for u in ("alice", "bob")}


@pytest.fixture
def server(tokens):
    with running_server(inline=True) as srv:
        yield srv


def curation_figure(units, label_choices):
    views = [units_table(units), autocorrelograms(units), {"type": "SortingCuration2", "labelChoices": label_choices}]
    return store_figure(views, mountain(views, ["Units", "Autocorrelograms", "Curation"], {2}))


def sign_in(page, token):
    page.click("#signin-btn")
    page.fill("#token-input", token)
    page.click("#signin-form button[type=submit]")
    page.wait_for_function("() => !document.querySelector('#signin-dialog').open")


def link_state(page) -> dict:
    """The link's &s= state as the page has it now (page.url follows history.replaceState only later)."""
    return json.loads(parse_qs(page.evaluate("() => location.search").lstrip("?"))["s"][0])


def chips(page, unit) -> list[str]:
    return page.locator(f"tr[data-unit='{unit}'] .label-chip").all_inner_texts()


def test_sha1_curation_loads_changes_saves_and_reloads(server, browser, tokens):
    start = store_json({"labelsByUnit": {"2": ["good"]}, "mergeGroups": [[3, 5]]})
    root = curation_figure(UNITS, ["good", "bad", "mua"])
    with checked_page(browser) as page:
        page.goto(figure_url(server.url, root, "sha1 curation", {"sortingCuration": start, "timeRange": [0, 1]}))
        page.wait_for_selector("tr[data-unit='2'] .label-chip:has-text('good')")
        assert page.locator("tr[data-unit='3'].merged").count() == 1
        # shift+number toggles label choice N on the selected units (local until saved)
        page.click("tr[data-unit='1'] td.unit")
        page.keyboard.press("Shift+Digit1")
        page.wait_for_selector("tr[data-unit='1'] .label-chip:has-text('good')")
        page.keyboard.press("Shift+Digit3")
        assert chips(page, 1) == ["good", "mua"]
        page.keyboard.press("Shift+Digit3")
        assert chips(page, 1) == ["good"]
        assert page.locator(".curation-view .status.dirty").inner_text() == "unsaved changes"
        assert page.locator(".curation-view button.save").is_disabled()  # not signed in
        # merge 8 and 13 (the selection is cleared, as the original), unmerge 3
        page.click("tr[data-unit='8'] td.unit")
        page.click("tr[data-unit='13'] td.unit", modifiers=["Control"])
        page.click(".curation-view button.merge")
        page.wait_for_selector("tr[data-unit='13'].merged")
        assert page.locator("tr.selected").count() == 0
        page.click("tr[data-unit='3'] td.unit")
        page.click(".curation-view button.unmerge")
        page.wait_for_selector("tr[data-unit='3']:not(.merged)")
        sign_in(page, tokens["alice"])
        page.click(".curation-view button.save")
        page.wait_for_function(f"() => !decodeURIComponent(location.search).includes('{start}')")
        saved = link_state(page)["sortingCuration"]
        assert saved.startswith("sha1://") and saved != start
        assert link_state(page)["timeRange"] == [0, 1]  # the rest of the link's state is kept
        assert load_json(saved) == {"labelsByUnit": {"1": ["good"], "2": ["good"]}, "mergeGroups": [[8, 13]],
                                    "isClosed": False}
        assert page.locator(".curation-view .status").first.inner_text() == "saved"
        screenshot(page, "views-curation-sha1.png")
        page.goto(page.evaluate("() => location.href"))  # reload: the saved curation comes back
        page.wait_for_selector("tr[data-unit='1'] .label-chip:has-text('good')")
        assert page.locator("tr[data-unit='13'].merged").count() == 1
        assert page.locator("tr[data-unit='3'].merged").count() == 0


def test_figure_without_curation_state_saves_a_new_one(server, browser, tokens):
    root = curation_figure(UNITS, ["good", "bad"])
    with checked_page(browser) as page:
        page.goto(figure_url(server.url, root, "no curation yet"))
        sign_in(page, tokens["bob"])
        page.click("tr[data-unit='5'] td.unit")
        page.click(".curation-view input[data-label=bad]")
        page.wait_for_selector("tr[data-unit='5'] .label-chip:has-text('bad')")
        page.click(".curation-view button.save")
        page.wait_for_function("() => decodeURIComponent(location.search).includes('sortingCuration')")
        assert load_json(link_state(page)["sortingCuration"])["labelsByUnit"] == {"5": ["bad"]}


def test_feed_curation_is_written_by_an_authorized_user_only(server, browser, tokens, tmp_path):
    from datasets import make_dataset

    from sortingview.workspace import create_workspace

    ds = make_dataset(tmp_path, seed=4, num_channels=4, durations=2.0, num_units=4)
    W = create_workspace(label="feed curation")
    rid = W.add_recording(label="rec", recording=ds.recording)
    sid = W.add_sorting(recording_id=rid, label="sorting", sorting=ds.sorting)
    W.set_sorting_curation_authorized_users(sid, ["alice"])
    feed = W.get_curation_feed_uri(sid)
    units = W.get_unit_ids(sid)
    u0, u1 = str(units[0]), str(units[1])
    root = curation_figure(units, ["accept", "reject"])
    url = figure_url(server.url, root, "feed curation", {"sortingCuration": feed})
    with checked_page(browser) as page:
        page.goto(url)
        page.wait_for_selector(".curation-view .who:has-text('sign in to save (to the feed if it authorizes you')")
        # bob may not write to the feed: his save is a copy, a new sha1:// JSON in the link; the feed is unchanged
        sign_in(page, tokens["bob"])
        page.wait_for_selector(".curation-view .who:has-text('bob may not write to this feed')")
        page.click(f"tr[data-unit='{u1}'] td.unit")
        page.keyboard.press("Shift+Digit2")
        page.wait_for_selector(f"tr[data-unit='{u1}'] .label-chip:has-text('reject')")
        page.click(".curation-view button.save")
        page.wait_for_function("() => JSON.parse(new URLSearchParams(location.search).get('s'))"
                               ".sortingCuration.startsWith('sha1://')")
        copy = link_state(page)["sortingCuration"]
        assert load_json(copy)["labelsByUnit"] == {u1: ["reject"]}
        assert W.get_sorting_curation(sid)["labelsByUnit"] == {}
        page.goto(url)  # the feed's link again
        page.wait_for_selector("#signin-btn:has-text('Sign out bob')")
        page.click("#signin-btn")  # sign out
        sign_in(page, tokens["alice"])
        page.wait_for_selector(".curation-view .who:has-text('curating as alice')")
        page.click(f"tr[data-unit='{u0}'] td.unit")
        page.keyboard.press("Shift+Digit1")
        page.click(f"tr[data-unit='{u0}'] td.unit")
        page.click(f"tr[data-unit='{u1}'] td.unit", modifiers=["Control"])
        page.click(".curation-view button.merge")
        page.click(".curation-view button.save")
        page.wait_for_selector(".curation-view .status:text-is('saved')")  # not 'unsaved changes'
        assert link_state(page)["sortingCuration"] == feed  # a feed stays the link's curation
        cur = W.get_sorting_curation(sid)
        assert cur["labelsByUnit"] == {u0: ["accept"]}
        assert [sorted(map(str, g)) for g in cur["mergeGroups"]] == [sorted([u0, u1])]
        assert {h["userId"] for h in W.get_sorting_curation_history(sid)} == {"alice"}
        screenshot(page, "views-curation-feed.png")
        # a change made elsewhere (a script) appears by itself
        W.apply_curation_action(sid, {"type": "ADD_UNIT_LABEL", "unitId": units[2], "label": "reject"})
        page.wait_for_selector(f"tr[data-unit='{units[2]}'] .label-chip:has-text('reject')", timeout=30_000)
        page.goto(page.evaluate("() => location.href"))
        page.wait_for_selector(f"tr[data-unit='{u0}'] .label-chip:has-text('accept')")
        assert page.locator(f"tr[data-unit='{u1}'].merged").count() == 1


def test_the_javascript_reducer_matches_the_python_one(server, browser):
    """The page applies curation actions with js/curation_state.js before saving: on seeded random action
    sequences it gives exactly what sortingview.workspace.curation.reduce_curation gives."""
    import random

    from sortingview.workspace.curation import normalize_state, reduce_curation

    rng = random.Random(7)
    units = [1, 2, 3, 10, 20, "a", "b"]
    sequences = []
    for _ in range(40):
        actions = []
        for _ in range(rng.randint(1, 12)):
            kind = rng.choice(["ADD_UNIT_LABEL", "REMOVE_UNIT_LABEL", "MERGE_UNITS", "UNMERGE_UNITS",
                               "CLOSE_CURATION", "REOPEN_CURATION"])
            picked = rng.sample(units, rng.randint(1, 3))
            if kind in ("ADD_UNIT_LABEL", "REMOVE_UNIT_LABEL"):
                actions.append({"type": kind, "unitId": picked if len(picked) > 1 else picked[0],
                                "label": rng.choice(["accept", "noise", "mua"])})
            elif kind in ("MERGE_UNITS", "UNMERGE_UNITS"):
                actions.append({"type": kind, "unitIds": picked})
            else:
                actions.append({"type": kind})
        sequences.append(actions)
    with checked_page(browser) as page:
        page.goto(f"{server.url}/viewer/index.html")
        got = page.evaluate("""async (sequences) => {
          const m = await import('/viewer/js/curation_state.js');
          return sequences.map((actions) => actions.reduce(m.applyCurationAction, m.emptyCuration()));
        }""", sequences)
    for actions, js in zip(sequences, got, strict=True):
        expected = reduce_curation([{"action": a} for a in actions])
        assert js == expected and normalize_state(js) == expected, actions
