"""Histograms and scatter plots of unit metrics."""
import _data
import numpy as np

import sortingview.views as vv

metrics = [vv.UnitMetricsGraphMetric(key="numEvents", label="Num. events", dtype="int"),
           vv.UnitMetricsGraphMetric(key="isiViolations", label="ISI violations", dtype="float")]
units = []
for u in _data.UNIT_IDS:
    t = _data.spike_times_sec(u)
    units.append(vv.UnitMetricsGraphUnit(unit_id=u, values={"numEvents": len(t),
                                                            "isiViolations": float(np.mean(np.diff(t) < 0.0025))}))
print(vv.UnitMetricsGraph(units=units, metrics=metrics).url(label="Unit metrics graph example"))
