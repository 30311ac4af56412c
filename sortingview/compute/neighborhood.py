"""Channel neighbourhoods by probe geometry."""
from __future__ import annotations

import numpy as np


def nearest_channels(locations: np.ndarray | None, center: int, size: int) -> np.ndarray:
    """Indices of the ``size`` channels nearest channel ``center`` (itself included), in channel order.

    Distances are Euclidean between contact positions; ties go to the lower channel index, so the result is
    deterministic. Without locations (``None``) the neighbourhood is the ``size`` channels nearest in index.
    """
    if size < 1:
        raise ValueError(f"a neighbourhood needs at least one channel, got size {size}")
    if locations is None:
        raise ValueError("locations are required; pass channel indices as positions when there is no geometry")
    locations = np.asarray(locations, dtype=np.float64)
    if locations.ndim == 1:
        locations = locations[:, None]
    dist = np.linalg.norm(locations - locations[center], axis=1)
    dist[center] = -1.0  # the centre always belongs, even when contacts share a position
    order = np.lexsort((np.arange(len(dist)), dist))
    return np.sort(order[: min(size, len(dist))])
