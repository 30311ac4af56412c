"""Imports every module that registers built-in tasks (imported lazily by the registry)."""
from . import (  # noqa: F401
    agreement,
    amplitudes,
    comparison,
    correlograms,
    features,
    info,
    metrics,
    snippets,
    sorting,
    timeseries,
    waveforms,
)
