"""One matplotlib picture per unit (its inter-spike-interval histogram)."""
import _data
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import sortingview.views as vv  # noqa: E402

items = []
for u in _data.UNIT_IDS:
    fig = plt.figure(figsize=(2, 1.5))
    plt.hist(np.diff(_data.spike_times_sec(u)) * 1000, bins=50, range=(0, 100))
    plt.title(f"unit {u}: ISI (ms)", fontsize=8)
    items.append(vv.UnitImagesItem(unit_id=u, figure=fig, dpi=60))
    plt.close(fig)
print(vv.UnitImages(items, item_width=200, item_height=150).url(label="Unit images example"))
