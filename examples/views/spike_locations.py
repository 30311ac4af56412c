"""Each spike at its estimated position, scattered around its unit's location."""
import _data
import numpy as np

import sortingview.views as vv

items = []
for u in _data.UNIT_IDS:
    t = _data.spike_times_sec(u)
    rng = np.random.default_rng(u)
    x0, y0 = _data.unit_location(u)
    items.append(vv.SpikeLocationsItem(unit_id=u, spike_times_sec=t,
                                       x_locations=(x0 + rng.normal(0, 3, len(t))).astype(np.float32),
                                       y_locations=(y0 + rng.normal(0, 3, len(t))).astype(np.float32)))
view = vv.SpikeLocations(items, x_range=(-20, 40), y_range=(-20, 90), hide_unit_selector=False,
                         channel_locations=_data.channel_locations_dict(), disable_auto_rotate=True)
print(view.url(label="Spike locations example"))
