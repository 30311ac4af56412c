"""Curation: the vocabulary, validation, authors, history, state at N, revert, and the pure reducer."""
from __future__ import annotations

import pytest
from datasets import make_dataset

from sortingview.errors import AuthError, CurationError
from sortingview.workspace import create_workspace, load_workspace
from sortingview.workspace.curation import reduce_curation


@pytest.fixture
def ws(store_dir, tmp_path):
    d = make_dataset(tmp_path, seed=4, num_channels=4, durations=1.0, num_units=6)
    W = create_workspace(label="curation")
    rid = W.add_recording(label="r", recording=d.recording)
    sid = W.add_sorting(recording_id=rid, label="s", sorting=d.sorting)
    return W, sid, d


def test_labels_merges_and_close(ws):
    W, sid, _ = ws
    assert W.get_sorting_curation(sid) == {"labelsByUnit": {}, "mergeGroups": [], "isClosed": False}
    W.sorting_curation_add_label(sid, label="accept", unit_ids=["0", "1"])
    W.sorting_curation_add_label(sid, label="mua", unit_ids="1")
    W.sorting_curation_remove_label(sid, label="accept", unit_ids="1")
    W.sorting_curation_merge_units(sid, ["2", "3"])
    W.sorting_curation_merge_units(sid, ["4", "3"])  # shares unit 3: groups unite
    W.close_sorting_curation(sid)
    state = load_workspace(W.uri).get_sorting_curation(sid)
    assert state == {"labelsByUnit": {"0": ["accept"], "1": ["mua"]}, "mergeGroups": [["2", "3", "4"]],
                     "isClosed": True}
    with pytest.raises(CurationError, match="closed"):
        W.sorting_curation_add_label(sid, label="noise", unit_ids="5")
    W.reopen_sorting_curation(sid)
    W.sorting_curation_unmerge_units(sid, ["3"])
    assert W.get_sorting_curation(sid)["mergeGroups"] == [["2", "4"]]
    W.sorting_curation_unmerge_units(sid, ["4"])
    assert W.get_sorting_curation(sid)["mergeGroups"] == []


def test_integer_ids_sent_as_text_and_numpy_ids_are_accepted(ws):
    W, sid, d = ws
    W.apply_curation_action(sid, {"type": "ADD_UNIT_LABEL", "unitId": "5", "label": "noise"})
    assert W.get_sorting_curation(sid)["labelsByUnit"] == {"5": ["noise"]}
    units = d.sorting.unit_ids  # a numpy array, as users pass it
    W.sorting_curation_merge_units(sid, units[:2])
    W.sorting_curation_add_label(sid, label="mua", unit_ids=units[2])
    assert W.get_sorting_curation(sid) == {"labelsByUnit": {"2": ["mua"], "5": ["noise"]},
                                           "mergeGroups": [["0", "1"]], "isClosed": False}


@pytest.mark.parametrize("action, message", [
    ({"type": "ADD_UNIT_LABEL", "unitId": "99", "label": "accept"}, "unit '99' is not in the sorting"),
    ({"type": "ADD_UNIT_LABEL", "unitId": "0", "label": "excellent"}, "not one of this sorting's label choices"),
    ({"type": "ADD_UNIT_LABEL", "unitId": "0"}, "needs a 'label'"),
    ({"type": "MERGE_UNITS", "unitIds": ["0"]}, "two or more distinct units"),
    ({"type": "MERGE_UNITS", "unitIds": ["0", "0"]}, "two or more distinct units"),
    ({"type": "MERGE_UNITS"}, "needs 'unitIds'"),
    ({"type": "SPLIT_UNIT", "unitId": "0"}, "unknown curation action 'SPLIT_UNIT'"),
    ({"unitId": "0"}, "must be an object with a 'type'"),
    ("ADD_UNIT_LABEL", "must be an object with a 'type'"),
    ({"type": "REVERT_CURATION", "to": 5}, "out of range"),
])
def test_bad_actions_get_clear_errors_and_change_nothing(ws, action, message):
    W, sid, _ = ws
    with pytest.raises(CurationError, match=message):
        W.apply_curation_action(sid, action)
    assert W.get_sorting_curation_history(sid) == []


def test_label_choices_are_per_sorting(ws):
    W, sid, d = ws
    assert W.get_label_choices(sid) == ["accept", "reject", "noise", "artifact", "mua"]
    W.set_sorting_curation_label_choices(sid, ["good", "bad", "maybe"])
    W.sorting_curation_add_label(sid, label="maybe", unit_ids="0")
    with pytest.raises(CurationError, match="good, bad, maybe"):
        W.sorting_curation_add_label(sid, label="accept", unit_ids="0")
    with pytest.raises(CurationError, match="two or more"):
        W.set_sorting_curation_label_choices(sid, ["only"])
    with pytest.raises(CurationError, match="at most 100 labels"):
        W.set_sorting_curation_label_choices(sid, [f"l{i}" for i in range(101)])
    rid = W.recording_ids[0]
    other = W.add_sorting(recording_id=rid, label="other", sorting=d.sorting)
    assert W.get_label_choices(other)[0] == "accept"


def test_authorized_users_and_authors(ws):
    W, sid, _ = ws
    assert W.get_sorting_curation_authorized_users(sid) == []
    W.set_sorting_curation_authorized_users(sid, ["alice@lab", "bob@lab"])
    assert load_workspace(W.uri).get_sorting_curation_authorized_users(sid) == ["alice@lab", "bob@lab"]
    n = W.apply_curation_action(sid, {"type": "ADD_UNIT_LABEL", "unitId": "0", "label": "accept"},
                                user_id="alice@lab")
    with pytest.raises(AuthError, match="mallory"):
        W.apply_curation_action(sid, {"type": "ADD_UNIT_LABEL", "unitId": "1", "label": "accept"},
                                user_id="mallory")
    W.sorting_curation_add_label(sid, label="noise", unit_ids="2")
    history = W.get_sorting_curation_history(sid)
    assert n == 0 and [h["userId"] for h in history][0] == "alice@lab"
    assert history[1]["userId"].startswith("local") and history[1]["action"]["label"] == "noise"
    assert history[0]["timestamp"] <= history[1]["timestamp"]


def test_state_at_n_and_revert_keep_history(ws):
    W, sid, _ = ws
    W.sorting_curation_add_label(sid, label="accept", unit_ids="0")  # 0
    W.sorting_curation_merge_units(sid, ["1", "2"])  # 1
    W.sorting_curation_add_label(sid, label="noise", unit_ids="3")  # 2
    after_1 = W.get_sorting_curation(sid, at=1)
    assert after_1 == {"labelsByUnit": {"0": ["accept"]}, "mergeGroups": [["1", "2"]], "isClosed": False}
    assert W.get_sorting_curation(sid, at=-1)["labelsByUnit"] == {}
    n = W.revert_sorting_curation(sid, to=1)
    assert n == 3 and W.get_sorting_curation(sid) == after_1
    history = W.get_sorting_curation_history(sid)
    assert len(history) == 4 and history[3]["action"]["revertTo"] == 1
    W.revert_sorting_curation(sid, to=-1)  # back to the sorter's output
    assert W.get_sorting_curation(sid) == {"labelsByUnit": {}, "mergeGroups": [], "isClosed": False}
    W.revert_sorting_curation(sid, to=2)  # a revert can itself be undone
    assert W.get_sorting_curation(sid)["labelsByUnit"] == {"0": ["accept"], "3": ["noise"]}
    with pytest.raises(CurationError, match="out of range"):
        W.get_sorting_curation(sid, at=99)


def test_reducer_is_pure_and_unions_groups_transitively():
    msgs = [{"action": a} for a in [
        {"type": "MERGE_UNITS", "unitIds": [1, 2]},
        {"type": "MERGE_UNITS", "unitIds": [3, 4]},
        {"type": "MERGE_UNITS", "unitIds": [10, 2]},
        {"type": "MERGE_UNITS", "unitIds": [4, 10]},
        {"type": "ADD_UNIT_LABEL", "unitId": [1, 3], "label": "accept"},
        {"type": "CLOSE_CURATION"},
        {"type": "ADD_UNIT_LABEL", "unitId": 5, "label": "noise"},  # raced with the close: ignored
        {"type": "SOME_FUTURE_ACTION"},
    ]]
    state = reduce_curation(msgs)
    assert state == {"labelsByUnit": {"1": ["accept"], "3": ["accept"]}, "mergeGroups": [[1, 2, 3, 4, 10]],
                     "isClosed": True}
    assert reduce_curation(msgs, at=1)["mergeGroups"] == [[1, 2], [3, 4]]
    assert msgs[0] == {"action": {"type": "MERGE_UNITS", "unitIds": [1, 2]}}


def test_concurrent_curators_both_land(ws):
    import subprocess
    import sys
    import textwrap

    W, sid, _ = ws
    script = textwrap.dedent(f"""
        import sys
        import sortingview as sv
        W = sv.load_workspace({W.uri!r})
        for u in sys.argv[1:]:
            W.sorting_curation_add_label({sid!r}, label="accept", unit_ids=u)
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, *units]) for units in (["0", "1", "2"], ["3", "4"])]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    assert sorted(W.get_sorting_curation(sid)["labelsByUnit"]) == ["0", "1", "2", "3", "4"]
    assert sorted(h["messageNumber"] for h in W.get_sorting_curation_history(sid)) == [0, 1, 2, 3, 4]
