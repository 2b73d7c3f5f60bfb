//! `unused_index`: an index never scanned in the statistics window. It costs every write and
//! its space for nothing; one that serves a foreign key is reported as info and kept.

use serde_json::json;

use super::index_groups::{
    duplicate_copies, enforces_something, obj, supported_fks, table_of, BIG_INDEX_BYTES,
};
use super::Check;
use crate::analyze::doctor::{CheckInfo, StatsWindow};
use crate::analyze::sqlfix;
use crate::analyze::thresholds::{self as th, Thresholds};
use crate::analyze::{Confidence, Finding, Priority, Severity};
use crate::checks::CheckId;
use crate::cli::Section;
use crate::snapshot::Snapshot;
use crate::util::{human_bytes, qualified, round2};

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::UnusedIndex,
        section: Section::Indexes,
        summary: "index never scanned since the statistics were reset",
    },
    severity: Severity::Warning,
    thresholds: &[
        ("unused_index_min_bytes", th::UNUSED_INDEX_MIN_BYTES as f64),
        ("stats_min_age_days", th::STATS_MIN_AGE_DAYS),
        ("BIG_INDEX_BYTES", BIG_INDEX_BYTES as f64),
    ],
    sql: &[
        "doctor_indexes.sql",
        "doctor_index_last_scan_16.sql",
        "doctor_foreign_keys.sql",
        "capabilities.sql",
    ],
    // Its skip names the index list even when the foreign keys are what is missing.
    missing: |s| {
        (s.schema.indexes.is_none() || s.schema.foreign_keys.is_none()).then_some("indexes")
    },
    run,
};

pub fn run(snap: &Snapshot, th: &Thresholds) -> Vec<Finding> {
    let mut out = Vec::new();
    let indexes = snap.schema.indexes.as_deref().unwrap_or(&[]);
    let fks = snap.schema.foreign_keys.as_deref().unwrap_or(&[]);
    let stats = StatsWindow::of(snap);
    // A duplicate gets the more specific duplicate_index verdict instead.
    let duplicates = duplicate_copies(indexes);
    for ix in indexes {
        if duplicates.contains(&ix.oid)
            || ix.idx_scan > 0
            || !ix.is_valid
            || enforces_something(ix)
            || ix.attached_to_parent
            || ix.bytes < th.unused_index_min_bytes
        {
            continue;
        }
        let confidence = if stats.age_days < th.stats_min_age_days {
            Confidence::Low
        } else if stats.replica {
            Confidence::Medium
        } else {
            Confidence::High
        };
        let supported = supported_fks(ix, fks);
        let mut detail = json!({
            "bytes": ix.bytes,
            "idx_scan": ix.idx_scan,
            "stats_since": stats.since,
            "stats_source": stats.source,
            "stats_age_days": round2(stats.age_days),
            "replica_statistics": stats.replica,
            "definition": ix.definition,
        });
        if let Some(t) = ix.last_idx_scan {
            detail["last_idx_scan"] = json!(t);
        }
        let age_note = stats.describe();
        if !supported.is_empty() {
            let names: Vec<String> = supported.iter().map(|f| f.name.to_string()).collect();
            detail["supports_foreign_keys"] = json!(names);
            let names: Vec<String> = names.iter().map(|n| crate::util::quote_ident(n)).collect();
            out.push(
                Finding::new(
                    CheckId::UnusedIndex,
                    Severity::Info,
                    Priority::Low,
                    obj(ix),
                    format!(
                        "index {} ({}) has not been scanned, but it supports foreign key {}: without it, deleting or updating rows of {} scans {}; keep it unless that never happens ({age_note})",
                        obj(ix),
                        human_bytes(ix.bytes),
                        names.join(", "),
                        supported
                            .iter()
                            .map(|f| qualified(&f.ref_schema, &f.ref_table))
                            .collect::<Vec<_>>()
                            .join(", "),
                        table_of(ix)
                    ),
                )
                .table(table_of(ix))
                .detail(detail)
                .confidence(confidence),
            );
            continue;
        }
        let priority = if ix.bytes >= BIG_INDEX_BYTES && confidence == Confidence::High {
            Priority::High
        } else if confidence == Confidence::Low {
            Priority::Low
        } else {
            Priority::Medium
        };
        out.push(
            Finding::new(
                CheckId::UnusedIndex,
                Severity::Warning,
                priority,
                obj(ix),
                format!(
                    "index {} ({}) has not been scanned once: it costs writes and space for nothing ({age_note}{})",
                    obj(ix),
                    human_bytes(ix.bytes),
                    if confidence == Confidence::Low {
                        "; too recent to be sure, check again later"
                    } else {
                        ""
                    }
                ),
            )
            .table(table_of(ix))
            .detail(detail)
            .fix(sqlfix::drop_index(ix), Some(sqlfix::create_index(ix)))
            .confidence(confidence),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testdata::sample_snapshot;

    fn objects(f: &[Finding]) -> Vec<&str> {
        f.iter().map(|f| f.object.as_str()).collect()
    }

    #[test]
    fn a_never_scanned_index_is_reported_with_a_drop() {
        let f = run(&sample_snapshot(), &Thresholds::default());
        let ix = f
            .iter()
            .find(|f| f.object == "public.idx_users_created_at")
            .expect("reported");
        assert_eq!(ix.severity, Severity::Warning);
        assert_eq!(ix.confidence, Some(Confidence::High));
        assert_eq!(
            ix.fix_sql.as_deref(),
            Some("DROP INDEX CONCURRENTLY IF EXISTS public.idx_users_created_at;")
        );
        // Constraint indexes and the duplicate copy are never reported here.
        assert!(!objects(&f).contains(&"public.users_email_key"));
        assert!(!objects(&f).contains(&"public.idx_meals_cooked_on_copy"));
    }

    #[test]
    fn scanned_or_small_indexes_are_not_reported() {
        let mut s = sample_snapshot();
        for ix in s.schema.indexes.as_mut().unwrap() {
            ix.idx_scan = ix.idx_scan.max(1);
        }
        assert!(run(&s, &Thresholds::default()).is_empty());
        let th = Thresholds {
            unused_index_min_bytes: i64::MAX,
            ..Thresholds::default()
        };
        assert!(run(&sample_snapshot(), &th).is_empty());
    }

    #[test]
    fn an_index_serving_a_foreign_key_is_kept() {
        let f = run(&sample_snapshot(), &Thresholds::default());
        let fk = f
            .iter()
            .find(|f| f.object == "\"my schema\".\"Weird \"\"Name\"\"_val_idx\"")
            .expect("reported as info");
        assert_eq!(fk.severity, Severity::Info);
        assert!(fk.fix_sql.is_none());
        assert_eq!(
            fk.detail["supports_foreign_keys"],
            json!(["Weird \"Name\"_val_fkey"])
        );
    }

    #[test]
    fn young_statistics_lower_the_confidence() {
        let mut s = sample_snapshot();
        s.capabilities.stats_reset = Some(s.capabilities.server_now - chrono::Duration::days(1));
        let f = run(&s, &Thresholds::default());
        assert!(f.iter().all(|f| f.confidence == Some(Confidence::Low)));
        assert!(!f.is_empty());
    }
}
