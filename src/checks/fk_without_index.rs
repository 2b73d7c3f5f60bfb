//! `fk_without_index`: a foreign key whose columns no index leads with. Every delete or key
//! update of the referenced table then scans the referencing one.

use std::collections::HashMap;

use serde_json::json;

use super::index_groups::index_covers_fk;
use super::Check;
use crate::analyze::doctor::CheckInfo;
use crate::analyze::sqlfix;
use crate::analyze::thresholds::Thresholds;
use crate::analyze::{Finding, Priority, Severity};
use crate::checks::CheckId;
use crate::cli::Section;
use crate::collect::schema::{IndexInfo, TableInfo};
use crate::snapshot::Snapshot;
use crate::util::{qualified, quote_ident};

/// A referencing table with fewer rows than this makes a missing FK index cheap.
pub const FK_SMALL_TABLE_ROWS: f64 = 1_000.0;
/// ... and more than this makes it urgent.
pub const FK_BIG_TABLE_ROWS: f64 = 100_000.0;

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::FkWithoutIndex,
        section: Section::Indexes,
        summary: "foreign key whose columns no index leads with",
    },
    severity: Severity::Warning,
    thresholds: &[
        ("FK_SMALL_TABLE_ROWS", FK_SMALL_TABLE_ROWS),
        ("FK_BIG_TABLE_ROWS", FK_BIG_TABLE_ROWS),
    ],
    sql: &[
        "doctor_indexes.sql",
        "doctor_foreign_keys.sql",
        "doctor_tables.sql",
    ],
    missing: |s| {
        super::first_missing(&[
            (s.schema.indexes.is_some(), "indexes"),
            (s.schema.foreign_keys.is_some(), "foreign_keys"),
        ])
    },
    run,
};

pub fn run(snap: &Snapshot, _th: &Thresholds) -> Vec<Finding> {
    let mut out = Vec::new();
    let indexes = snap.schema.indexes.as_deref().unwrap_or(&[]);
    let fks = snap.schema.foreign_keys.as_deref().unwrap_or(&[]);
    let tables: HashMap<i64, &TableInfo> = snap
        .schema
        .tables
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .map(|t| (t.oid, t))
        .collect();
    let mut by_table: HashMap<i64, Vec<&IndexInfo>> = HashMap::new();
    for ix in indexes {
        by_table.entry(ix.table_oid).or_default().push(ix);
    }
    for fk in fks {
        let covered = by_table
            .get(&fk.table_oid)
            .is_some_and(|l| l.iter().any(|ix| index_covers_fk(ix, fk)));
        if covered {
            continue;
        }
        let t = tables.get(&fk.table_oid);
        let rows = t
            .map(|t| t.reltuples.max(t.n_live_tup as f64))
            .unwrap_or(-1.0);
        let partitioned = t.is_some_and(|t| t.kind == "p");
        let (priority, severity) = if rows >= FK_BIG_TABLE_ROWS {
            (Priority::High, Severity::Warning)
        } else if !(0.0..FK_SMALL_TABLE_ROWS).contains(&rows) {
            (Priority::Medium, Severity::Warning)
        } else {
            (Priority::Low, Severity::Info)
        };
        let table = qualified(&fk.schema, &fk.table);
        let (fix, rollback) = sqlfix::create_btree(&fk.schema, &fk.table, &fk.columns, partitioned);
        out.push(
            Finding::new(
                CheckId::FkWithoutIndex,
                severity,
                priority,
                format!("{}.{}", table, quote_ident(&fk.name)),
                format!(
                    "foreign key {} on {} ({}) has no index leading with its columns: every delete or key update on {} scans {}{}",
                    quote_ident(&fk.name),
                    table,
                    fk.columns.join(", "),
                    qualified(&fk.ref_schema, &fk.ref_table),
                    table,
                    if rows >= 0.0 { format!(" (~{} rows)", rows as i64) } else { String::new() }
                ),
            )
            .table(table)
            .detail(json!({
                "constraint": fk.name,
                "columns": fk.columns,
                "references": qualified(&fk.ref_schema, &fk.ref_table),
                "table_rows": rows as i64,
            }))
            .fix(fix, Some(rollback)),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testdata::{index_json, sample_snapshot};

    #[test]
    fn a_foreign_key_without_an_index_is_reported_by_table_size() {
        let f = run(&sample_snapshot(), &Thresholds::default());
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].object, "public.meals.meals_user_id_fkey");
        // meals holds 200,000 rows: urgent.
        assert_eq!(f[0].priority, Priority::High);
        assert!(f[0]
            .fix_sql
            .as_deref()
            .unwrap()
            .starts_with("CREATE INDEX CONCURRENTLY IF NOT EXISTS"));
    }

    #[test]
    fn an_index_leading_with_the_columns_serves_the_key() {
        let mut s = sample_snapshot();
        s.schema.indexes.as_mut().unwrap().push(
            serde_json::from_value(index_json(
                25,
                2,
                "public",
                "meals",
                "meals_user_id_idx",
                &[(2, "user_id"), (3, "cooked_on")],
            ))
            .unwrap(),
        );
        assert!(run(&s, &Thresholds::default()).is_empty());
    }

    #[test]
    fn a_small_table_makes_it_info() {
        let mut s = sample_snapshot();
        for t in s.schema.tables.as_mut().unwrap() {
            if t.name == "meals" {
                t.reltuples = 10.0;
                t.n_live_tup = 10;
            }
        }
        let f = run(&s, &Thresholds::default());
        assert_eq!(
            (f[0].severity, f[0].priority),
            (Severity::Info, Priority::Low)
        );
    }
}
