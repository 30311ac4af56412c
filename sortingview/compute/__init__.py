"""Pure numeric kernels: numpy in, numpy out. No I/O, no store, no spikeinterface, no backend."""
