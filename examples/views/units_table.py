"""A units table: one row per unit with its number of events and firing rate."""
import _data

import sortingview.views as vv

columns = [vv.UnitsTableColumn(key="numEvents", label="Num. events", dtype="int"),
           vv.UnitsTableColumn(key="firingRateHz", label="Firing rate (Hz)", dtype="float")]
rows = []
for u in _data.UNIT_IDS:
    n = len(_data.spike_times_sec(u))
    rows.append(vv.UnitsTableRow(unit_id=u, values={"numEvents": n, "firingRateHz": n / _data.DURATION_SEC}))
view = vv.UnitsTable(columns=columns, rows=rows)
print(view.url(label="Units table example"))
