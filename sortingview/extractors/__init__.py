"""Recording and sorting objects <-> spikeinterface extractors."""
