"""Autocorrelograms of every unit (+-25 ms, 1 ms bins)."""
import _data

import sortingview.views as vv

items = []
for u in _data.UNIT_IDS:
    t = _data.spike_times_sec(u)
    edges, counts = _data.correlogram(t, t, auto=True)
    items.append(vv.AutocorrelogramItem(unit_id=u, bin_edges_sec=edges, bin_counts=counts))
print(vv.Autocorrelograms(items).url(label="Autocorrelograms example"))
