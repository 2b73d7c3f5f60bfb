//! Doctor thresholds: named defaults with units, overridable from the `[thresholds]` table of
//! budgets.toml (unknown keys and wrong types are errors; a missing file means defaults).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::util::one_line;

/// A statement slower than this on average is `slow_query` (the brief's alerting threshold).
pub const SLOW_QUERY_MS: f64 = 100.0;
/// Host CPU use above this is reported.
pub const CPU_PCT: f64 = 70.0;
/// Host memory use above this is reported.
pub const MEMORY_PCT: f64 = 80.0;
/// Client connections above this share of usable max_connections are reported.
pub const CONNECTIONS_PCT: f64 = 80.0;
/// ... and critical above this.
pub const CONNECTIONS_CRITICAL_PCT: f64 = 95.0;
/// An active query running longer than this is `long_running_query` (PgHero's 60 s).
pub const LONG_RUNNING_QUERY_MS: f64 = 60_000.0;
/// ... and critical beyond this.
pub const LONG_RUNNING_QUERY_CRITICAL_MS: f64 = 600_000.0;
/// A session idle inside an open transaction longer than this is `idle_in_transaction`.
pub const IDLE_IN_TRANSACTION_MS: f64 = 60_000.0;
/// A session waiting for a lock longer than this is reported under `blocking_locks`.
pub const BLOCKED_WAIT_MS: f64 = 5_000.0;
/// Indexes smaller than this are not worth an `unused_index` verdict (a few pages: empty and
/// tiny indexes are noise; a development database's indexes are rarely larger than a few MB).
pub const UNUSED_INDEX_MIN_BYTES: i64 = 64 * 1024;
/// Statistics younger than this make an unused-index verdict low-confidence.
pub const STATS_MIN_AGE_DAYS: f64 = 7.0;
/// `missing_index`: tables with fewer rows than this are cheap to scan.
pub const MISSING_INDEX_MIN_ROWS: f64 = 10_000.0;
/// `missing_index`: at least this many sequential scans ...
pub const MISSING_INDEX_MIN_SEQ_SCANS: i64 = 50;
/// ... and at least this many times more sequential than index scans.
pub const MISSING_INDEX_SEQ_TO_IDX_RATIO: f64 = 10.0;
/// Bloat below this many bytes is not reported, whatever the share.
pub const BLOAT_MIN_BYTES: i64 = 10 * 1024 * 1024;
/// Estimated table bloat share for a warning / critical.
pub const TABLE_BLOAT_PCT: f64 = 40.0;
pub const TABLE_BLOAT_CRITICAL_PCT: f64 = 80.0;
/// Estimated index bloat share for a warning / critical.
pub const INDEX_BLOAT_PCT: f64 = 40.0;
pub const INDEX_BLOAT_CRITICAL_PCT: f64 = 80.0;
/// `dead_tuples`: fewer dead rows than this are never reported.
pub const DEAD_TUPLES_MIN: i64 = 1_000;
/// Sequence (or the column it feeds) used beyond this share of its range: warning / critical.
pub const SEQUENCE_PCT: f64 = 75.0;
pub const SEQUENCE_CRITICAL_PCT: f64 = 90.0;
/// Transaction ID / multixact age as a share of the 2^31 wraparound horizon: warning / critical.
pub const XID_AGE_PCT: f64 = 50.0;
pub const XID_AGE_CRITICAL_PCT: f64 = 75.0;
/// Database buffer cache hit ratio below this is reported ...
pub const CACHE_HIT_RATIO_PCT: f64 = 99.0;
/// ... once at least this many blocks were requested.
pub const CACHE_HIT_MIN_BLOCKS: i64 = 10_000;
/// Query-shape checks look at the top statements by total time, this many.
pub const HOT_STATEMENTS: usize = 20;
/// `unbounded_result`: rows per call at or above this, with no LIMIT.
pub const UNBOUNDED_ROWS_PER_CALL: f64 = 1_000.0;

/// The thresholds in force. Keys of `[thresholds]` in budgets.toml are these field names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    pub slow_query_ms: f64,
    pub cpu_pct: f64,
    pub memory_pct: f64,
    pub connections_pct: f64,
    pub connections_critical_pct: f64,
    pub long_running_query_ms: f64,
    pub long_running_query_critical_ms: f64,
    pub idle_in_transaction_ms: f64,
    pub blocked_wait_ms: f64,
    pub unused_index_min_bytes: i64,
    pub stats_min_age_days: f64,
    pub missing_index_min_rows: f64,
    pub missing_index_min_seq_scans: i64,
    pub missing_index_seq_to_idx_ratio: f64,
    pub bloat_min_bytes: i64,
    pub table_bloat_pct: f64,
    pub table_bloat_critical_pct: f64,
    pub index_bloat_pct: f64,
    pub index_bloat_critical_pct: f64,
    pub dead_tuples_min: i64,
    pub sequence_pct: f64,
    pub sequence_critical_pct: f64,
    pub xid_age_pct: f64,
    pub xid_age_critical_pct: f64,
    pub cache_hit_ratio_pct: f64,
    pub cache_hit_min_blocks: i64,
    pub hot_statements: usize,
    pub unbounded_rows_per_call: f64,
    /// Mean-latency budgets resolved per statement (queryid) from budgets.toml's `[latency.*]`
    /// classes and `[[statements]]`; a statement without one is judged by `slow_query_ms`.
    #[serde(skip)]
    pub statement_limits: std::collections::HashMap<i64, StatementLimit>,
}

/// A statement's mean-latency budget and where it comes from (`latency.complex.mean_ms`).
#[derive(Debug, Clone, PartialEq)]
pub struct StatementLimit {
    pub mean_ms: f64,
    pub source: String,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            slow_query_ms: SLOW_QUERY_MS,
            cpu_pct: CPU_PCT,
            memory_pct: MEMORY_PCT,
            connections_pct: CONNECTIONS_PCT,
            connections_critical_pct: CONNECTIONS_CRITICAL_PCT,
            long_running_query_ms: LONG_RUNNING_QUERY_MS,
            long_running_query_critical_ms: LONG_RUNNING_QUERY_CRITICAL_MS,
            idle_in_transaction_ms: IDLE_IN_TRANSACTION_MS,
            blocked_wait_ms: BLOCKED_WAIT_MS,
            unused_index_min_bytes: UNUSED_INDEX_MIN_BYTES,
            stats_min_age_days: STATS_MIN_AGE_DAYS,
            missing_index_min_rows: MISSING_INDEX_MIN_ROWS,
            missing_index_min_seq_scans: MISSING_INDEX_MIN_SEQ_SCANS,
            missing_index_seq_to_idx_ratio: MISSING_INDEX_SEQ_TO_IDX_RATIO,
            bloat_min_bytes: BLOAT_MIN_BYTES,
            table_bloat_pct: TABLE_BLOAT_PCT,
            table_bloat_critical_pct: TABLE_BLOAT_CRITICAL_PCT,
            index_bloat_pct: INDEX_BLOAT_PCT,
            index_bloat_critical_pct: INDEX_BLOAT_CRITICAL_PCT,
            dead_tuples_min: DEAD_TUPLES_MIN,
            sequence_pct: SEQUENCE_PCT,
            sequence_critical_pct: SEQUENCE_CRITICAL_PCT,
            xid_age_pct: XID_AGE_PCT,
            xid_age_critical_pct: XID_AGE_CRITICAL_PCT,
            cache_hit_ratio_pct: CACHE_HIT_RATIO_PCT,
            cache_hit_min_blocks: CACHE_HIT_MIN_BLOCKS,
            hot_statements: HOT_STATEMENTS,
            unbounded_rows_per_call: UNBOUNDED_ROWS_PER_CALL,
            statement_limits: Default::default(),
        }
    }
}

impl Thresholds {
    /// Read `[thresholds]` from a budgets file. A missing file gives the defaults; a file that
    /// is not TOML, a `thresholds` that is not a table, an unknown key or a wrong type is an error
    /// naming the file and the key.
    pub fn load(path: &Path) -> Result<Thresholds, Error> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Thresholds::default()),
            Err(e) => return Err(Error::Usage(format!("cannot read {}: {e}", path.display()))),
        };
        Self::parse(&text).map_err(|m| Error::Usage(format!("{}: {m}", path.display())))
    }

    /// Parse the `[thresholds]` table of a budgets.toml text (other tables are not ours).
    pub fn parse(text: &str) -> Result<Thresholds, String> {
        let doc: toml::Table = toml::from_str(text).map_err(|e| one_line(&e.to_string()))?;
        // The budget's resource ceilings are the same alerting thresholds: use them unless
        // `[thresholds]` says otherwise (the budget loader validates that table).
        let mut base = toml::Table::new();
        if let Some(r) = doc.get("resources").and_then(|r| r.as_table()) {
            for (from, to) in [
                ("cpu_max_pct", "cpu_pct"),
                ("memory_max_pct", "memory_pct"),
                ("connections_max_pct", "connections_pct"),
            ] {
                if let Some(v) = r.get(from).filter(|v| v.is_integer() || v.is_float()) {
                    base.insert(to.into(), v.clone());
                }
            }
        }
        let v = match doc.get("thresholds") {
            None => toml::Value::Table(base),
            Some(toml::Value::Table(t)) => {
                let mut merged = base;
                merged.extend(t.clone());
                toml::Value::Table(merged)
            }
            Some(_) => return Err("`thresholds` must be a table ([thresholds])".into()),
        };
        let t: Thresholds = v.try_into().map_err(|e: toml::de::Error| {
            format!(
                "[thresholds]: {}{}",
                one_line(&e.to_string()),
                unknown_key_hint(&e)
            )
        })?;
        t.validate()?;
        Ok(t)
    }

    fn validate(&self) -> Result<(), String> {
        let pcts = [
            ("cpu_pct", self.cpu_pct),
            ("memory_pct", self.memory_pct),
            ("connections_pct", self.connections_pct),
            ("connections_critical_pct", self.connections_critical_pct),
            ("table_bloat_pct", self.table_bloat_pct),
            ("table_bloat_critical_pct", self.table_bloat_critical_pct),
            ("index_bloat_pct", self.index_bloat_pct),
            ("index_bloat_critical_pct", self.index_bloat_critical_pct),
            ("sequence_pct", self.sequence_pct),
            ("sequence_critical_pct", self.sequence_critical_pct),
            ("xid_age_pct", self.xid_age_pct),
            ("xid_age_critical_pct", self.xid_age_critical_pct),
            ("cache_hit_ratio_pct", self.cache_hit_ratio_pct),
        ];
        for (k, v) in pcts {
            if !(v.is_finite() && (0.0..=100.0).contains(&v)) {
                return Err(format!(
                    "[thresholds] {k} must be between 0 and 100, got {v}"
                ));
            }
        }
        let nonneg = [
            ("slow_query_ms", self.slow_query_ms),
            ("long_running_query_ms", self.long_running_query_ms),
            (
                "long_running_query_critical_ms",
                self.long_running_query_critical_ms,
            ),
            ("idle_in_transaction_ms", self.idle_in_transaction_ms),
            ("blocked_wait_ms", self.blocked_wait_ms),
            ("stats_min_age_days", self.stats_min_age_days),
            ("missing_index_min_rows", self.missing_index_min_rows),
            (
                "missing_index_seq_to_idx_ratio",
                self.missing_index_seq_to_idx_ratio,
            ),
            ("unbounded_rows_per_call", self.unbounded_rows_per_call),
        ];
        for (k, v) in nonneg {
            if !(v.is_finite() && v >= 0.0) {
                return Err(format!("[thresholds] {k} must be a number >= 0, got {v}"));
            }
        }
        let ints = [
            ("unused_index_min_bytes", self.unused_index_min_bytes),
            (
                "missing_index_min_seq_scans",
                self.missing_index_min_seq_scans,
            ),
            ("bloat_min_bytes", self.bloat_min_bytes),
            ("dead_tuples_min", self.dead_tuples_min),
            ("cache_hit_min_blocks", self.cache_hit_min_blocks),
        ];
        for (k, v) in ints {
            if v < 0 {
                return Err(format!("[thresholds] {k} must be >= 0, got {v}"));
            }
        }
        Ok(())
    }
}

/// `; did you mean "slow_query_ms"?` for an unknown key of `[thresholds]`.
fn unknown_key_hint(e: &toml::de::Error) -> String {
    let msg = e.message();
    let Some(rest) = msg.strip_prefix("unknown field `") else {
        return String::new();
    };
    let key = rest.split('`').next().unwrap_or("");
    let expected: Vec<&str> = msg
        .split_once("expected")
        .map(|(_, tail)| tail.split('`').skip(1).step_by(2).collect())
        .unwrap_or_default();
    crate::suggest::hint(key, expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_table_means_defaults() {
        assert_eq!(
            Thresholds::parse("[budgets]\nx = 1\n").unwrap(),
            Thresholds::default()
        );
        assert_eq!(Thresholds::parse("").unwrap().slow_query_ms, SLOW_QUERY_MS);
    }

    #[test]
    fn overrides_and_strict_errors() {
        let t = Thresholds::parse("[thresholds]\nslow_query_ms = 250\ncpu_pct = 90.5\n").unwrap();
        assert_eq!(t.slow_query_ms, 250.0);
        assert_eq!(t.cpu_pct, 90.5);
        assert_eq!(t.memory_pct, MEMORY_PCT);
        let e = Thresholds::parse("[thresholds]\nslow_query_msec = 1\n").unwrap_err();
        assert!(e.contains("slow_query_msec"), "{e}");
        let e = Thresholds::parse("[thresholds]\nslow_query_ms = \"fast\"\n").unwrap_err();
        assert!(e.contains("[thresholds]"), "{e}");
        let e = Thresholds::parse("[thresholds]\ncpu_pct = 170\n").unwrap_err();
        assert!(e.contains("cpu_pct"), "{e}");
        assert!(Thresholds::parse("thresholds = 3\n").is_err());
        // The budget's resource ceilings apply, and [thresholds] wins over them.
        let t = Thresholds::parse("[resources]\ncpu_max_pct = 60\n").unwrap();
        assert_eq!(t.cpu_pct, 60.0);
        let t = Thresholds::parse("[resources]\ncpu_max_pct = 60\n[thresholds]\ncpu_pct = 65\n")
            .unwrap();
        assert_eq!(t.cpu_pct, 65.0);
    }

    #[test]
    fn missing_file_is_defaults() {
        let t = Thresholds::load(Path::new("/nonexistent/dir/budgets.toml")).unwrap();
        assert_eq!(t, Thresholds::default());
    }
}
