"""SpikeSortingView: views of a SpikeInterface recording + sorting, computed with sortingview's kernels."""
import spikeinterface.core as si

from sortingview import SpikeSortingView

recording, sorting = si.generate_ground_truth_recording(durations=[20.0], num_units=6, num_channels=8, seed=0)
X = SpikeSortingView.create(recording=recording, sorting=sorting, segment_duration_sec=10, snippet_len=(20, 20),
                            max_num_snippets_per_segment=100, channel_neighborhood_size=4)
view = X.mountain_layout_view(label_choices=["accept", "reject", "noise"])
print(view.url(label="SpikeSortingView example"))
