"""The original sortingview README flow, on a seeded synthetic recording.

Run:  python examples/example1.py
Then open the printed figURL with the backend running (`sortingview-start-backend`).
Data goes to the store at $KACHERY_CLOUD_DIR (default ~/.kachery-cloud).
"""
import spikeinterface.core as si

import sortingview as sv

# a ground-truth recording and sorting (any spikeinterface extractors would do)
recording, sorting = si.generate_ground_truth_recording(
    durations=[60.0], sampling_frequency=30000.0, num_channels=16, num_units=12, seed=1
)

# generated extractors live in memory: copy them into the store as supported extractors
R = sv.copy_recording_extractor(recording, serialize_dtype="float32")
S = sv.copy_sorting_extractor(sorting)

W = sv.create_workspace(label="example1")
recording_id = W.add_recording(label="recording1", recording=R)
sorting_id = W.add_sorting(recording_id=recording_id, label="true", sorting=S)

# who may curate this sorting in the viewer (users created with `sortingview user add <id>`)
W.set_sorting_curation_authorized_users(sorting_id, user_ids=["user@example.org"])

# a first curation step from Python: every message records its author and time
W.sorting_curation_add_label(sorting_id, label="accept", unit_ids=[S.unit_ids[0]])

print(f"workspace: {W.uri}")
print(f"recordings: {W.recording_ids}  sortings: {W.sorting_ids}")
print(f"curation: {W.get_sorting_curation(sorting_id)}")

try:
    url = W.spikesortingview(recording_id=recording_id, sorting_id=sorting_id, label="example1 / true")
    print(f"figURL: {url}")
except ImportError:  # the viewer part is not installed in this checkout
    print("figURL: (the viewer is not available)")
