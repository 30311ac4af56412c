"""unit_metrics: compared with spikeinterface.qualitymetrics where the definitions match; nulls; merges."""
from __future__ import annotations

import numpy as np
import pytest
from test_waveforms import AFTER, BEFORE, _sorting_uri, dataset_in_own_store, run

from sortingview.errors import TaskInputError
from sortingview.tasks._reading import trace_source
from sortingview.tasks.info import recording_noise_levels
from sortingview.tasks.waveforms import selected_frames


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    yield from dataset_in_own_store(tmp_path_factory, "metrics")


def _metrics(res) -> dict:
    return {m["name"]: m["data"] for m in res["metrics"]}


@pytest.fixture(scope="module")
def analyzer(ds):
    """spikeinterface's analyzer of the full sorting, with the extensions its quality metrics need."""
    import spikeinterface.core as si

    an = si.create_sorting_analyzer(ds.sorting, ds.recording, sparse=False, format="memory")
    an.compute(["random_spikes", "noise_levels", "waveforms", "templates"])
    return an


def test_train_metrics_equal_spikeinterface_quality_metrics(ds, analyzer):
    from spikeinterface.metrics.quality import compute_quality_metrics

    res = _metrics(run("sortingview.unit_metrics.1", recording=ds.recording_uri, sorting=ds.sorting_uri,
                       presenceBinSec=3.0))
    qm = compute_quality_metrics(analyzer, metric_names=["num_spikes", "firing_rate", "isi_violation",
                                                         "presence_ratio"],
                                 metric_params={"presence_ratio": {"bin_duration_s": 3.0}})
    for u in ds.unit_ids:
        key = str(u)
        assert res["numEvents"][key] == qm.loc[u, "num_spikes"] == ds.spike_counts[u]
        assert res["firingRateHz"][key] == pytest.approx(qm.loc[u, "firing_rate"], rel=1e-9)
        assert res["isiViolationsRatio"][key] == pytest.approx(qm.loc[u, "isi_violations_ratio"], abs=1e-12)
        assert res["presenceRatio"][key] == pytest.approx(qm.loc[u, "presence_ratio"], abs=1e-12)
        isis = np.diff(ds.spike_train(u))
        assert res["isiViolationFraction"][key] == pytest.approx(np.mean(isis < 45), abs=1e-12)  # 1.5 ms


def test_snr_matches_spikeinterface_given_the_same_template_and_noise(ds, analyzer):
    import spikeinterface.core as si
    from spikeinterface.metrics.quality import compute_quality_metrics

    res = _metrics(run("sortingview.unit_metrics.1", recording=ds.recording_uri, sorting=ds.sorting_uri))
    ours_noise = recording_noise_levels(ds.recording)
    si_noise = si.get_noise_levels(ds.recording, return_in_uV=True, method="mad")
    # both are MAD / 0.6745 on random chunks: the chunks differ, the estimates agree closely
    np.testing.assert_allclose(ours_noise, si_noise, rtol=0.03)
    # same spikes, same main channel -> same template amplitude; snr * noise must then agree exactly
    source = trace_source(ds.recording)
    chosen = {u: selected_frames(ds.sorting, u, source, BEFORE, AFTER, 500) for u in ds.unit_ids}
    wfs = run("sortingview.average_waveforms.1", recording=ds.recording_uri, sorting=ds.sorting_uri)
    ids = list(ds.recording.get_channel_ids())
    main = np.array([ids.index(e["peakChannelId"]) for e in wfs["averageWaveforms"]])
    an = si.create_sorting_analyzer(si.NumpySorting.from_unit_dict([chosen], ds.sampling_frequency), ds.recording,
                                    sparse=False, format="memory", main_channel_indices=main)
    an.compute(["random_spikes", "noise_levels", "waveforms", "templates"],
               extension_params={"random_spikes": {"method": "all"},
                                 "waveforms": {"ms_before": 1.0, "ms_after": 2.0}})
    qm = compute_quality_metrics(an, metric_names=["snr"])
    for i, u in enumerate(ds.unit_ids):
        ours = res["snr"][str(u)] * ours_noise[main[i]]
        theirs = qm.loc[u, "snr"] * si_noise[main[i]]
        assert ours == pytest.approx(theirs, rel=1e-4)
        assert res["snr"][str(u)] == pytest.approx(qm.loc[u, "snr"], rel=0.05)


def test_median_amplitude_is_negative_and_close_to_the_template_peak(ds):
    res = _metrics(run("sortingview.unit_metrics.1", recording=ds.recording_uri, sorting=ds.sorting_uri))
    for i, u in enumerate(ds.unit_ids):
        peak = ds.templates[i].min()
        assert res["medianAmplitude"][str(u)] < 0
        assert res["medianAmplitude"][str(u)] == pytest.approx(peak, abs=8.0)  # noise ~5 uV around the peak


def test_undefined_metrics_are_null_and_crafted_violations_are_counted(ds):
    n = ds.num_frames[0]
    # "v": 6 spikes, ISIs (frames) 30, 30, 3000, 40, 90000 -> 3 of 5 below 1.5 ms (45 frames)
    trains = {"v": [1000, 1030, 1060, 4060, 4100, 94100], "one": [5000], "edge": [0, n - 1], "empty": []}
    uri = _sorting_uri(ds, trains)
    res = _metrics(run("sortingview.unit_metrics.1", recording=ds.recording_uri, sorting=uri,
                       presenceBinSec=5.0))
    assert res["isiViolationFraction"]["v"] == pytest.approx(3 / 5)
    duration = n / ds.sampling_frequency
    assert res["isiViolationsRatio"]["v"] == pytest.approx((3 / (2 * 6 * 0.0015)) / (6 / duration))
    assert res["presenceRatio"]["v"] == pytest.approx(1 / 4)  # 20 s in four 5-s bins; spikes in the first
    assert res["numEvents"]["one"] == 1 and res["isiViolationFraction"]["one"] is None
    assert res["isiViolationsRatio"]["one"] == 0
    # only edge spikes: counted, but no waveform hence no snr / amplitude
    assert res["numEvents"]["edge"] == 2 and res["snr"]["edge"] is None and res["medianAmplitude"]["edge"] is None
    # a unit without any spike: counted as zero, everything else undefined
    assert res["numEvents"]["empty"] == 0 and res["firingRateHz"]["empty"] == 0
    assert all(res[name]["empty"] is None for name in ("isiViolationFraction", "isiViolationsRatio",
                                                       "presenceRatio", "snr", "medianAmplitude"))


def test_merge_group_metrics_and_keys(ds):
    u1, u2 = ds.unit_ids[:2]
    res = _metrics(run("sortingview.unit_metrics.1", recording=ds.recording_uri, sorting=ds.sorting_uri,
                       unitIds=[[u1, u2], u1]))
    key = f"[{u1!r},{u2!r}]".replace("'", '"')
    assert set(res["numEvents"]) == {key, str(u1)}
    assert res["numEvents"][key] == ds.spike_counts[u1] + ds.spike_counts[u2]


def test_bad_metric_inputs(ds):
    with pytest.raises(TaskInputError, match="isiThresholdMs"):
        run("sortingview.unit_metrics.1", recording=ds.recording_uri, sorting=ds.sorting_uri, isiThresholdMs=0)
