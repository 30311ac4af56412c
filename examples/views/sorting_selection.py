"""The selection control beside a raster plot."""
import _data

import sortingview.views as vv

raster = vv.RasterPlot(start_time_sec=0, end_time_sec=_data.DURATION_SEC,
                       plots=[vv.RasterPlotItem(unit_id=u, spike_times_sec=_data.spike_times_sec(u))
                              for u in _data.UNIT_IDS])
view = vv.Box(direction="horizontal", items=[vv.LayoutItem(vv.SortingSelection(), max_size=250),
                                             vv.LayoutItem(raster)])
print(view.url(label="Sorting selection example"))
