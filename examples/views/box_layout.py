"""Box layout: a units table and the selection control stacked at the left, autocorrelograms at the right."""
import _data

import sortingview.views as vv

table = vv.UnitsTable(columns=[], rows=[vv.UnitsTableRow(unit_id=u, values={}) for u in _data.UNIT_IDS])
acgs = vv.Autocorrelograms([vv.AutocorrelogramItem(u, *_data.correlogram(_data.spike_times_sec(u),
                                                                          _data.spike_times_sec(u), auto=True))
                            for u in _data.UNIT_IDS])
left = vv.Box(direction="vertical", items=[vv.LayoutItem(table, stretch=3, title="Units"),
                                            vv.LayoutItem(vv.SortingSelection(), stretch=1, title="Selection")],
              show_titles=True)
view = vv.Box(direction="horizontal", items=[vv.LayoutItem(left, max_size=300), vv.LayoutItem(acgs)], scrollbar=False)
print(view.url(label="Box layout example"))
