# What Spyglass v0 did with sortingview (spikesorting/sortingview.py and curation_figurl.py of that era), on
# local files: a bandpass + common-reference recording saved by SpikeInterface, a sorting saved as a folder,
# a workspace with the filtered recording added *without copying it*, labels added as lists, then a curation
# started with trythis_start_sorting_curation and read back with trythis_load_sorting_curation.
import os
import sys
import tempfile
from urllib.parse import parse_qs, urlparse

import spikeinterface as si
import spikeinterface.extractors as se
import spikeinterface.preprocessing as sp

import sortingview as sv

work = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp()

# SpikeSortingRecording: filter and reference, save as a binary folder, reload it (si.load_extractor then;
# si.load in SpikeInterface 0.105)
raw, gt = se.toy_example(num_channels=8, num_units=6, duration=30, seed=3)
filtered = sp.common_reference(sp.bandpass_filter(raw, freq_min=300, freq_max=6000), reference='global',
                               operator='median')
filtered.save(folder=os.path.join(work, 'recording'), verbose=False)
recording = si.load(os.path.join(work, 'recording'))
# SpikeSorting: the sorter's output saved as a folder and reloaded
gt.save(folder=os.path.join(work, 'sorting'))
sorting = si.load(os.path.join(work, 'sorting'))
# a chain that is never saved: Spyglass v0 also passed whitened views straight to the workspace
whitened = sp.whiten(recording, dtype='float32')

# SortingviewWorkspace.make
workspace = sv.create_workspace(label='spyglass-v0')
recording_id = workspace.add_recording(recording=recording, label='filtered')
sorting_id = workspace.add_sorting(recording_id=recording_id, sorting=sorting, label='sorter')
workspace.add_recording(recording=whitened, label='whitened')
workspace.create_curation_feed_for_sorting(sorting_id=sorting_id)
workspace.set_sorting_curation_authorized_users(sorting_id=sorting_id, user_ids=['curator@lab.org'])
metrics = [{'name': 'snr', 'label': 'SNR', 'tooltip': 'signal to noise',
            'data': {str(u): 5.0 for u in sorting.unit_ids}}]
workspace.set_unit_metrics_for_sorting(sorting_id=sorting_id, metrics=metrics)
# add_labels_to_workspace: labels as lists, one unit id at a time
labels = {int(sorting.unit_ids[0]): ['accept'], int(sorting.unit_ids[1]): ['noise', 'reject']}
for unit_id, unit_labels in labels.items():
    workspace.sorting_curation_add_label(sorting_id=sorting_id, label=unit_labels, unit_ids=unit_id)
workspace.sorting_curation_add_label(sorting_id=sorting_id, label=['accept'], unit_ids=[int(sorting.unit_ids[0])])
url = workspace.spikesortingview(recording_id=recording_id, sorting_id=sorting_id, label='spyglass-v0')
print(f'workspace: {workspace.uri}')
print(f'curation: {workspace.get_sorting_curation(sorting_id=sorting_id)}')

# CurationFigurl: start a curation from an initial one, let a curator work, read it back
initial = {'labelsByUnit': {str(sorting.unit_ids[2]): ['mua']}, 'mergeGroups': []}
curation_url = sv.trythis_start_sorting_curation(recording=recording, sorting=sorting, label='curation',
                                                 initial_curation=initial, unit_metrics=metrics)
# the curator's work in the viewer lands in the curation feed; done here through the same Workspace method
figure = sv.load_workspace(  # the figure data names the workspace the curation lives in
    __import__('sortingview').store.load_json(parse_qs(urlparse(curation_url).query)['d'][0])['workspaceUri'])
curated_id = figure.sorting_ids[0]
figure.sorting_curation_merge_units(sorting_id=curated_id, unit_ids=[int(u) for u in sorting.unit_ids[3:5]])
curation = sv.trythis_load_sorting_curation(curation_url)
print(f'loaded curation: {curation}')
