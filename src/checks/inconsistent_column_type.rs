//! `inconsistent_column_type`: columns of the same name in one schema with different types
//! (`id` bigint here, integer there). Joins on them need casts, and code that treats them
//! alike breaks on the narrower one.

use std::collections::BTreeMap;

use serde_json::json;

use super::facts::{columns, needs_flagged_columns, Column};
use super::Check;
use crate::analyze::doctor::CheckInfo;
use crate::analyze::thresholds::Thresholds;
use crate::analyze::{Finding, Severity};
use crate::checks::CheckId;
use crate::cli::Section;
use crate::snapshot::Snapshot;
use crate::util::quote_ident;

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::InconsistentColumnType,
        section: Section::Tables,
        summary: "columns of one name with different types in one schema",
    },
    severity: Severity::Info,
    thresholds: &[],
    sql: &["health_columns.sql"],
    missing: needs_flagged_columns,
    run,
};

pub fn run(snap: &Snapshot, _th: &Thresholds) -> Vec<Finding> {
    // (schema, column) -> every (type, table) of that name.
    let mut by_name: BTreeMap<(&str, &str), Vec<(String, String)>> = BTreeMap::new();
    for Column { c, table, .. } in columns(snap, |c| c.inconsistent) {
        by_name
            .entry((c.schema.as_str(), c.column.as_str()))
            .or_default()
            .push((base_type(&c.data_type), table));
    }
    columns(snap, |c| c.inconsistent)
        .filter_map(|column| {
            let Column { c, table, col } = &column;
            let all = by_name.get(&(c.schema.as_str(), c.column.as_str()))?;
            let mine = base_type(&c.data_type);
            let mut others: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
            for (t, table) in all.iter().filter(|(t, _)| *t != mine) {
                others.entry(t.as_str()).or_default().push(table.as_str());
            }
            if others.is_empty() {
                return None;
            }
            let elsewhere: Vec<String> = others
                .iter()
                .map(|(t, tables)| format!("{t} in {}", tables.join(", ")))
                .collect();
            let mut f = column.finding(
                &CHECK,
                format!(
                    "column {table}.{col} is {mine}, while columns of that name in schema {} are \
                     {}: joins on them need casts",
                    quote_ident(&c.schema),
                    elsewhere.join("; ")
                ),
            );
            f.detail["other_types"] = json!(others);
            Some(f)
        })
        .collect()
}

/// The type without its modifier: varchar(10) and varchar(20) are one type, as in the catalog.
fn base_type(t: &str) -> String {
    match (t.find('('), t.find(')')) {
        (Some(a), Some(b)) if a < b => format!("{}{}", t[..a].trim_end(), &t[b + 1..]),
        _ => t.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{column, with_flagged_columns};
    use serde_json::json;

    fn mixed(table: &str, col: &str, ty: &str) -> serde_json::Value {
        let mut c = column(table, col, ty, "x");
        c["inconsistent"] = json!(true);
        c
    }

    #[test]
    fn every_column_of_a_name_with_two_types_is_reported() {
        let s = with_flagged_columns(vec![
            mixed("clients", "id", "bigint"),
            mixed("t-int-id", "id", "integer"),
            mixed("t_uuid_id", "id", "uuid"),
            column("notes", "id", "bigint", "int8"),
        ]);
        let f = run(&s, &Thresholds::default());
        assert_eq!(f.len(), 3);
        assert_eq!(f[1].object, "public.\"t-int-id\".id");
        assert_eq!(
            f[1].detail["other_types"],
            json!({"bigint": ["public.clients"], "uuid": ["public.t_uuid_id"]})
        );
    }

    #[test]
    fn modifiers_alone_are_not_a_difference() {
        let s = with_flagged_columns(vec![
            mixed("a", "code", "character varying(10)"),
            mixed("b", "code", "character varying(20)"),
        ]);
        assert!(run(&s, &Thresholds::default()).is_empty());
    }

    #[test]
    fn nothing_of_the_kind_gives_no_finding() {
        let s = crate::checks::testkit::with_flagged_columns(vec![]);
        assert!(run(&s, &Thresholds::default()).is_empty());
    }
}
