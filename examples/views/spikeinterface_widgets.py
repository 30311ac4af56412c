"""SpikeInterface's sorting summary with backend="sortingview": the widget prints a link to our viewer."""
import warnings

import spikeinterface.core as si
import spikeinterface.metrics  # noqa: F401  (quality and template metrics)
import spikeinterface.postprocessing  # noqa: F401
import spikeinterface.widgets as sw

recording, sorting = si.generate_ground_truth_recording(durations=[10.0], num_units=5, num_channels=8, seed=0)
analyzer = si.create_sorting_analyzer(sorting, recording, format="memory", sparse=False)
analyzer.compute(["random_spikes", "waveforms", "templates", "noise_levels", "correlograms", "spike_amplitudes",
                  "unit_locations", "template_similarity", "quality_metrics"], verbose=False)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)  # "the sortingview backend is deprecated" (in SpikeInterface)
    sw.plot_sorting_summary(analyzer, backend="sortingview", curation=True, label_choices=["good", "noise"],
                            figlabel="SpikeInterface sorting summary")
