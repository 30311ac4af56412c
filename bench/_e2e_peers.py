"""The peers of ``bench_e2e.py``: what a phylib or spikeinterface user runs to get the same numbers.

Each function takes the benchmark ``Datasets`` and returns wall seconds, from data in memory (the sorting's
spike vector already cached) to the result, as a user calls it (defaults, one job).
"""
from __future__ import annotations

import time

import numpy as np


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def phylib_ccg(datasets) -> float:
    """phylib ``correlograms`` of every pair, +/-50 ms, 1 ms bins (as ``cross_correlograms`` windowMs 100)."""
    from phylib.stats.ccg import correlograms

    sorting = datasets["stress"].sorting
    fs = sorting.get_sampling_frequency()
    spikes = sorting.to_spike_vector()
    times, clusters = spikes["sample_index"] / fs, spikes["unit_index"].astype(np.int64)
    ids = np.arange(len(sorting.unit_ids))
    return _timed(lambda: correlograms(times, clusters, cluster_ids=ids, sample_rate=fs, bin_size=0.001,
                                       window_size=0.1, symmetrize=True))


def si_acg(datasets) -> float:
    """spikeinterface ``compute_auto_correlograms`` (numpy: its faster method here), +/-25 ms, 1 ms bins."""
    from spikeinterface.postprocessing.correlograms import compute_auto_correlograms

    sorting = datasets["stress"].sorting
    return _timed(lambda: compute_auto_correlograms(sorting, window_ms=50.0, bin_ms=1.0, method="numpy"))


def _analyzer(datasets, extensions: list, **params):
    import spikeinterface.core as si

    large = datasets["large"]
    an = si.create_sorting_analyzer(large.sorting, large.recording, format="memory")
    an.compute("random_spikes", method="uniform", max_spikes_per_unit=params.pop("spikes", 500), seed=0)
    for ext in extensions:
        an.compute(ext, **params.get(ext, {}))
    return an


def si_templates(datasets) -> float:
    """SortingAnalyzer random_spikes (500) + waveforms (1 ms / 2 ms) + templates (average, std)."""
    return _timed(lambda: _analyzer(datasets, ["waveforms", "templates"],
                                    waveforms={"ms_before": 1.0, "ms_after": 2.0},
                                    templates={"operators": ["average", "std"]}))


def si_pca(datasets) -> float:
    """SortingAnalyzer random_spikes + waveforms + principal_components (3): PCA features from the data."""
    return _timed(lambda: _analyzer(datasets, ["waveforms", "principal_components"],
                                    waveforms={"ms_before": 1.0, "ms_after": 2.0},
                                    principal_components={"n_components": 3}))


def si_metrics(datasets) -> float:
    """Quality metrics of the same quantities plus the extensions they need."""
    from spikeinterface.metrics.quality import compute_quality_metrics

    def run():
        an = _analyzer(datasets, ["noise_levels", "waveforms", "templates", "spike_amplitudes"])
        compute_quality_metrics(an, metric_names=["num_spikes", "firing_rate", "snr", "isi_violation",
                                                  "presence_ratio", "amplitude_median"])

    return _timed(run)


def si_amplitudes(datasets) -> float:
    """spike_amplitudes of every spike (it needs random_spikes, waveforms and templates first)."""
    return _timed(lambda: _analyzer(datasets, ["waveforms", "templates", "spike_amplitudes"]))


def si_waveforms100(datasets) -> float:
    """random_spikes (100 per unit) + waveforms: every unit's snippets, as ``unit_snippets.2`` maxSnippets 100."""
    return _timed(lambda: _analyzer(datasets, ["waveforms"], spikes=100))


PEERS = {"phylib_ccg": phylib_ccg, "si_acg": si_acg, "si_templates": si_templates, "si_pca": si_pca,
         "si_metrics": si_metrics, "si_amplitudes": si_amplitudes, "si_waveforms100": si_waveforms100}
