"""Bounds on task inputs: no small request makes a worker allocate gigabytes; every refusal names the limit."""
from __future__ import annotations

import pytest
from datasets import make_dataset

from sortingview.errors import TaskInputError
from sortingview.tasks import get_task, run_task_inline, validate_input
from sortingview.tasks.limits import MAX_CORRELOGRAM_BINS, MAX_SNIPPET_FRAMES


@pytest.fixture
def ds(store_dir, tmp_path):
    return make_dataset(tmp_path, seed=3, num_channels=4, durations=2.0, num_units=3)


SORTING = f"sha1://{'a' * 40}"
RECORDING = f"sha1://{'b' * 40}"


@pytest.mark.parametrize("task, task_input, match", [
    ("autocorrelograms", {"sorting": SORTING, "windowMs": 10_000, "binMs": 0.001}, "10000000 bins; at most 10000"),
    ("autocorrelograms", {"sorting": SORTING, "windowMs": 1e9}, "'windowMs' = 1000000000.0 is out of range"),
    ("autocorrelograms", {"sorting": SORTING, "windowMs": float("nan")}, "finite"),
    ("autocorrelograms", {"sorting": SORTING, "binMs": float("inf")}, "finite"),
    ("cross_correlograms", {"sorting": SORTING, "unitIds": list(range(600)), "windowMs": 100, "binMs": 0.5},
     "600\\^2 pairs x 200 bins"),
    ("autocorrelograms", {"sorting": SORTING, "unitIds": list(range(20_000))}, "at most 10000 unit ids"),
    ("autocorrelograms", {"sorting": SORTING, "unitIds": [list(range(20_000))]}, "at most 10000 ids in a merge"),
    ("unit_snippets", {"recording": RECORDING, "sorting": SORTING, "unitId": 1, "snippetLen": [10**7, 10**7]},
     f"together 1 to {MAX_SNIPPET_FRAMES} frames"),
    ("unit_snippets", {"recording": RECORDING, "sorting": SORTING, "unitId": 1, "maxSnippets": 10**9},
     "'maxSnippets' = 1000000000 is out of range"),
    ("average_waveforms", {"recording": RECORDING, "sorting": SORTING, "maxSpikesPerUnit": 1_000_000,
                           "snippetLen": [1000, 1000], "neighborhoodSize": 64}, "at most 100000000"),
    ("unit_features", {"recording": RECORDING, "sorting": SORTING, "unitId": 1, "numComponents": 10_000},
     "'numComponents' = 10000 is out of range: it must be at least 1 and at most 20"),
    ("timeseries_segment", {"recording": RECORDING, "startFrame": 0, "endFrame": 10, "maxSamples": 10**9},
     "'maxSamples'.*at most 20000"),
    ("timeseries_segment", {"recording": RECORDING, "startFrame": 0, "endFrame": 10, "channelIds": list(range(10**5))},
     "at most 10000"),
    ("unit_metrics", {"recording": RECORDING, "sorting": SORTING, "presenceBinSec": 1e-9}, "presenceBinSec"),
    ("compare_sortings", {"sorting": SORTING, "groundTruthSorting": SORTING, "matchScore": 2}, "at most 1"),
])
def test_oversized_inputs_are_refused_before_queueing_naming_the_limit(task, task_input, match):
    with pytest.raises(TaskInputError, match=match):
        validate_input(get_task(f"sortingview.{task}.1"), task_input)


def test_the_viewers_usual_requests_pass():
    validate_input(get_task("sortingview.cross_correlograms.1"),
                   {"sorting": SORTING, "unitIds": list(range(40)), "windowMs": 100, "binMs": 1})
    validate_input(get_task("sortingview.timeseries_segment.1"),
                   {"recording": RECORDING, "startFrame": 0, "endFrame": 10**6, "maxSamples": 7680})
    assert MAX_CORRELOGRAM_BINS == 10_000


def test_unit_lists_longer_than_the_sorting_can_name_are_refused_where_the_task_runs(ds):
    with pytest.raises(TaskInputError, match="at most 6 unit ids"):
        run_task_inline("sortingview.autocorrelograms.1", {"sorting": ds.sorting_uri, "unitIds": [ds.unit_ids[0]] * 7})
    with pytest.raises(TaskInputError, match="at most 3 ids in a merge group"):
        run_task_inline("sortingview.autocorrelograms.1",
                        {"sorting": ds.sorting_uri, "unitIds": [[ds.unit_ids[0]] * 4]})
    ok = run_task_inline("sortingview.autocorrelograms.1", {"sorting": ds.sorting_uri, "unitIds": ds.unit_ids * 2})
    assert len(ok["autocorrelograms"]) == 6


def test_frame_ranges_are_clamped_to_the_recording(ds):
    n = ds.num_frames[0]
    res = run_task_inline("sortingview.timeseries_segment.1",
                          {"recording": ds.recording_uri, "startFrame": n - 100, "endFrame": 10**15})
    assert res["endFrame"] == n and res["traces"].shape[0] == 100


def test_a_snippet_longer_than_the_recording_is_refused(store_dir, tmp_path):
    short = make_dataset(tmp_path, seed=4, num_channels=2, durations=0.05, num_units=2)  # 1500 frames
    with pytest.raises(TaskInputError, match="longer than the recording"):
        run_task_inline("sortingview.unit_snippets.1",
                        {"recording": short.recording_uri, "sorting": short.sorting_uri, "unitId": short.unit_ids[0],
                         "snippetLen": [1000, 1000], "maxSnippets": 1, "neighborhoodSize": 1})
