"""An animal's x, y position against time (sortingview 0.14 view kept as data; see doc/views.md)."""
import numpy as np

import sortingview.views as vv

timestamps = 1000.0 + np.arange(0, 60, 1 / 30)  # float64 session times: stored as offsets from the first
positions = np.stack([50 + 40 * np.cos(timestamps / 5), 50 + 40 * np.sin(timestamps / 7)], axis=1).astype(np.float32)
view = vv.PositionPlot(timestamps=timestamps, positions=positions, dimension_labels=["x", "y"],
                       subsampling_frequency=10)
print(view.url(label="Position plot example", allow_float64=True))
