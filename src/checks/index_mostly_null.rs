//! `index_mostly_null`: a single-column btree index whose column is mostly NULL (pg_stats
//! null_frac). Lookups by value never need the NULL entries; a partial index `WHERE col IS NOT
//! NULL` serves them at a fraction of the size and write cost.

use std::collections::HashMap;

use serde_json::json;

use super::index_groups::index_finding;
use super::{create_concurrently, derived_name, drop_index, droppable, renamed_definition, Check};
use crate::analyze::doctor::CheckInfo;
use crate::analyze::thresholds::Thresholds;
use crate::analyze::{Finding, Priority, Severity};
use crate::checks::CheckId;
use crate::cli::Section;
use crate::snapshot::Snapshot;
use crate::util::{human_bytes, qualified, quote_ident};

/// A column at least this NULL (share of rows, %) makes the index a partial-index candidate.
pub const NULL_FRAC_MIN_PCT: f64 = 50.0;
/// Indexes at least this large are a warning; smaller ones are informational.
pub const WARNING_MIN_BYTES: i64 = 1024 * 1024;

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::IndexMostlyNull,
        section: Section::Indexes,
        summary: "index on a mostly NULL column (a partial IS NOT NULL index serves it)",
    },
    severity: Severity::Warning,
    thresholds: &[
        ("null_frac_min_pct", NULL_FRAC_MIN_PCT),
        ("warning_min_bytes", WARNING_MIN_BYTES as f64),
    ],
    sql: &[
        "doctor_indexes.sql",
        "doctor_column_stats.sql",
        "doctor_column_stats_superuser.sql",
    ],
    missing,
    run,
};

fn missing(s: &Snapshot) -> Option<&'static str> {
    if let Some(part) = super::predates_health(s) {
        // It came with the health collector: older snapshots do not run it.
        Some(part)
    } else if s.schema.indexes.is_none() {
        Some("indexes")
    } else if s.schema.column_stats.is_none() {
        Some("column_stats")
    } else {
        None
    }
}

pub fn run(snap: &Snapshot, _th: &Thresholds) -> Vec<Finding> {
    let stats: HashMap<(&str, &str, &str), f64> = snap
        .schema
        .column_stats
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .map(|c| {
            (
                (c.schema.as_str(), c.table.as_str(), c.column.as_str()),
                c.null_frac,
            )
        })
        .collect();
    let mut out = Vec::new();
    for ix in snap.schema.indexes.as_deref().unwrap_or(&[]) {
        if ix.method != "btree"
            || ix.is_unique
            || !droppable(ix)
            || ix.predicate.is_some()
            || ix.expressions.is_some()
            || ix.key_count != 1
            || ix.attnums.len() != 1
        {
            continue;
        }
        let Some(Some(col)) = ix.columns.first() else {
            continue;
        };
        let Some(&frac) = stats.get(&(ix.schema.as_str(), ix.table.as_str(), col.as_str())) else {
            continue;
        };
        let null_pct = frac * 100.0;
        if null_pct < NULL_FRAC_MIN_PCT {
            continue;
        }
        let table = qualified(&ix.schema, &ix.table);
        let name = qualified(&ix.schema, &ix.name);
        let partial = derived_name(&ix.name, "_not_null");
        let qcol = quote_ident(col);
        // The same definition (operator class, collation, INCLUDE, storage options kept) under
        // a new name, limited to the rows with a value.
        let Some(def) = renamed_definition(ix, &partial) else {
            continue;
        };
        let mut partial_ix = ix.clone();
        partial_ix.definition = format!("{def} WHERE {qcol} IS NOT NULL");
        let fix = format!("{}\n{}", create_concurrently(&partial_ix), drop_index(ix));
        partial_ix.name = partial.clone().into();
        let rollback = format!("{}\n{}", create_concurrently(ix), drop_index(&partial_ix));
        let big = ix.bytes >= WARNING_MIN_BYTES;
        out.push(
            index_finding(
                CHECK.info.id,
                if big {
                    Severity::Warning
                } else {
                    Severity::Info
                },
                if big { Priority::Medium } else { Priority::Low },
                ix,
                format!(
                    "index {name} ({}) indexes {table}.{qcol}, which is {null_pct:.0}% NULL: a \
                     partial index WHERE {qcol} IS NOT NULL serves every lookup by value at \
                     about {:.0}% of the size (queries for {qcol} IS NULL would no longer use it)",
                    human_bytes(ix.bytes),
                    100.0 - null_pct
                ),
            )
            .detail(json!({
                "column": col,
                "null_frac_pct": (null_pct * 100.0).round() / 100.0,
                "index_bytes": ix.bytes,
                "partial_index": partial,
                "definition": ix.definition,
            }))
            .fix(fix, Some(rollback)),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{index, snapshot, table};
    use serde_json::json;

    #[test]
    fn mostly_null_single_column_indexes_only() {
        let mut partial = index(13, 1, "clients", "email_partial", &[(4, "email")]);
        partial["predicate"] = json!("(email IS NOT NULL)");
        let mut uniq = index(14, 1, "clients", "nick_key", &[(5, "nick")]);
        uniq["is_unique"] = json!(true);
        let mut s = snapshot(
            vec![table(1, "clients")],
            vec![
                index(
                    11,
                    1,
                    "clients",
                    "i_clients_middle_name",
                    &[(3, "middle_name")],
                ),
                index(12, 1, "clients", "i_clients_last_name", &[(2, "last_name")]),
                partial,
                uniq,
            ],
            json!({}),
        );
        let cs = |c: &str, f: f64| {
            serde_json::from_value(json!({"schema": "public", "table": "clients", "column": c,
                "null_frac": f, "avg_width": 10}))
            .unwrap()
        };
        s.schema.column_stats = Some(vec![
            cs("middle_name", 1.0),
            cs("last_name", 0.1),
            cs("email", 0.9),
            cs("nick", 0.9),
        ]);
        let f = run(&s, &Thresholds::default());
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].object, "public.i_clients_middle_name");
        assert_eq!(
            f[0].fix_sql.as_deref(),
            Some(
                "CREATE INDEX CONCURRENTLY i_clients_middle_name_not_null ON public.clients \
                 USING btree (middle_name) WHERE middle_name IS NOT NULL;\n\
                 DROP INDEX CONCURRENTLY IF EXISTS public.i_clients_middle_name;"
            )
        );
        assert!(f[0]
            .rollback_sql
            .as_deref()
            .unwrap()
            .starts_with("CREATE INDEX CONCURRENTLY i_clients_middle_name ON"));
        assert_eq!(f[0].severity, Severity::Info);
    }

    #[test]
    fn indexes_on_mostly_filled_columns_are_not_reported() {
        let mut s = snapshot(
            vec![table(1, "clients")],
            vec![index(
                12,
                1,
                "clients",
                "i_clients_last_name",
                &[(2, "last_name")],
            )],
            json!({}),
        );
        s.schema.column_stats = Some(vec![serde_json::from_value(json!({
            "schema": "public", "table": "clients", "column": "last_name",
            "null_frac": 0.1, "avg_width": 10
        }))
        .unwrap()]);
        assert!(run(&s, &Thresholds::default()).is_empty());
    }
}
