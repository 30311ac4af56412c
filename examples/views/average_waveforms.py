"""Average waveforms with a standard-deviation band, placed on the probe."""
import _data

import sortingview.views as vv

items = []
for u in _data.UNIT_IDS:
    waveform = _data.average_waveform(u)  # channels x samples
    items.append(vv.AverageWaveformItem(unit_id=u, channel_ids=_data.CHANNEL_IDS, waveform=waveform,
                                        waveform_std_dev=abs(waveform) / 5 + 2))
view = vv.AverageWaveforms(items, channel_locations=_data.channel_locations_dict(), show_reference_probe=True)
print(view.url(label="Average waveforms example"))
