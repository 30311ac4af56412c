"""A raster plot of every unit."""
import _data

import sortingview.views as vv

plots = [vv.RasterPlotItem(unit_id=u, spike_times_sec=_data.spike_times_sec(u)) for u in _data.UNIT_IDS]
view = vv.RasterPlot(start_time_sec=0, end_time_sec=_data.DURATION_SEC, plots=plots)
print(view.url(label="Raster plot example"))
