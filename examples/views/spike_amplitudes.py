"""Spike amplitudes against time; unit 2 drifts."""
import _data
import numpy as np

import sortingview.views as vv

plots = []
for u in _data.UNIT_IDS:
    t = _data.spike_times_sec(u)
    drift = 20 * t / _data.DURATION_SEC if u == 2 else 0
    amplitudes = (-60 - 10 * u + drift + np.random.default_rng(u).normal(0, 5, len(t))).astype(np.float32)
    plots.append(vv.SpikeAmplitudesItem(unit_id=u, spike_times_sec=t, spike_amplitudes=amplitudes))
view = vv.SpikeAmplitudes(start_time_sec=0, end_time_sec=_data.DURATION_SEC, plots=plots)
print(view.url(label="Spike amplitudes example"))
