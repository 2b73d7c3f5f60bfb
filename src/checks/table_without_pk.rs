//! `table_without_pk`: a table without a primary key. Rows cannot be identified reliably, and
//! logical replication cannot replicate its updates and deletes. When a unique index on NOT NULL
//! (or NULL-free) columns exists, the fix makes it the primary key.

use std::collections::HashSet;

use serde_json::json;

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

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::TableWithoutPk,
        section: Section::Tables,
        summary: "table without a primary key",
    },
    severity: Severity::Warning,
    thresholds: &[],
    sql: &[
        "doctor_tables.sql",
        "doctor_indexes.sql",
        "doctor_relation_names.sql",
    ],
    missing: |s| {
        super::first_missing(&[
            (s.schema.tables.is_some(), "tables"),
            (s.schema.indexes.is_some(), "indexes"),
        ])
    },
    run,
};

/// A unique index PostgreSQL can turn into a primary key: valid, btree, plain columns in
/// default order, no predicate, no INCLUDE columns.
fn pk_capable(i: &IndexInfo) -> bool {
    i.is_unique
        && i.is_valid
        && !i.is_exclusion
        && i.method == "btree"
        && i.predicate.is_none()
        && i.expressions.is_none()
        && i.key_count as usize == i.attnums.len()
        && i.options.iter().all(|o| *o == 0)
        && i.columns.iter().all(|c| c.is_some())
}

fn tables_with_pk(indexes: &[IndexInfo]) -> HashSet<i64> {
    indexes
        .iter()
        .filter(|i| i.is_primary)
        .map(|i| i.table_oid)
        .collect()
}

/// The unique index whose columns would become the primary key of `t`: one that backs no
/// constraint first (it can be attached as is), then the fewest columns, then the oldest.
fn pk_candidate<'a>(t: &TableInfo, indexes: &'a [IndexInfo]) -> Option<&'a IndexInfo> {
    indexes
        .iter()
        .filter(|i| i.table_oid == t.oid && pk_capable(i))
        .min_by_key(|i| (i.constraint_name.is_some(), i.attnums.len(), i.oid))
}

/// The index of each ordinary table without a primary key that would become it (the collector
/// checks these for NULLs).
pub fn pk_candidates<'a>(tables: &[TableInfo], indexes: &'a [IndexInfo]) -> Vec<&'a IndexInfo> {
    let with_pk = tables_with_pk(indexes);
    tables
        .iter()
        .filter(|t| t.kind == "r" && !t.is_partition && !with_pk.contains(&t.oid))
        .filter_map(|t| pk_candidate(t, indexes))
        .collect()
}

/// Schema and name of every table and index in the snapshot.
fn indexes_and_tables(snap: &Snapshot) -> impl Iterator<Item = (String, String)> + '_ {
    let s = &snap.schema;
    s.tables
        .iter()
        .flatten()
        .map(|t| (t.schema.to_string(), t.name.to_string()))
        .chain(
            s.indexes
                .iter()
                .flatten()
                .map(|i| (i.schema.to_string(), i.name.to_string())),
        )
}

/// Fix and rollback that make `i` (or a new unique index on its columns, when `i` already backs
/// a UNIQUE constraint) the primary key; NOT NULL is set on nullable columns by PostgreSQL
/// itself and dropped again by the rollback.
fn pk_fix(snap: &Snapshot, t: &TableInfo, i: &IndexInfo) -> (String, String) {
    let name = qualified(&t.schema, &t.name);
    let cols: Vec<&str> = i.columns.iter().flatten().map(|c| c.as_str()).collect();
    let nullable: Vec<&str> = cols
        .iter()
        .zip(i.not_null.iter().chain(std::iter::repeat(&false)))
        .filter(|(_, nn)| !**nn)
        .map(|(c, _)| *c)
        .collect();
    let mut fix = String::new();
    let mut rollback = String::new();
    if !nullable.is_empty() {
        fix.push_str(&format!(
            "-- also sets NOT NULL on {} (checked: no NULLs), scanning the table under an ACCESS EXCLUSIVE lock\n",
            nullable.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ")
        ));
    }
    // The constraint gets the conventional `<table>_pkey` name, or a hashed one when a relation
    // of the schema already has it.
    let mut taken: HashSet<String> = snap
        .schema
        .relation_names
        .iter()
        .flatten()
        .filter(|r| r.schema == t.schema)
        .map(|r| r.name.to_string())
        .chain(
            indexes_and_tables(snap)
                .filter(|(s, _)| *s == t.schema)
                .map(|(_, n)| n),
        )
        .collect();
    let pk = sqlfix::free_name(&format!("{}_pkey", t.name), &name, &mut taken);
    let q = quote_ident(&pk);
    if i.constraint_name.is_some() {
        // Attached to its UNIQUE constraint, the index cannot become the primary key too: build
        // an identical one for it.
        let col_list: Vec<String> = cols.iter().map(|c| quote_ident(c)).collect();
        fix.push_str(&format!(
            "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {q} ON {name} ({});\n",
            col_list.join(", ")
        ));
        fix.push_str(&format!(
            "ALTER TABLE {name} ADD CONSTRAINT {q} PRIMARY KEY USING INDEX {q};"
        ));
    } else {
        // The index is renamed to the constraint's name; the rollback builds it again.
        fix.push_str(&format!(
            "ALTER TABLE {name} ADD CONSTRAINT {q} PRIMARY KEY USING INDEX {};",
            quote_ident(&i.name)
        ));
    }
    rollback.push_str(&format!("ALTER TABLE {name} DROP CONSTRAINT {q};"));
    for c in &nullable {
        rollback.push_str(&format!(
            "\nALTER TABLE {name} ALTER COLUMN {} DROP NOT NULL;",
            quote_ident(c)
        ));
    }
    if i.constraint_name.is_none() {
        // Dropping the constraint drops its index: build the original unique index again.
        rollback.push('\n');
        rollback.push_str(&sqlfix::create_index(i));
    }
    (fix, rollback)
}

pub fn run(snap: &Snapshot, _th: &Thresholds) -> Vec<Finding> {
    let mut out = Vec::new();
    let tables = snap.schema.tables.as_deref().unwrap_or(&[]);
    let indexes = snap.schema.indexes.as_deref().unwrap_or(&[]);
    let with_pk = tables_with_pk(indexes);
    let checks = snap.schema.fix_checks.as_ref();
    for t in tables {
        // Materialized views cannot have one; a partition inherits its parent's verdict.
        if !(t.kind == "r" || t.kind == "p") || t.is_partition || with_pk.contains(&t.oid) {
            continue;
        }
        let name = qualified(&t.schema, &t.name);
        let candidate = pk_candidate(t, indexes);
        let mut detail = json!({"rows": t.reltuples as i64, "kind": t.kind});
        // Why no fix is given, when none is.
        let mut fix = None;
        let note = match candidate {
            None => "; no unique index on plain columns could become it: choose the key columns and add one (no automatic fix)".to_string(),
            Some(i) => {
                let iname = qualified(&i.schema, &i.name);
                detail["candidate_index"] = json!(iname);
                let nulls = checks.and_then(|c| c.nulls(i.oid));
                if t.kind == "p" {
                    format!("; unique index {iname} has the columns, but PostgreSQL cannot turn an existing index into a partitioned table's primary key: ALTER TABLE {name} ADD PRIMARY KEY builds a new one under a lock (no automatic fix)")
                } else if i.not_null.len() == i.attnums.len() && i.not_null.iter().all(|n| *n) {
                    fix = Some(pk_fix(snap, t, i));
                    format!("; unique index {iname} covers NOT NULL columns and can become it")
                } else {
                    match nulls {
                        Some(n) if n.has_nulls == Some(false) => {
                            fix = Some(pk_fix(snap, t, i));
                            format!("; unique index {iname} can become it (its columns hold no NULLs)")
                        }
                        Some(n) if n.has_nulls == Some(true) => {
                            detail["key_columns_hold_nulls"] = json!(true);
                            format!("; unique index {iname} cannot become it while its columns hold NULLs (no automatic fix)")
                        }
                        other => {
                            let why = other
                                .and_then(|n| n.error.clone())
                                .unwrap_or_else(|| "not checked".into());
                            detail["null_check_error"] = json!(why);
                            format!("; unique index {iname} could become it, but whether its columns hold NULLs is unknown ({why}; no automatic fix)")
                        }
                    }
                }
            }
        };
        let mut f = Finding::new(
            CheckId::TableWithoutPk,
            Severity::Warning,
            if t.reltuples >= 10_000.0 {
                Priority::Medium
            } else {
                Priority::Low
            },
            name.clone(),
            format!(
                "table {} has no primary key: rows cannot be identified reliably (logical replication needs one to replicate updates and deletes){note}",
                name,
            ),
        )
        .table(name.clone())
        .detail(detail);
        if let Some((fix, rollback)) = fix {
            f = f.fix(fix, Some(rollback));
        }
        out.push(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testdata::sample_snapshot;

    #[test]
    fn tables_without_a_primary_key_are_reported() {
        let f = run(&sample_snapshot(), &Thresholds::default());
        let objects: Vec<&str> = f.iter().map(|f| f.object.as_str()).collect();
        assert_eq!(
            objects,
            [
                "public.orders_archive",
                "\"my schema\".\"Weird \"\"Name\"\"\""
            ]
        );
        // No unique index could become the key: no automatic fix.
        assert!(f.iter().all(|f| f.fix_sql.is_none()));
    }

    #[test]
    fn a_not_null_unique_index_becomes_the_primary_key() {
        let mut s = sample_snapshot();
        let mut ix: IndexInfo = serde_json::from_value(crate::analyze::testdata::index_json(
            30,
            3,
            "public",
            "orders_archive",
            "orders_archive_id_key",
            &[(1, "id")],
        ))
        .unwrap();
        ix.is_unique = true;
        ix.not_null = vec![true].into();
        s.schema.indexes.as_mut().unwrap().push(ix);
        let f = run(&s, &Thresholds::default());
        let t = f
            .iter()
            .find(|f| f.object == "public.orders_archive")
            .unwrap();
        assert_eq!(
            t.fix_sql.as_deref(),
            Some("ALTER TABLE public.orders_archive ADD CONSTRAINT orders_archive_pkey PRIMARY KEY USING INDEX orders_archive_id_key;")
        );
    }

    #[test]
    fn tables_with_a_primary_key_are_not_reported() {
        let mut s = sample_snapshot();
        s.schema
            .tables
            .as_mut()
            .unwrap()
            .retain(|t| t.name == "users" || t.name == "meals");
        assert!(run(&s, &Thresholds::default()).is_empty());
        assert!(pk_candidates(
            s.schema.tables.as_deref().unwrap(),
            s.schema.indexes.as_deref().unwrap()
        )
        .is_empty());
    }
}
