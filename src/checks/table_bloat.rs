//! `table_bloat`: a table much larger than its rows need (estimated from `pg_stats`, see
//! `analyze::bloat`). `VACUUM FULL` rewrites it under an ACCESS EXCLUSIVE lock.

use serde_json::json;

use super::Check;
use crate::analyze::bloat::{self, ColumnIndex};
use crate::analyze::doctor::CheckInfo;
use crate::analyze::sqlfix;
use crate::analyze::thresholds::{self as th, Thresholds};
use crate::analyze::{Confidence, Finding, Priority, Severity};
use crate::checks::CheckId;
use crate::cli::Section;
use crate::snapshot::Snapshot;
use crate::util::{human_bytes, qualified, round2};

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::TableBloat,
        section: Section::Tables,
        summary: "table much larger than its rows need",
    },
    severity: Severity::Warning,
    thresholds: &[
        ("bloat_min_bytes", th::BLOAT_MIN_BYTES as f64),
        ("table_bloat_pct", th::TABLE_BLOAT_PCT),
        ("table_bloat_critical_pct", th::TABLE_BLOAT_CRITICAL_PCT),
    ],
    sql: &[
        "doctor_tables.sql",
        "doctor_column_stats.sql",
        "doctor_column_stats_superuser.sql",
        "doctor_settings.sql",
    ],
    missing: |s| {
        super::first_missing(&[
            (s.schema.tables.is_some(), "tables"),
            (s.schema.column_stats.is_some(), "column_stats"),
        ])
    },
    run,
};

pub fn run(snap: &Snapshot, th: &Thresholds) -> Vec<Finding> {
    let mut out = Vec::new();
    let cols = ColumnIndex::new(snap.schema.column_stats.as_deref().unwrap_or(&[]));
    let block = bloat::block_size(snap);
    for t in snap.schema.tables.as_deref().unwrap_or(&[]) {
        let Some(e) = bloat::table(t, &cols, block) else {
            continue;
        };
        if e.bloat_bytes < th.bloat_min_bytes || e.bloat_pct < th.table_bloat_pct {
            continue;
        }
        let critical = e.bloat_pct >= th.table_bloat_critical_pct;
        let name = qualified(&t.schema, &t.name);
        out.push(
            Finding::new(
                CheckId::TableBloat,
                if critical { Severity::Critical } else { Severity::Warning },
                if critical { Priority::High } else { Priority::Medium },
                name.clone(),
                format!(
                    "table {} is {} but its ~{} rows need about {}: ~{} ({:.0}%) is bloat; VACUUM FULL rewrites it under an ACCESS EXCLUSIVE lock (pg_repack does it online)",
                    name,
                    human_bytes(e.actual_bytes),
                    t.reltuples as i64,
                    human_bytes(e.expected_bytes),
                    human_bytes(e.bloat_bytes),
                    e.bloat_pct
                ),
            )
            .table(name.clone())
            .detail(json!({
                "actual_bytes": e.actual_bytes,
                "expected_bytes": e.expected_bytes,
                "bloat_bytes": e.bloat_bytes,
                "bloat_pct": round2(e.bloat_pct),
                "rows": t.reltuples as i64,
                "n_dead_tup": t.n_dead_tup,
                "method": "estimate from pg_stats",
            }))
            .fix(
                format!("VACUUM (FULL, ANALYZE) {name};"),
                Some(sqlfix::nothing_to_undo("VACUUM FULL only compacts the table")),
            )
            .confidence(Confidence::Medium),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testdata::sample_snapshot;

    /// The sample's `meals` (200,000 rows of ~28 bytes of data) spread over `pages` pages.
    fn meals_pages(pages: i64) -> Snapshot {
        let mut s = sample_snapshot();
        for t in s.schema.tables.as_mut().unwrap() {
            if t.name == "meals" {
                t.relpages = pages;
            }
        }
        s
    }

    #[test]
    fn a_sparse_table_is_reported() {
        let f = run(&meals_pages(100_000), &Thresholds::default());
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].object, "public.meals");
        assert_eq!(f[0].severity, Severity::Critical);
        assert_eq!(
            f[0].fix_sql.as_deref(),
            Some("VACUUM (FULL, ANALYZE) public.meals;")
        );
    }

    #[test]
    fn a_tight_table_is_not_reported() {
        assert!(run(&meals_pages(2_000), &Thresholds::default()).is_empty());
    }
}
