//! The Snapshot: everything collection gathered, as plain serializable data. Analysis reads only
//! this, so `snapshot --out` + `doctor --from-snapshot` gives the same report offline.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::collect::capabilities::Capabilities;

/// Version of the snapshot file format; bumped only for incompatible changes.
pub const SNAPSHOT_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub schema_version: u32,
    pub dbdoctor_version: String,
    pub taken_at: DateTime<Utc>,
    /// Password-free description of the target (`postgres://user@host:port/db`).
    pub target: String,
    /// The database runs on the host dbdoctor ran on (unix socket or loopback).
    pub local: bool,
    pub capabilities: Capabilities,
    pub connection: ConnectionStats,
    /// pg_stat_statements figures; `None` when they could not be collected (see `skipped`).
    pub statements: Option<crate::collect::statements::StatementsSnapshot>,
    /// Parts that could not be collected, with why and how to enable them.
    #[serde(default)]
    pub skipped: Vec<Skipped>,
    /// Tables, indexes, foreign keys, sequences, column statistics (doctor).
    #[serde(default)]
    pub schema: crate::collect::schema::SchemaSnapshot,
    /// Database counters and client sessions (doctor).
    #[serde(default)]
    pub activity: crate::collect::activity::ActivitySnapshot,
    /// The machine dbdoctor ran on (the database host only when `local`).
    #[serde(default)]
    pub host: Option<crate::collect::host::HostSnapshot>,
    /// Catalog facts for the health checks of src/checks (absent in older snapshots).
    #[serde(default)]
    pub health: crate::collect::health::HealthSnapshot,
    /// The query-driven index advisor's suggestions (HypoPG-verified when available).
    #[serde(default)]
    pub advisor: Option<crate::advisor::AdvisorReport>,
    /// Generic plans of the top statements, with their fingerprints (absent in older snapshots).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plans: Option<crate::plans::PlansSnapshot>,
    /// pg_stat_activity sampled during `--window` (absent without a window).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_samples: Option<crate::collect::wait_samples::WaitSamples>,
}

/// Connect time and round-trip latency measured by the collector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionStats {
    pub connect_ms: f64,
    /// Median of several `SELECT 1` round trips.
    pub round_trip_ms: f64,
    pub round_trip_samples: u32,
}

/// A collector or check that could not run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// Collector or check id.
    pub what: String,
    /// Why: `insufficient privilege`, `timed out`, `extension missing`, ...
    pub reason: String,
    /// The GRANT or setting that would enable it.
    pub enable: Option<String>,
}
