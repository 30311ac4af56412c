"""The probe's contacts."""
import _data

import sortingview.views as vv

print(vv.ElectrodeGeometry(channel_locations=_data.channel_locations_dict()).url(label="Electrode geometry example"))
