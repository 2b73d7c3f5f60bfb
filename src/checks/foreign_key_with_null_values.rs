//! `foreign_key_with_null_values`: a foreign key over several columns, at least one nullable,
//! declared without MATCH FULL. Under the default MATCH SIMPLE a row with a NULL in any of
//! them is not checked at all, so `(20, NULL)` passes even when no referenced row starts
//! with 20.

use compact_str::CompactString;
use serde_json::json;

use super::duplicate_foreign_key::needs_fk_details;
use super::facts::{constraint_finding, fk_names};
use super::Check;
use crate::analyze::doctor::CheckInfo;
use crate::analyze::thresholds::Thresholds;
use crate::analyze::{Finding, Priority, Severity};
use crate::checks::CheckId;
use crate::cli::Section;
use crate::snapshot::Snapshot;
use crate::util::{qualified, quote_ident};

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::ForeignKeyWithNullValues,
        section: Section::Tables,
        summary: "multi-column foreign key with nullable columns and no MATCH FULL",
    },
    severity: Severity::Warning,
    thresholds: &[],
    sql: &["doctor_foreign_keys.sql"],
    missing: needs_fk_details,
    run,
};

pub fn run(snap: &Snapshot, _th: &Thresholds) -> Vec<Finding> {
    let fks = snap.health.foreign_keys.as_deref().unwrap_or(&[]);
    fks.iter()
        .filter(|fk| {
            fk.columns.len() > 1
                && !fk.match_full
                && fk.column_not_null.len() == fk.columns.len()
                && fk.column_not_null.iter().any(|nn| !nn)
        })
        .map(|fk| {
            let (table, name) = fk_names(fk);
            let nullable: Vec<&CompactString> = fk
                .columns
                .iter()
                .zip(&fk.column_not_null)
                .filter(|(_, nn)| !**nn)
                .map(|(c, _)| c)
                .collect();
            let list = |v: &[&CompactString]| {
                v.iter()
                    .map(|c| quote_ident(c))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let all: Vec<&CompactString> = fk.columns.iter().collect();
            let message = format!(
                "foreign key {name} on {table} ({}) allows NULL in {} and is not MATCH FULL: a \
                 row with any of them NULL is not checked against {}; declare them NOT NULL, \
                 or re-create the key with MATCH FULL",
                list(&all),
                list(&nullable),
                qualified(&fk.ref_schema, &fk.ref_table)
            );
            constraint_finding(&CHECK, Priority::Low, (&table, &name), message)
                .detail(json!({ "columns": fk.columns, "nullable_columns": nullable }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{foreign_key, snapshot};
    use serde_json::json;

    #[test]
    fn nullable_composite_keys_without_match_full_are_reported() {
        let bad = foreign_key(
            1,
            "referencing_bad_table",
            "referencing-bad-table-fk",
            "dict",
            &[("rbt_id", true), ("rbt_value", false)],
        );
        let mut full = foreign_key(
            2,
            "referencing_good_table",
            "referencing_good_table_fk",
            "dict",
            &[("rgt_id", true), ("rgt_value", false)],
        );
        full["match_full"] = json!(true);
        let single = foreign_key(
            3,
            "accounts",
            "fk_client",
            "clients",
            &[("client_id", false)],
        );
        let not_null = foreign_key(4, "t", "fk_both", "dict", &[("a", true), ("b", true)]);
        let s = snapshot(
            vec![],
            vec![],
            json!({"foreign_keys": [bad, full, single, not_null]}),
        );
        let f = run(&s, &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].object,
            "public.referencing_bad_table.\"referencing-bad-table-fk\""
        );
        assert_eq!(f[0].detail["nullable_columns"], json!(["rbt_value"]));
    }

    #[test]
    fn nothing_of_the_kind_gives_no_finding() {
        let s = crate::checks::testkit::snapshot(
            vec![],
            vec![],
            serde_json::json!({"foreign_keys": []}),
        );
        assert!(run(&s, &Thresholds::default()).is_empty());
    }
}
