"""Spike amplitudes: the sample of each spike on its unit's peak channel at the template's peak frame."""
from __future__ import annotations

import numpy as np


def amplitude_frames(spike_frames: np.ndarray, peak_offset: int, num_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Frames to read (spike frame + ``peak_offset``) and the mask of spikes whose frame is in the recording.

    ``peak_offset`` is the template's peak frame minus its frames-before, so it is often 0 and can be negative.
    """
    frames = np.asarray(spike_frames, dtype=np.int64) + int(peak_offset)
    keep = (frames >= 0) & (frames < num_frames)
    return frames[keep], keep


def median_amplitude(amplitudes: np.ndarray) -> float:
    """Median of the amplitudes (NaN when there are none)."""
    return float(np.median(amplitudes)) if len(amplitudes) else float("nan")
