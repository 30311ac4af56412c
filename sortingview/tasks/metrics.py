"""Unit metrics: counts, rates, ISI violations, presence, SNR and amplitude (formulas in compute/metrics.py).

Waveform-based metrics (snr, medianAmplitude) use each unit's template spikes (at most ``maxSpikesPerUnit``,
spread over the recording, the same spikes as ``average_waveforms``), read in one time-ordered pass.
"""
from __future__ import annotations

import json
from typing import Any

import numpy as np

from ..compute import metrics as m
from ..compute.amplitudes import median_amplitude
from ..errors import TaskInputError
from ._objects import load_recording, load_sorting, resolve_units, unit_spike_train
from .amplitudes import amplitudes_of
from .info import recording_noise_levels
from .registry import register_task
from .waveforms import as_json_unit, check_positive, check_snippet_len, unit_templates

METRICS = [  # name, label, tooltip
    ("numEvents", "Num. events", "Number of spikes of the unit"),
    ("firingRateHz", "Firing rate (Hz)", "Number of spikes / recording duration"),
    ("snr", "SNR", "|peak of the average waveform on its peak channel| / noise level of that channel "
                   "(noise = MAD / 0.6745 of the traces on random chunks)"),
    ("isiViolationFraction", "ISI viol. fraction", "Fraction of inter-spike intervals shorter than the threshold"),
    ("isiViolationsRatio", "ISI viol. ratio", "Contamination estimate of Hill et al. (2011): rate of the "
                                              "violating spikes relative to the unit's rate (spikeinterface's "
                                              "isi_violations_ratio)"),
    ("presenceRatio", "Presence ratio", "Fraction of the recording's whole bins (60 s) in which the unit fires"),
    ("medianAmplitude", "Median amplitude (µV)", "Median signed amplitude of the unit's spikes on its peak "
                                                 "channel at the template's peak frame"),
]


def unit_key(unit: Any) -> str:
    """Key of a unit in the metric ``data`` objects: its id as text; a merge group as compact JSON."""
    unit = as_json_unit(unit)
    return json.dumps(unit, separators=(",", ":")) if isinstance(unit, list) else str(unit)


def _train_metrics(frames: np.ndarray, fs: float, num_frames: int, isi_ms: float, bin_s: float) -> dict:
    duration = num_frames / fs
    return {
        "numEvents": len(frames),
        "firingRateHz": m.firing_rate(len(frames), duration),
        "isiViolationFraction": m.isi_violation_fraction(frames, fs, isi_ms),
        "isiViolationsRatio": m.isi_violations_ratio(frames, fs, duration, isi_ms),
        "presenceRatio": m.presence_ratio(frames, num_frames, fs, bin_s),
    }


@register_task("sortingview.unit_metrics.1", handler="metrics")
def unit_metrics(recording: str, sorting: str, unitIds: list | None = None, isiThresholdMs: float = 1.5,
                 presenceBinSec: float = 60.0, snippetLen: list[int] = (30, 60),
                 maxSpikesPerUnit: int = 500) -> dict:
    """Metrics of every unit (or of ``unitIds``, which may hold merge groups); undefined values are null."""
    before, after = check_snippet_len(list(snippetLen))
    maxSpikesPerUnit = check_positive("maxSpikesPerUnit", maxSpikesPerUnit)
    for name, value in (("isiThresholdMs", isiThresholdMs), ("presenceBinSec", presenceBinSec)):
        if not value > 0:
            raise TaskInputError(f"{name} must be a positive number, got {value!r}")
    rec, sort = load_recording(recording), load_sorting(sorting)
    return unit_metrics_of(rec, sort, resolve_units(sort, unitIds), isiThresholdMs, presenceBinSec, before, after,
                           maxSpikesPerUnit)


def unit_metrics_of(rec, sort, units: list[Any], isi_ms: float, bin_s: float, before: int, after: int,
                    max_spikes: int) -> dict:
    """The result of ``unit_metrics`` for loaded extractors and validated inputs."""
    fs, num_frames = rec.get_sampling_frequency(), rec.get_num_samples(0)
    values: dict[str, dict[str, Any]] = {name: {} for name, _, _ in METRICS}
    for u in units:
        for name, v in _train_metrics(unit_spike_train(sort, u), fs, num_frames, isi_ms, bin_s).items():
            values[name][unit_key(u)] = v
    templates = unit_templates(rec, sort, units, before, after, max_spikes)
    noise = recording_noise_levels(rec)  # the levels recording_info shows
    amps = amplitudes_of(rec, sort, templates, before, None, [t.frames for t in templates])
    for t, (_, a) in zip(templates, amps, strict=True):
        key = unit_key(t.unit)
        if t.peak_channel is None:
            values["snr"][key] = values["medianAmplitude"][key] = m.NAN
            continue
        values["snr"][key] = m.snr(t.mean[t.peak_frame, t.peak_channel], noise[t.peak_channel])
        values["medianAmplitude"][key] = median_amplitude(a)
    return {"metrics": [{"name": n, "label": label, "tooltip": tip, "data": values[n]} for n, label, tip in METRICS]}


@register_task("sortingview.unit_metrics.2", handler="metrics")
def unit_metrics_packed(recording: str, sorting: str, unitIds: list | None = None, isiThresholdMs: float = 1.5,
                        presenceBinSec: float = 60.0, snippetLen: list[int] = (30, 60),
                        maxSpikesPerUnit: int = 500) -> dict:
    """As ``.1``, packed: ``values`` is one metrics x units float64 array, NaN where ``.1`` has null."""
    units = resolve_units(load_sorting(sorting), unitIds)
    result = unit_metrics(recording, sorting, units, isiThresholdMs, presenceBinSec, snippetLen, maxSpikesPerUnit)
    keys = [unit_key(u) for u in units]
    values = np.array([[_number(entry["data"][k]) for k in keys] for entry in result["metrics"]], np.float64)
    return {"unitIds": [as_json_unit(u) for u in units],
            "metrics": [{k: entry[k] for k in ("name", "label", "tooltip")} for entry in result["metrics"]],
            "values": values.reshape(len(METRICS), len(units))}


def _number(value: Any) -> float:
    return np.nan if value is None else float(value)
