//! Latency statistics over hdrhistogram (placeholder until the percentile module lands).
