"""figURLs: ``W.spikesortingview(...)`` stores the figure data and returns the link that opens the viewer.

A figURL is ``<base>/f?v=spikesortingview-1&d=sha1://<hash>&label=<quoted>``; ``<base>`` is
``$SORTINGVIEW_URL`` if set (links shared on a network can name the host that serves them), else the URL of
the server ``sortingview-start-backend`` runs on this store (``sortingview/live_server.py``), else
``http://127.0.0.1:15310``. Optional parts: ``&s=<json>`` (selected units and open view, so a shared link
reproduces a view) and ``&channel=<name>`` (the channel the viewer submits its tasks to).

The figure data is a JSON object in the store (content-addressed, so the same view gives the same link):
the workspace URI and the ids, object URIs and labels of the recording and sorting, the sorting's curation
feed, its unit ids, external unit metrics and label choices, and the snippet length used for waveforms.
The original's ``_raster_plot_subsample_max_firing_rate`` / ``_spike_amplitudes_subsample_max_firing_rate``
(Hz; at most this many spikes per second of recording are drawn for a unit) travel as
``rasterPlotSubsampleMaxFiringRate`` / ``spikeAmplitudesSubsampleMaxFiringRate``, with the spike cap they mean
for this recording, ``rasterPlotMaxSpikesPerUnit`` / ``spikeAmplitudesMaxSpikesPerUnit`` (null: every spike).
"""
from __future__ import annotations

import json
import math
import numbers
import os
import re
from typing import Any
from urllib.parse import quote, urlencode

from .. import store
from ..errors import WorkspaceError

DEFAULT_BASE_URL = "http://127.0.0.1:15310"
FIGURE_TYPE = "spikesortingview-1"
VIEWS = ("autocorrelograms", "waveforms", "crosscorrelograms", "amplitudes", "traces", "features")
_CHANNEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def default_base_url() -> str:
    """Where links point: ``$SORTINGVIEW_URL``, else the running server of this store, else the default address."""
    from ..live_server import live_server_url

    url = (os.environ.get("SORTINGVIEW_URL") or live_server_url() or DEFAULT_BASE_URL).rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise WorkspaceError(f"SORTINGVIEW_URL={url!r} must start with http:// or https://, e.g. "
                             "http://lab-server:15310")
    return url


def _check_rate(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        raise WorkspaceError(f"{name} must be a positive number of spikes per second (or None), got {value!r}")
    return float(value)


def _recording_timing(workspace: Any, recording_id: str, uri: str) -> tuple[float | None, float | None]:
    """(sampling frequency, duration in seconds) from the stored object, else from the loaded recording."""
    data = store.load_json(uri).get("data", {})
    fs = data.get("samplingFrequency")
    segments = data.get("segments")
    if isinstance(fs, (int, float)) and fs > 0 and isinstance(segments, list):
        return float(fs), sum(float(seg.get("numFrames", 0)) for seg in segments) / fs
    rec = workspace.get_recording_extractor(recording_id)
    fs = float(rec.get_sampling_frequency())
    return fs, sum(rec.get_num_frames(i) for i in range(rec.get_num_segments())) / fs


def _spike_cap(rate: float | None, duration: float | None) -> int | None:
    return None if rate is None or duration is None else max(1, math.ceil(rate * duration))


def figure_data(workspace: Any, *, recording_id: str, sorting_id: str, label: str,
                raster_plot_subsample_max_firing_rate: float | None = None,
                spike_amplitudes_subsample_max_firing_rate: float | None = None) -> dict:
    """The figure data of one sorting view (everything the viewer needs to start its tasks)."""
    srt = workspace._sorting_record(sorting_id)
    if srt["recordingId"] != recording_id:
        raise WorkspaceError(f"sorting {sorting_id} belongs to recording {srt['recordingId']}, not {recording_id}; "
                             f"use W.spikesortingview(recording_id={srt['recordingId']!r}, sorting_id=...)")
    raster = _check_rate(raster_plot_subsample_max_firing_rate, "_raster_plot_subsample_max_firing_rate")
    amps = _check_rate(spike_amplitudes_subsample_max_firing_rate, "_spike_amplitudes_subsample_max_firing_rate")
    rec = workspace._recording_record(recording_id)
    fs, duration = _recording_timing(workspace, recording_id, rec["recordingUri"])
    return {
        "type": "spikesortingview",
        "version": 1,
        "label": label,
        "workspaceUri": workspace.uri,
        "recordingId": recording_id,
        "recordingLabel": rec.get("recordingLabel"),
        "recordingUri": rec["recordingUri"],
        "sortingId": sorting_id,
        "sortingLabel": srt.get("sortingLabel"),
        "sortingUri": srt["sortingUri"],
        "curationFeedUri": workspace.create_curation_feed_for_sorting(sorting_id).uri,
        "samplingFrequency": fs,
        "unitIds": workspace.get_unit_ids(sorting_id),
        "externalUnitMetrics": workspace.get_unit_metrics_for_sorting(sorting_id),
        "labelChoices": workspace.get_label_choices(sorting_id),
        "snippetLen": list(workspace.snippet_len),
        "rasterPlotSubsampleMaxFiringRate": raster,
        "rasterPlotMaxSpikesPerUnit": _spike_cap(raster, duration),
        "spikeAmplitudesSubsampleMaxFiringRate": amps,
        "spikeAmplitudesMaxSpikesPerUnit": _spike_cap(amps, duration),
    }


def view_state(selected_unit_ids: list | None = None, view: str | None = None) -> str | None:
    """The ``s=`` value for a view with these units selected and this view open (None: nothing to say)."""
    s: dict[str, Any] = {}
    if selected_unit_ids:
        s["units"] = [u.item() if hasattr(u, "item") else u for u in selected_unit_ids]
    if view is not None:
        if view not in VIEWS:
            raise WorkspaceError(f"view {view!r} is not one of {', '.join(VIEWS)}")
        s["view"] = view
    return json.dumps(s, separators=(",", ":")) if s else None


def spikesortingview_url(workspace: Any, *, recording_id: str, sorting_id: str, label: str,
                         base_url: str | None = None, channel: str | None = None,
                         selected_unit_ids: list | None = None, view: str | None = None,
                         _raster_plot_subsample_max_firing_rate: float | None = None,
                         _spike_amplitudes_subsample_max_firing_rate: float | None = None) -> str:
    """Store the figure data of a sorting view and return its figURL.

    Parameters
    ----------
    base_url : where the server is (default: ``default_base_url()``)
    channel : a channel other than ``default`` for the viewer's tasks (``&channel=``)
    selected_unit_ids, view : the initial selection and open view (``autocorrelograms`` or ``waveforms``)
    _raster_plot_subsample_max_firing_rate, _spike_amplitudes_subsample_max_firing_rate : the original's
        arguments (Hz): draw at most this many spikes per second of recording for each unit (None: all)
    """
    if not isinstance(label, str) or not label:
        raise WorkspaceError(f"label must be a non-empty string (the view's title), got {label!r}")
    if channel is not None and (not isinstance(channel, str) or not _CHANNEL.match(channel)):
        raise WorkspaceError(f"channel {channel!r} is not a channel name (letters, digits, '_', '.', '-')")
    data = figure_data(workspace, recording_id=recording_id, sorting_id=sorting_id, label=label,
                       raster_plot_subsample_max_firing_rate=_raster_plot_subsample_max_firing_rate,
                       spike_amplitudes_subsample_max_firing_rate=_spike_amplitudes_subsample_max_firing_rate)
    uri = store.store_json(data, label="spikesortingview.json")
    params = {"v": FIGURE_TYPE, "d": uri.split("?")[0], "label": label}
    if channel and channel != "default":
        params["channel"] = channel
    s = view_state(selected_unit_ids, view)
    if s:
        params["s"] = s
    base = (base_url or default_base_url()).rstrip("/")
    return f"{base}/f?{urlencode(params, quote_via=quote, safe=':/')}"
