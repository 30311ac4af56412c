"""Curation with SortingCuration2: the link's state names the curation to start from (a sha1:// JSON).

Open the link, label and merge units, press Save: the viewer stores the new curation in the store and the
link's ``sortingCuration`` URI changes to it (load it back with ``sortingview.store.load_json(uri)``).
"""
import _data

import sortingview.views as vv
from sortingview import store

table = vv.UnitsTable(columns=[vv.UnitsTableColumn(key="numEvents", label="Num. events", dtype="int")],
                      rows=[vv.UnitsTableRow(unit_id=u, values={"numEvents": len(_data.spike_times_sec(u))})
                            for u in _data.UNIT_IDS])
curation = vv.SortingCuration2(label_choices=["accept", "reject", "noise"])
view = vv.MountainLayout(items=[
    vv.MountainLayoutItem(label="Units", view=table),
    vv.MountainLayoutItem(label="Curation", view=curation, is_control=True, control_height=600),
])
initial = store.store_json({"labelsByUnit": {"1": ["accept"], "4": ["noise"]}, "mergeGroups": [[2, 3]]},
                           label="curation.json")
print(view.url(label="Sorting curation example", state={"sortingCuration": initial}))
