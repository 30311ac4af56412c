"""Lines, markers and intervals against time (sortingview 0.14 view kept as data; see doc/views.md)."""
import numpy as np

import sortingview.views as vv

t = np.arange(0, 10, 0.01).astype(np.float32)
g = vv.TimeseriesGraph(y_range=[-1.5, 1.5], hide_x_gridlines=True)
g.add_line_series(name="sine", t=t, y=np.sin(t).astype(np.float32), color="steelblue", width=2)
g.add_marker_series(name="peaks", t=np.array([1.57, 7.85], np.float32), y=np.ones(2, np.float32), color="red")
g.add_interval_series(name="stimulus", t_start=np.array([2.0], np.float32), t_end=np.array([3.0], np.float32),
                      color="orange")
print(g.url(label="Timeseries graph example"))
