//! `redundant_index`: a plain btree index whose key columns are a left prefix of another btree
//! index's on the same table, so the wider index answers its queries.

use std::collections::HashMap;

use serde_json::json;

use super::index_groups::{duplicate_copies, enforces_something, left_prefix_of, obj, table_of};
use super::Check;
use crate::analyze::doctor::CheckInfo;
use crate::analyze::sqlfix;
use crate::analyze::thresholds::Thresholds;
use crate::analyze::{Confidence, Finding, Priority, Severity};
use crate::checks::CheckId;
use crate::cli::Section;
use crate::collect::schema::IndexInfo;
use crate::snapshot::Snapshot;
use crate::util::human_bytes;

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::RedundantIndex,
        section: Section::Indexes,
        summary: "index whose columns are a left prefix of another's",
    },
    severity: Severity::Warning,
    thresholds: &[],
    sql: &["doctor_indexes.sql"],
    missing: |s| s.schema.indexes.is_none().then_some("indexes"),
    run,
};

pub fn run(snap: &Snapshot, _th: &Thresholds) -> Vec<Finding> {
    let mut out = Vec::new();
    let indexes = snap.schema.indexes.as_deref().unwrap_or(&[]);
    // A duplicate's own verdict is duplicate_index.
    let duplicates = duplicate_copies(indexes);
    let mut by_table: HashMap<i64, Vec<&IndexInfo>> = HashMap::new();
    for ix in indexes
        .iter()
        .filter(|i| i.is_valid && !i.attached_to_parent && !duplicates.contains(&i.oid))
    {
        by_table.entry(ix.table_oid).or_default().push(ix);
    }
    let mut tables: Vec<_> = by_table.into_iter().collect();
    tables.sort_by_key(|(oid, _)| *oid);
    for (_, list) in tables {
        for a in &list {
            if a.method != "btree"
                || enforces_something(a)
                || a.key_count as usize != a.attnums.len()
            {
                continue;
            }
            // The widest index that covers `a`, so the message names the best replacement.
            let cover = list
                .iter()
                .filter(|b| b.oid != a.oid && left_prefix_of(a, b))
                .max_by_key(|b| (b.key_attnums().len(), -b.oid));
            let Some(b) = cover else { continue };
            out.push(
                Finding::new(
                    CheckId::RedundantIndex,
                    Severity::Warning,
                    Priority::Low,
                    obj(a),
                    format!(
                        "index {} ({}) is a left prefix of {}: queries on its columns can use the wider index; drop it unless its smaller size measurably speeds a hot query",
                        obj(a),
                        human_bytes(a.bytes),
                        obj(b)
                    ),
                )
                .table(table_of(a))
                .detail(json!({
                    "bytes": a.bytes,
                    "idx_scan": a.idx_scan,
                    "covered_by": obj(b),
                    "covered_by_bytes": b.bytes,
                    "definition": a.definition,
                    "covering_definition": b.definition,
                }))
                .fix(sqlfix::drop_index(a), Some(sqlfix::create_index(a)))
                .confidence(Confidence::Medium),
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
    fn a_left_prefix_of_a_wider_index_is_reported() {
        let f = run(&sample_snapshot(), &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].object, "public.idx_meals_cooked_on");
        assert_eq!(
            f[0].detail["covered_by"],
            "public.idx_meals_cooked_on_title"
        );
    }

    #[test]
    fn without_the_wider_index_nothing_is_redundant() {
        let mut s = sample_snapshot();
        s.schema
            .indexes
            .as_mut()
            .unwrap()
            .retain(|i| i.name != "idx_meals_cooked_on_title");
        assert!(run(&s, &Thresholds::default()).is_empty());
    }

    #[test]
    fn a_unique_prefix_is_kept() {
        let mut s = sample_snapshot();
        for i in s.schema.indexes.as_mut().unwrap() {
            if i.name == "idx_meals_cooked_on" {
                i.is_unique = true;
            }
        }
        assert!(run(&s, &Thresholds::default())
            .iter()
            .all(|f| f.object != "public.idx_meals_cooked_on"));
    }
}
