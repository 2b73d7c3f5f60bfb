//! Analysis: pure functions from a Snapshot (plus thresholds) to findings. No I/O here.

pub mod bloat;
pub mod doctor;
pub mod finding;
pub mod queries;
pub mod report;
pub mod resolve;
pub mod score;
pub mod sqlfix;
pub mod statements;
pub mod testdata;
pub mod thresholds;
pub mod wait_profile;
pub mod workload;

pub use finding::{Confidence, Finding, Priority, Severity};
