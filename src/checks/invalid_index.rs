//! `invalid_index`: an index left invalid by a failed `CREATE INDEX CONCURRENTLY` or `REINDEX`.
//! Queries never use it, writes still maintain it. Leftovers of concurrent rebuilds are dropped,
//! others rebuilt; a unique one only when its table holds no duplicate keys.

use serde_json::json;

use super::index_groups::{leftover_of, obj, table_of};
use super::Check;
use crate::analyze::doctor::CheckInfo;
use crate::analyze::sqlfix;
use crate::analyze::thresholds::Thresholds;
use crate::analyze::{Finding, Priority, Severity};
use crate::checks::CheckId;
use crate::cli::Section;
use crate::snapshot::Snapshot;

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::InvalidIndex,
        section: Section::Indexes,
        summary: "index left invalid by a failed concurrent build",
    },
    severity: Severity::Warning,
    thresholds: &[],
    sql: &["doctor_indexes.sql", "doctor_sessions.sql"],
    missing: |s| s.schema.indexes.is_none().then_some("indexes"),
    run,
};

pub fn run(snap: &Snapshot, _th: &Thresholds) -> Vec<Finding> {
    let mut out = Vec::new();
    let indexes = snap.schema.indexes.as_deref().unwrap_or(&[]);
    let sessions = snap.activity.sessions.as_deref().unwrap_or(&[]);
    let checks = snap.schema.fix_checks.as_ref();
    for ix in indexes.iter().filter(|i| !i.is_valid) {
        // A concurrent build in progress is invalid until it finishes: not a finding.
        let building = sessions.iter().any(|s| {
            s.state.as_deref() == Some("active")
                && s.query.as_deref().is_some_and(|q| {
                    let q = q.to_lowercase();
                    q.contains("concurrently") && q.contains(ix.name.to_lowercase().as_str())
                })
        });
        if building {
            continue;
        }
        let mut detail = json!({
            "bytes": ix.bytes,
            "is_ready": ix.is_ready,
            "definition": ix.definition,
        });
        let base = Finding::new(
            CheckId::InvalidIndex,
            Severity::Warning,
            Priority::High,
            obj(ix),
            String::new(),
        )
        .table(table_of(ix));
        if let Some(orig) = leftover_of(ix, indexes) {
            detail["leftover_of"] = json!(obj(orig));
            out.push(
                Finding {
                    message: format!(
                        "index {} is the leftover of a failed concurrent rebuild of {}: it answers no query, but every write still maintains it; drop it ({} itself is untouched)",
                        obj(ix),
                        obj(orig),
                        obj(orig)
                    ),
                    ..base
                }
                .detail(detail)
                .fix(
                    sqlfix::drop_index(ix),
                    Some(sqlfix::nothing_to_undo(
                        "the leftover answered no query and pg_dump leaves invalid indexes out",
                    )),
                ),
            );
            continue;
        }
        if ix.on_partitioned_table {
            // Left invalid by CREATE INDEX ... ON ONLY: valid once every partition's index is
            // attached, which a rebuild does not do.
            out.push(
                Finding {
                    message: format!(
                        "index {} of partitioned table {} is invalid: some partition has no index attached to it; create the matching index on each partition and ALTER INDEX {} ATTACH PARTITION it (no automatic fix)",
                        obj(ix),
                        table_of(ix),
                        obj(ix)
                    ),
                    ..base
                }
                .detail(detail),
            );
            continue;
        }
        let dup = checks.and_then(|c| c.duplicates(ix.oid));
        if ix.is_unique {
            match dup {
                Some(d) if d.duplicated_values.is_some_and(|n| n > 0) => {
                    detail["duplicated_values"] = json!(d.duplicated_values);
                    detail["list_duplicates_sql"] = json!(d.list_query);
                    out.push(
                        Finding {
                            message: format!(
                                "unique index {} is invalid and {} key value{} of {} are held by more than one row: a rebuild fails until they are resolved; list them with: {}",
                                obj(ix),
                                d.duplicated_values.unwrap_or(0),
                                if d.duplicated_values == Some(1) { "" } else { "s" },
                                table_of(ix),
                                d.list_query
                            ),
                            ..base
                        }
                        .detail(detail),
                    );
                    continue;
                }
                Some(d) if d.duplicated_values == Some(0) => {}
                other => {
                    let why = other
                        .and_then(|d| d.error.clone())
                        .unwrap_or_else(|| "duplicate keys were not checked".into());
                    if let Some(d) = other.filter(|d| !d.list_query.is_empty()) {
                        detail["list_duplicates_sql"] = json!(d.list_query);
                    }
                    detail["duplicate_check_error"] = json!(why);
                    out.push(
                        Finding {
                            message: format!(
                                "unique index {} is invalid; whether its table holds duplicate keys is unknown ({why}), so no rebuild is proposed: a rebuild fails while duplicates exist",
                                obj(ix)
                            ),
                            ..base
                        }
                        .detail(detail),
                    );
                    continue;
                }
            }
        }
        out.push(
            Finding {
                message: format!(
                    "index {} is invalid (a CREATE INDEX CONCURRENTLY or REINDEX failed): queries never use it, but every write still maintains it; rebuild it (or drop it if it is not needed)",
                    obj(ix)
                ),
                ..base
            }
            .detail(detail)
            .fix(
                sqlfix::reindex(ix),
                Some(format!(
                    "-- the original index was invalid and answered no query: dropping the rebuilt one restores that\n{}",
                    sqlfix::drop_index(ix)
                )),
            ),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testdata::sample_snapshot;

    #[test]
    fn an_invalid_index_is_rebuilt() {
        let f = run(&sample_snapshot(), &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].object, "public.idx_meals_title_broken");
        assert!(f[0].fix_sql.as_deref().unwrap().contains("REINDEX"));
    }

    #[test]
    fn valid_indexes_and_builds_in_progress_are_not_reported() {
        let mut s = sample_snapshot();
        for i in s.schema.indexes.as_mut().unwrap() {
            i.is_valid = true;
        }
        assert!(run(&s, &Thresholds::default()).is_empty());
        let mut building = sample_snapshot();
        let sessions = building.activity.sessions.as_mut().unwrap();
        sessions[2].query =
            Some("CREATE INDEX CONCURRENTLY idx_meals_title_broken ON meals (title)".into());
        assert!(run(&building, &Thresholds::default()).is_empty());
    }

    #[test]
    fn a_leftover_of_a_rebuild_is_dropped() {
        let mut s = sample_snapshot();
        for i in s.schema.indexes.as_mut().unwrap() {
            if i.name == "idx_meals_title_broken" {
                i.name = "idx_meals_cooked_on_ccnew".into();
                i.attnums = vec![3].into();
            }
        }
        let f = run(&s, &Thresholds::default());
        assert_eq!(f[0].detail["leftover_of"], "public.idx_meals_cooked_on");
        assert!(f[0].fix_sql.as_deref().unwrap().starts_with("DROP INDEX"));
    }

    #[test]
    fn an_unchecked_unique_index_gets_no_rebuild() {
        let mut s = sample_snapshot();
        for i in s.schema.indexes.as_mut().unwrap() {
            if i.name == "idx_meals_title_broken" {
                i.is_unique = true;
            }
        }
        let f = run(&s, &Thresholds::default());
        assert!(f[0].fix_sql.is_none());
        assert_eq!(
            f[0].detail["duplicate_check_error"],
            "duplicate keys were not checked"
        );
    }
}
