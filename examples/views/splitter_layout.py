"""Splitter layout: a draggable divider between a units table and the average waveforms."""
import _data

import sortingview.views as vv

table = vv.UnitsTable(columns=[], rows=[vv.UnitsTableRow(unit_id=u, values={}) for u in _data.UNIT_IDS])
waveforms = vv.AverageWaveforms([vv.AverageWaveformItem(u, _data.CHANNEL_IDS, _data.average_waveform(u))
                                 for u in _data.UNIT_IDS], channel_locations=_data.channel_locations_dict())
view = vv.Splitter(direction="horizontal", item1=vv.LayoutItem(table, max_size=250),
                   item2=vv.LayoutItem(waveforms))
print(view.url(label="Splitter layout example"))
