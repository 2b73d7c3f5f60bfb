//! Analysis: pure functions from a Snapshot (plus thresholds) to findings. No I/O here.

pub mod finding;
pub mod statements;
pub mod workload;

pub use finding::{Confidence, Finding, Priority, Severity};
