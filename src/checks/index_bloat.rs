//! `index_bloat`: a btree index much larger than its rows need (estimated from `pg_stats`, see
//! `analyze::bloat`). A concurrent rebuild gives the space back without blocking writes.

use serde_json::json;

use super::index_groups::{obj, table_of};
use super::Check;
use crate::analyze::bloat::{self, ColumnIndex};
use crate::analyze::doctor::CheckInfo;
use crate::analyze::sqlfix;
use crate::analyze::thresholds::{self as th, Thresholds};
use crate::analyze::{Confidence, Finding, Priority, Severity};
use crate::checks::CheckId;
use crate::cli::Section;
use crate::snapshot::Snapshot;
use crate::util::{human_bytes, round2};

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::IndexBloat,
        section: Section::Indexes,
        summary: "btree index much larger than its rows need",
    },
    severity: Severity::Warning,
    thresholds: &[
        ("bloat_min_bytes", th::BLOAT_MIN_BYTES as f64),
        ("index_bloat_pct", th::INDEX_BLOAT_PCT),
        ("index_bloat_critical_pct", th::INDEX_BLOAT_CRITICAL_PCT),
    ],
    sql: &[
        "doctor_indexes.sql",
        "doctor_column_stats.sql",
        "doctor_column_stats_superuser.sql",
        "doctor_settings.sql",
    ],
    missing: |s| {
        super::first_missing(&[
            (s.schema.indexes.is_some(), "indexes"),
            (s.schema.column_stats.is_some(), "column_stats"),
        ])
    },
    run,
};

pub fn run(snap: &Snapshot, th: &Thresholds) -> Vec<Finding> {
    let mut out = Vec::new();
    let indexes = snap.schema.indexes.as_deref().unwrap_or(&[]);
    let cols = ColumnIndex::new(snap.schema.column_stats.as_deref().unwrap_or(&[]));
    let block = bloat::block_size(snap);
    for ix in indexes.iter().filter(|i| i.is_valid) {
        let Some(e) = bloat::index(ix, &cols, block) else {
            continue;
        };
        if e.bloat_bytes < th.bloat_min_bytes || e.bloat_pct < th.index_bloat_pct {
            continue;
        }
        let critical = e.bloat_pct >= th.index_bloat_critical_pct;
        out.push(
            Finding::new(
                CheckId::IndexBloat,
                if critical { Severity::Critical } else { Severity::Warning },
                if critical { Priority::High } else { Priority::Medium },
                obj(ix),
                format!(
                    "index {} is {} but its rows need about {}: ~{} ({:.0}%) is bloat; rebuild it online",
                    obj(ix),
                    human_bytes(e.actual_bytes),
                    human_bytes(e.expected_bytes),
                    human_bytes(e.bloat_bytes),
                    e.bloat_pct
                ),
            )
            .table(table_of(ix))
            .detail(json!({
                "actual_bytes": e.actual_bytes,
                "expected_bytes": e.expected_bytes,
                "bloat_bytes": e.bloat_bytes,
                "bloat_pct": round2(e.bloat_pct),
                "method": "estimate from pg_stats (btree)",
            }))
            .fix(
                sqlfix::reindex(ix),
                Some(sqlfix::nothing_to_undo("REINDEX keeps the definition")),
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

    /// The sample with a 200,000-row `meals` whose primary key index is `pages` pages big.
    fn with_pkey_pages(pages: i64) -> Snapshot {
        let mut s = sample_snapshot();
        for i in s.schema.indexes.as_mut().unwrap() {
            if i.name == "meals_pkey" {
                i.relpages = pages;
                i.bytes = pages * 8192;
                i.reltuples = 200_000.0;
            }
        }
        s
    }

    #[test]
    fn an_oversized_btree_is_rebuilt() {
        let f = run(&with_pkey_pages(100_000), &Thresholds::default());
        let b = f.iter().find(|f| f.object == "public.meals_pkey").unwrap();
        assert_eq!(b.severity, Severity::Critical);
        assert!(b.fix_sql.as_deref().unwrap().contains("REINDEX"));
    }

    #[test]
    fn an_index_of_the_expected_size_is_not_reported() {
        // 200,000 keys of 8 bytes fill about 550 pages.
        let f = run(&with_pkey_pages(600), &Thresholds::default());
        assert!(f.is_empty(), "{f:?}");
    }
}
