# The seed README's "Visualizing a recording/sorting pair" code, unchanged but for the two `...` placeholders,
# which the README's "Creating a copy" section fills with copies of a spikeinterface toy example.
import spikeinterface.extractors as se

import sortingview as sv

recording, sorting = se.toy_example(num_units=10, duration=20, seed=0)
recording = sv.copy_recording_extractor(recording=recording, serialize_dtype='float32')
sorting = sv.copy_sorting_extractor(sorting=sorting)

# ---- from the README, unchanged ----
# Create a sortingview workspace and add the recording/sorting
W: sv.Workspace = sv.create_workspace(label='example')
recording_id = W.add_recording(label='recording1', recording=recording)
sorting_id = W.add_sorting(recording_id=recording_id, label='true', sorting=sorting)

# Print the workspace URI for loading at a later time
# You may want to store this in a database
print(f'Workspace URI: {W.uri}')

# Optionally create a curation feed and set the access permissions
W.create_curation_feed_for_sorting(sorting_id=sorting_id)
W.set_sorting_curation_authorized_users(sorting_id=sorting_id, user_ids=['jmagland@flatironinstitute.org'])

# Prepare a visualization and print the figURL
url2 = W.spikesortingview(recording_id=recording_id, sorting_id=sorting_id, label='Test workspace')
print(url2)

# ---- "Reloading a workspace", from the README ----
uri = W.uri
W = sv.load_workspace(uri)
print(f'Reloaded: {W.uri} {W.recording_ids} {W.sorting_ids}')
