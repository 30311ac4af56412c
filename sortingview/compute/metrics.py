"""Unit metrics from spike trains (frames) and average waveforms. Undefined values are NaN.

Definitions (and where they match spikeinterface 0.105's ``qualitymetrics``):

- firing rate: spikes / recording duration (same as spikeinterface ``firing_rate``).
- ISI violation fraction: fraction of the n - 1 inter-spike intervals shorter than the threshold
  (sortingview's own; undefined with fewer than two spikes).
- ISI violations ratio, Hill et al. (2011) J. Neurosci. 31:8699 as written in UltraMegaSort and
  spikeinterface ``isi_violations_ratio``: violations / (2 n (threshold - min ISI)) divided by n / duration,
  the rate of the hypothetical contaminating neuron relative to the unit's rate (same definition).
- presence ratio: fraction of whole ``bin_s`` bins (from frame 0; a trailing partial bin is ignored) that hold
  at least one spike (same as spikeinterface ``presence_ratio`` with its defaults).
- SNR: |peak of the average waveform on its peak channel| / noise level of that channel (spikeinterface
  ``snr`` with method "extremum"; the noise level estimate and the spikes averaged differ, see doc/tasks.md).
"""
from __future__ import annotations

import numpy as np

NAN = float("nan")


def firing_rate(num_spikes: int, duration_s: float) -> float:
    return num_spikes / duration_s if duration_s > 0 else NAN


def isi_violation_fraction(frames: np.ndarray, sampling_frequency: float, threshold_ms: float) -> float:
    """Fraction of inter-spike intervals shorter than ``threshold_ms`` (NaN with fewer than two spikes)."""
    if len(frames) < 2:
        return NAN
    isis = np.diff(np.sort(np.asarray(frames, dtype=np.int64)))
    return float(np.count_nonzero(isis < threshold_ms * sampling_frequency / 1000.0) / len(isis))


def isi_violations_ratio(frames: np.ndarray, sampling_frequency: float, duration_s: float, threshold_ms: float,
                         min_isi_ms: float = 0.0) -> float:
    """Hill et al. (2011) contamination estimate, as spikeinterface's ``isi_violations_ratio``."""
    n = len(frames)
    if n == 0 or duration_s <= 0:
        return NAN
    isis = np.diff(np.sort(np.asarray(frames, dtype=np.int64))) / sampling_frequency
    violations = np.count_nonzero(isis < threshold_ms / 1000.0)
    violation_time = 2 * n * (threshold_ms - min_isi_ms) / 1000.0
    return float((violations / violation_time) / (n / duration_s))


def presence_ratio(frames: np.ndarray, num_frames: int, sampling_frequency: float, bin_s: float = 60.0) -> float:
    """Fraction of whole ``bin_s`` bins with at least one spike (NaN when the recording is shorter than a bin
    or the unit has no spike)."""
    bin_frames = int(bin_s * sampling_frequency)
    num_bins = num_frames // bin_frames if bin_frames > 0 else 0
    if num_bins == 0 or len(frames) == 0:
        return NAN
    frames = np.asarray(frames, dtype=np.int64)
    bins = frames[frames < num_bins * bin_frames] // bin_frames
    return float(len(np.unique(bins)) / num_bins)


def snr(peak_amplitude: float, noise_level: float) -> float:
    """|peak amplitude| / noise level (NaN when either is undefined or the noise is zero)."""
    if not np.isfinite(peak_amplitude) or not np.isfinite(noise_level) or noise_level <= 0:
        return NAN
    return float(abs(peak_amplitude) / noise_level)

