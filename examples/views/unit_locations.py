"""Units at their estimated positions over the probe."""
import _data

import sortingview.views as vv

units = [vv.UnitLocationsItem(unit_id=u, x=_data.unit_location(u)[0], y=_data.unit_location(u)[1])
         for u in _data.UNIT_IDS]
view = vv.UnitLocations(units, channel_locations=_data.channel_locations_dict(), disable_auto_rotate=True)
print(view.url(label="Unit locations example"))
