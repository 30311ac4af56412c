"""Cross-correlograms of every pair of the first three units (the diagonal holds the autocorrelograms)."""
import _data

import sortingview.views as vv

units = _data.UNIT_IDS[:3]
items = []
for u1 in units:
    for u2 in units:
        t1, t2 = _data.spike_times_sec(u1), _data.spike_times_sec(u2)
        edges, counts = _data.correlogram(t1, t2, auto=u1 == u2)
        items.append(vv.CrossCorrelogramItem(unit_id1=u1, unit_id2=u2, bin_edges_sec=edges, bin_counts=counts))
print(vv.CrossCorrelograms(cross_correlograms=items).url(label="Cross-correlograms example"))
