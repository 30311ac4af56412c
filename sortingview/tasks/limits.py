"""Upper bounds on task inputs, so that no small request can make a worker allocate gigabytes.

Two stages. :func:`check_static` runs in :func:`~sortingview.tasks.registry.validate_input` (so the server and
clients refuse a bad request before it is queued): finite numbers within fixed ranges, list lengths, and
products of fields that size one allocation (correlogram bins, snippets x frames x channels). :func:`with_data`
runs where the task runs, with the recording and sorting loaded (they are cached per process, so the task's own
load costs nothing more): unit lists no longer than the sorting has units, frame ranges clamped to the
recording, snippets shorter than the recording. Every refusal is a :class:`TaskInputError` naming the field
and the limit.

Bounds apply by field name to every task, built-in or plugin, so a field means the same everywhere.
"""
from __future__ import annotations

import math
from typing import Any

from ..errors import TaskInputError

#: field -> (lowest, highest, whether the lowest is allowed)
NUMBER_LIMITS: dict[str, tuple[float, float, bool]] = {
    "windowMs": (0.0, 10_000.0, False),
    "binMs": (0.0, 10_000.0, False),
    "maxSnippets": (1, 20_000, True),
    "maxSpikesPerUnit": (1, 1_000_000, True),
    "numComponents": (1, 20, True),
    "maxSamples": (2, 20_000, True),
    "neighborhoodSize": (1, 4096, True),
    "isiThresholdMs": (0.0, 10_000.0, False),
    "presenceBinSec": (0.001, 1e7, True),
    "deltaTimeMs": (0.0, 1_000.0, False),
    "matchScore": (0.0, 1.0, True),
}
MAX_CORRELOGRAM_BINS = 10_000
#: pairs x bins of one cross-correlogram request (int64 counts: 400 MB at most)
MAX_CROSS_CORRELOGRAM_CELLS = 50_000_000
MAX_SNIPPET_FRAMES = 2_000  # frames before + after the peak
#: snippets x frames x channels held at once for one unit (float32: 400 MB at most)
MAX_SNIPPET_VALUES = 100_000_000
MAX_UNIT_IDS = 10_000
MAX_CHANNEL_IDS = 10_000
MAX_PRESENCE_BINS = 1_000_000


def _refuse(task: str, field: str, value: Any, limit: str) -> TaskInputError:
    return TaskInputError(f"task {task}: input field {field!r} = {value!r:.80} is out of range: {limit}")


def check_finite(task: str, field: str, value: Any, depth: int = 0) -> None:
    """NaN and infinity are never valid task inputs (JSON has neither; Python's json accepts them)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise _refuse(task, field, value, "numbers must be finite (no NaN or Infinity)")
    if depth < 4 and isinstance(value, (list, tuple)):
        for v in value:
            check_finite(task, field, v, depth + 1)
    elif depth < 4 and isinstance(value, dict):
        for v in value.values():
            check_finite(task, field, v, depth + 1)


def _check_number(task: str, field: str, value: Any) -> None:
    low, high, low_ok = NUMBER_LIMITS[field]
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return  # the type check of the registry speaks about types
    if value > high or value < low or (value == low and not low_ok):
        least = f"at least {low:g}" if low_ok else ("positive" if low == 0 else f"above {low:g}")
        raise _refuse(task, field, value, f"it must be {least} and at most {high:g}")


def _unit_count(task: str, field: str, ids: Any, limit: int, group_limit: int) -> None:
    if not isinstance(ids, list):
        return
    if len(ids) > limit:
        raise _refuse(task, field, f"[{len(ids)} ids]", f"at most {limit} unit ids per request")
    for u in ids:
        if isinstance(u, list):
            if len(u) > group_limit:
                raise _refuse(task, field, f"[merge group of {len(u)}]",
                              f"at most {group_limit} ids in a merge group")
            if any(isinstance(m, (list, dict)) for m in u):
                raise _refuse(task, field, u, "a merge group lists unit ids (numbers or strings), not lists")
        elif isinstance(u, dict):
            raise _refuse(task, field, u, "a unit id is a number, a string, or a list of them (a merge group)")


def _snippet_frames(task: str, kwargs: dict) -> int | None:
    sl = kwargs.get("snippetLen")
    if sl is None:
        return None
    whole = all(not isinstance(x, bool) and (isinstance(x, int) or isinstance(x, float) and x.is_integer())
                for x in sl) if isinstance(sl, (list, tuple)) else False
    if not (whole and len(sl) == 2):
        raise _refuse(task, "snippetLen", sl, "it must be two whole numbers [frames before, frames after]")
    sl = [int(x) for x in sl]
    if min(sl) < 0 or sum(sl) < 1 or sum(sl) > MAX_SNIPPET_FRAMES:
        raise _refuse(task, "snippetLen", sl, f"both >= 0, together 1 to {MAX_SNIPPET_FRAMES} frames")
    return sum(sl)


def _correlogram_bins(task: str, kwargs: dict, defaults: dict) -> int | None:
    window = kwargs.get("windowMs", defaults.get("windowMs"))
    bin_ms = kwargs.get("binMs", defaults.get("binMs"))
    if not all(isinstance(x, (int, float)) and x > 0 for x in (window, bin_ms)):
        return None
    n_bins = window / bin_ms
    if n_bins > MAX_CORRELOGRAM_BINS:
        raise _refuse(task, "windowMs", window, f"windowMs / binMs = {n_bins:.0f} bins; at most "
                      f"{MAX_CORRELOGRAM_BINS} bins (widen binMs or narrow windowMs)")
    return max(1, round(n_bins))


def check_static(task: str, kwargs: dict, defaults: dict | None = None) -> None:
    """The bounds that need no data: called by validate_input with the task's keyword arguments."""
    defaults = defaults or {}
    for field, value in kwargs.items():
        check_finite(task, field, value)
        if field in NUMBER_LIMITS:
            _check_number(task, field, value)
    for field in ("unitIds", "unitId", "unitId1", "unitId2"):
        if field in kwargs:
            _unit_count(task, field, kwargs[field] if field == "unitIds" else [kwargs[field]], MAX_UNIT_IDS,
                        MAX_UNIT_IDS)
    if isinstance(kwargs.get("channelIds"), list) and len(kwargs["channelIds"]) > MAX_CHANNEL_IDS:
        raise _refuse(task, "channelIds", f"[{len(kwargs['channelIds'])} ids]", f"at most {MAX_CHANNEL_IDS}")
    n_bins = _correlogram_bins(task, kwargs, defaults) if "windowMs" in {*kwargs, *defaults} else None
    units = kwargs.get("unitIds")
    if n_bins and isinstance(units, list) and "cross" in task:
        cells = len(units) ** 2 * n_bins
        if cells > MAX_CROSS_CORRELOGRAM_CELLS:
            raise _refuse(task, "unitIds", f"[{len(units)} units]", f"{len(units)}^2 pairs x {n_bins} bins = {cells} "
                          f"counts; at most {MAX_CROSS_CORRELOGRAM_CELLS} (ask for fewer units or fewer bins)")
    _check_snippet_size(task, kwargs, defaults)


def _check_snippet_size(task: str, kwargs: dict, defaults: dict) -> None:
    frames = _snippet_frames(task, kwargs) or _snippet_frames(task, {"snippetLen": defaults.get("snippetLen")})
    count = kwargs.get("maxSnippets", kwargs.get("maxSpikesPerUnit",
                                                 defaults.get("maxSnippets", defaults.get("maxSpikesPerUnit"))))
    channels = kwargs.get("neighborhoodSize", defaults.get("neighborhoodSize", 1))
    if not (frames and isinstance(count, int) and isinstance(channels, int)):
        return
    values = count * frames * channels
    if values > MAX_SNIPPET_VALUES:
        raise _refuse(task, "snippetLen", kwargs.get("snippetLen", defaults.get("snippetLen")),
                      f"{count} snippets x {frames} frames x {channels} channels = {values} values; at most "
                      f"{MAX_SNIPPET_VALUES} (fewer spikes, shorter snippets or a smaller neighborhood)")


# --- bounds that need the data ------------------------------------------------------------------------------
def with_data(task: str, kwargs: dict) -> dict:
    """The bounds that need the recording or sorting: run where the task runs; returns the (clamped) kwargs."""
    from . import _objects

    if isinstance(kwargs.get("sorting"), str):
        srt = _objects.load_sorting(kwargs["sorting"])
        n_units = len(srt.get_unit_ids())
        for field in ("unitIds", "unitId", "unitId1", "unitId2"):
            if field in kwargs:
                # each unit once, plus as many merge groups: more entries can only repeat work
                _unit_count(task, field, kwargs[field] if field == "unitIds" else [kwargs[field]], 2 * n_units,
                            n_units)
    if isinstance(kwargs.get("recording"), str):
        kwargs = _recording_bounds(task, kwargs, _objects.load_recording(kwargs["recording"]))
    return kwargs


def _recording_bounds(task: str, kwargs: dict, rec) -> dict:
    num_frames = int(rec.get_num_samples(segment_index=0))
    if isinstance(kwargs.get("endFrame"), int) and kwargs["endFrame"] > num_frames > kwargs.get("startFrame", 0):
        kwargs = {**kwargs, "endFrame": num_frames}  # a window running past the end is cut at the end
    sl = kwargs.get("snippetLen")
    if isinstance(sl, (list, tuple)) and sum(sl) > num_frames:
        raise _refuse(task, "snippetLen", sl, f"a snippet cannot be longer than the recording ({num_frames} frames)")
    bin_sec = kwargs.get("presenceBinSec")
    if isinstance(bin_sec, (int, float)) and bin_sec > 0:
        n = num_frames / rec.get_sampling_frequency() / bin_sec
        if n > MAX_PRESENCE_BINS:
            raise _refuse(task, "presenceBinSec", bin_sec, f"{n:.0f} bins over the recording; at most "
                          f"{MAX_PRESENCE_BINS}")
    return kwargs


__all__ = ["check_static", "with_data", "check_finite", "NUMBER_LIMITS", "MAX_CORRELOGRAM_BINS",
           "MAX_CROSS_CORRELOGRAM_CELLS", "MAX_SNIPPET_FRAMES", "MAX_SNIPPET_VALUES", "MAX_UNIT_IDS"]
