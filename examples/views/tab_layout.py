"""Tab layout: a raster plot and a unit location view in tabs."""
import _data

import sortingview.views as vv

raster = vv.RasterPlot(start_time_sec=0, end_time_sec=_data.DURATION_SEC,
                       plots=[vv.RasterPlotItem(u, _data.spike_times_sec(u)) for u in _data.UNIT_IDS])
locations = vv.UnitLocations([vv.UnitLocationsItem(u, *_data.unit_location(u)) for u in _data.UNIT_IDS],
                             channel_locations=_data.channel_locations_dict())
view = vv.TabLayout(items=[vv.TabLayoutItem(label="Raster", view=raster),
                           vv.TabLayoutItem(label="Locations", view=locations)])
print(view.url(label="Tab layout example"))
