"""Facts about a recording and its sorting."""
import _data

import sortingview.views as vv

view = vv.SortingSummary(recording_description="example recording", sorting_description="example sorting",
                         unit_ids=_data.UNIT_IDS, channel_ids=_data.CHANNEL_IDS, sampling_frequency=_data.FS,
                         num_frames=int(_data.FS * _data.DURATION_SEC), num_segments=1,
                         channel_locations=_data.CHANNEL_LOCATIONS, noise_level=8.5)
print(view.url(label="Sorting summary example"))
