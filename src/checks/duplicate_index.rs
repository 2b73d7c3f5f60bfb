//! `duplicate_index`: an index identical to another on the same table (same columns, operator
//! classes, collations, order, expressions and predicate). The copy answers no query the other
//! does not.

use serde_json::json;

use super::index_groups::{duplicate_groups, obj, table_of, BIG_INDEX_BYTES};
use super::Check;
use crate::analyze::doctor::CheckInfo;
use crate::analyze::sqlfix;
use crate::analyze::thresholds::Thresholds;
use crate::analyze::{Finding, Priority, Severity};
use crate::checks::CheckId;
use crate::cli::Section;
use crate::snapshot::Snapshot;
use crate::util::human_bytes;

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::DuplicateIndex,
        section: Section::Indexes,
        summary: "index identical to another on the same table",
    },
    severity: Severity::Warning,
    thresholds: &[("BIG_INDEX_BYTES", BIG_INDEX_BYTES as f64)],
    sql: &["doctor_indexes.sql"],
    missing: |s| s.schema.indexes.is_none().then_some("indexes"),
    run,
};

pub fn run(snap: &Snapshot, _th: &Thresholds) -> Vec<Finding> {
    let mut out = Vec::new();
    let indexes = snap.schema.indexes.as_deref().unwrap_or(&[]);
    for g in duplicate_groups(indexes) {
        let keeper = g[0];
        for ix in &g[1..] {
            let detail = json!({
                "bytes": ix.bytes,
                "idx_scan": ix.idx_scan,
                "duplicate_of": obj(keeper),
                "duplicate_of_constraint": keeper.constraint_name,
                "definition": ix.definition,
                "kept_definition": keeper.definition,
            });
            if ix.constraint_name.is_some() || ix.is_primary || ix.is_exclusion {
                // Both back constraints: dropping means dropping a constraint, a schema decision.
                out.push(
                    Finding::new(
                        CheckId::DuplicateIndex,
                        Severity::Info,
                        Priority::Low,
                        obj(ix),
                        format!(
                            "index {} backs constraint {} and is identical to {}: two constraints enforce the same thing; drop one constraint if that is not intended",
                            obj(ix),
                            ix.constraint_name.as_deref().unwrap_or("?"),
                            obj(keeper)
                        ),
                    )
                    .table(table_of(ix))
                    .detail(detail),
                );
                continue;
            }
            out.push(
                Finding::new(
                    CheckId::DuplicateIndex,
                    Severity::Warning,
                    if ix.bytes >= BIG_INDEX_BYTES {
                        Priority::High
                    } else {
                        Priority::Medium
                    },
                    obj(ix),
                    format!(
                        "index {} ({}) is identical to {}{}: drop it, every query it serves is served by the other",
                        obj(ix),
                        human_bytes(ix.bytes),
                        obj(keeper),
                        keeper
                            .constraint_name
                            .as_deref()
                            .map(|c| format!(" (which backs constraint {c})"))
                            .unwrap_or_default()
                    ),
                )
                .table(table_of(ix))
                .detail(detail)
                .fix(sqlfix::drop_index(ix), Some(sqlfix::create_index(ix))),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testdata::sample_snapshot;

    #[test]
    fn the_less_used_copy_is_reported_and_the_other_kept() {
        let f = run(&sample_snapshot(), &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].object, "public.idx_meals_cooked_on_copy");
        assert_eq!(f[0].detail["duplicate_of"], "public.idx_meals_cooked_on");
        assert_eq!(f[0].priority, Priority::Medium);
        assert!(f[0].fix_sql.as_deref().unwrap().starts_with("DROP INDEX"));
    }

    #[test]
    fn different_columns_are_no_duplicates() {
        let mut s = sample_snapshot();
        let ix = s.schema.indexes.as_mut().unwrap();
        ix.retain(|i| i.name != "idx_meals_cooked_on_copy");
        assert!(run(&s, &Thresholds::default()).is_empty());
    }

    #[test]
    fn two_constraints_alike_are_info_without_a_drop() {
        let mut s = sample_snapshot();
        for i in s.schema.indexes.as_mut().unwrap() {
            if i.name == "idx_meals_cooked_on_copy" {
                i.constraint_name = Some("meals_cooked_on_key".into());
            }
            if i.name == "idx_meals_cooked_on" {
                i.constraint_name = Some("meals_cooked_on_key1".into());
            }
        }
        let f = run(&s, &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Info);
        assert!(f[0].fix_sql.is_none());
    }
}
