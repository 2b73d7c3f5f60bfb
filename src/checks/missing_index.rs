//! `missing_index`: a big table read by sequential scans far more than by index, each scan
//! reading many rows. A query filtering it lacks an index (the index advisor, when it ran,
//! names the columns; see `analyze::doctor`).

use std::collections::HashMap;

use serde_json::json;

use super::Check;
use crate::analyze::doctor::{CheckInfo, StatsWindow};
use crate::analyze::thresholds::{self as th, Thresholds};
use crate::analyze::{Confidence, Finding, Priority, Severity};
use crate::checks::CheckId;
use crate::cli::Section;
use crate::snapshot::Snapshot;
use crate::util::qualified;

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::MissingIndex,
        section: Section::Indexes,
        summary: "big table read by sequential scans far more than by index",
    },
    severity: Severity::Warning,
    thresholds: &[
        ("missing_index_min_rows", th::MISSING_INDEX_MIN_ROWS),
        (
            "missing_index_min_seq_scans",
            th::MISSING_INDEX_MIN_SEQ_SCANS as f64,
        ),
        (
            "missing_index_seq_to_idx_ratio",
            th::MISSING_INDEX_SEQ_TO_IDX_RATIO,
        ),
    ],
    sql: &["doctor_tables.sql", "doctor_indexes.sql"],
    missing: |s| {
        super::first_missing(&[
            (s.schema.tables.is_some(), "tables"),
            (s.schema.indexes.is_some(), "indexes"),
        ])
    },
    run,
};

pub fn run(snap: &Snapshot, th: &Thresholds) -> Vec<Finding> {
    let mut out = Vec::new();
    let tables = snap.schema.tables.as_deref().unwrap_or(&[]);
    let indexes = snap.schema.indexes.as_deref().unwrap_or(&[]);
    let stats = StatsWindow::of(snap);
    let mut idx_scans: HashMap<i64, i64> = HashMap::new();
    for ix in indexes {
        *idx_scans.entry(ix.table_oid).or_default() += ix.idx_scan;
    }
    for t in tables.iter().filter(|t| t.kind == "r" || t.kind == "m") {
        let rows = t.reltuples.max(t.n_live_tup as f64);
        let idx_scan = idx_scans.get(&t.oid).copied().unwrap_or(0);
        if rows < th.missing_index_min_rows
            || t.seq_scan < th.missing_index_min_seq_scans
            || (t.seq_scan as f64) < th.missing_index_seq_to_idx_ratio * idx_scan as f64
        {
            continue;
        }
        let rows_per_scan = t.seq_tup_read as f64 / t.seq_scan.max(1) as f64;
        // Scans that stop early (LIMIT, EXISTS) read few rows: those do not need an index.
        if rows_per_scan < th.missing_index_min_rows {
            continue;
        }
        let table = qualified(&t.schema, &t.name);
        out.push(
            Finding::new(
                CheckId::MissingIndex,
                Severity::Warning,
                Priority::Medium,
                table.clone(),
                format!(
                    "table {} (~{} rows) was read by {} sequential scans (~{} rows each) and {} index scans: a query filtering it lacks an index; find it among the top statements and index its filter columns",
                    table,
                    rows as i64,
                    t.seq_scan,
                    rows_per_scan as i64,
                    idx_scan
                ),
            )
            .table(table)
            .detail(json!({
                "rows": rows as i64,
                "seq_scan": t.seq_scan,
                "seq_tup_read": t.seq_tup_read,
                "rows_per_seq_scan": rows_per_scan as i64,
                "idx_scan": idx_scan,
                "stats_since": stats.since,
                "replica_statistics": stats.replica,
            }))
            .confidence(Confidence::Medium),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testdata::sample_snapshot;

    #[test]
    fn a_big_table_read_by_long_sequential_scans_is_reported() {
        let f = run(&sample_snapshot(), &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].object, "public.meals");
        assert_eq!(f[0].detail["rows_per_seq_scan"], 200_000);
    }

    #[test]
    fn short_scans_or_index_reads_are_not_reported() {
        let mut s = sample_snapshot();
        for t in s.schema.tables.as_mut().unwrap() {
            t.seq_tup_read = t.seq_scan; // one row per scan: LIMIT or EXISTS
        }
        assert!(run(&s, &Thresholds::default()).is_empty());
        let mut s = sample_snapshot();
        for i in s.schema.indexes.as_mut().unwrap() {
            i.idx_scan = 1_000_000;
        }
        assert!(run(&s, &Thresholds::default()).is_empty());
    }
}
