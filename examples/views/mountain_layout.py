"""MountainLayout: controls at the left (units table, curation), views opened from a list into tabs."""
import _data

import sortingview.views as vv

table = vv.UnitsTable(columns=[vv.UnitsTableColumn(key="numEvents", label="Num. events", dtype="int")],
                      rows=[vv.UnitsTableRow(u, {"numEvents": len(_data.spike_times_sec(u))}) for u in _data.UNIT_IDS])
acgs = vv.Autocorrelograms([vv.AutocorrelogramItem(u, *_data.correlogram(_data.spike_times_sec(u),
                                                                          _data.spike_times_sec(u), auto=True))
                            for u in _data.UNIT_IDS])
waveforms = vv.AverageWaveforms([vv.AverageWaveformItem(u, _data.CHANNEL_IDS, _data.average_waveform(u))
                                 for u in _data.UNIT_IDS], channel_locations=_data.channel_locations_dict())
view = vv.MountainLayout(items=[
    vv.MountainLayoutItem(label="Units", view=table, is_control=True),
    vv.MountainLayoutItem(label="Curation", view=vv.SortingCuration2(label_choices=["accept", "reject"]),
                          is_control=True, control_height=300),
    vv.MountainLayoutItem(label="Autocorrelograms", view=acgs),
    vv.MountainLayoutItem(label="Average waveforms", view=waveforms),
    vv.MountainLayoutItem(label="Electrode geometry",
                          view=vv.ElectrodeGeometry(channel_locations=_data.channel_locations_dict())),
])
print(view.url(label="Mountain layout example"))
