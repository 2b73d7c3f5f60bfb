//! Analysis: pure functions from a Snapshot (plus thresholds) to findings. No I/O here.
