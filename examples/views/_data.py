"""Small seeded data shared by the examples (a few units on a small probe; numpy only, instant)."""
from __future__ import annotations

import numpy as np

FS = 30000.0
DURATION_SEC = 60.0
UNIT_IDS = [1, 2, 3, 4, 5, 6]
CHANNEL_IDS = [0, 1, 2, 3, 4, 5, 6, 7]
#: contacts of a two-column probe, in um
CHANNEL_LOCATIONS = np.array([[(c % 2) * 16.0, (c // 2) * 20.0] for c in CHANNEL_IDS], dtype=np.float32)


def channel_locations_dict() -> dict:
    """{channel id (str): [x, y]}, the form the views take."""
    return {str(c): CHANNEL_LOCATIONS[i] for i, c in enumerate(CHANNEL_IDS)}


def spike_times_sec(unit_id: int) -> np.ndarray:
    """Sorted spike times (float32 s) of a unit with a 2 ms refractory period."""
    rng = np.random.default_rng(unit_id)
    intervals = 0.002 + rng.exponential(1 / (2.0 + unit_id), int(DURATION_SEC * (2.0 + unit_id) * 1.2))
    times = np.cumsum(intervals)
    return times[times < DURATION_SEC].astype(np.float32)


def correlogram(t1: np.ndarray, t2: np.ndarray, *, auto: bool) -> tuple:
    """(bin edges in s, counts) of lags t2 - t1 within +-25 ms in 1 ms bins."""
    edges = np.linspace(-0.025, 0.025, 51)
    lags = (t2[None, :] - t1[:, None]).ravel()
    if auto:
        lags = lags[lags != 0]
    counts, _ = np.histogram(lags, bins=edges)
    return edges.astype(np.float32), counts.astype(np.int32)


def peak_channel(unit_id: int) -> int:
    return (unit_id * 3) % len(CHANNEL_IDS)


def unit_location(unit_id: int) -> tuple:
    x, y = CHANNEL_LOCATIONS[peak_channel(unit_id)]
    return float(x) + 4.0, float(y) - 3.0


def average_waveform(unit_id: int) -> np.ndarray:
    """(channels x 60 samples) float32: a spike shape decaying with distance from the peak channel."""
    t = np.arange(60) - 20
    shape = -np.exp(-(t / 4.0) ** 2) + 0.4 * np.exp(-((t - 10) / 6.0) ** 2)
    distance = np.linalg.norm(CHANNEL_LOCATIONS - CHANNEL_LOCATIONS[peak_channel(unit_id)], axis=1)
    return (100.0 * np.exp(-distance / 30.0)[:, None] * shape[None, :]).astype(np.float32)
