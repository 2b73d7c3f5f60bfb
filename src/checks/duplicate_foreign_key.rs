//! `duplicate_foreign_key`: two foreign keys of one table with the same columns referencing the
//! same columns of the same table. Every write checks both; one is enough.

use compact_str::CompactString;
use std::collections::BTreeMap;

use serde_json::json;

use super::facts::{constraint_finding, fk_names};
use super::Check;
use crate::analyze::doctor::CheckInfo;
use crate::analyze::thresholds::Thresholds;
use crate::analyze::{Finding, Priority, Severity};
use crate::checks::CheckId;
use crate::cli::Section;
use crate::collect::health::FkDetail;
use crate::snapshot::Snapshot;
use crate::util::{qualified, quote_ident};

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::DuplicateForeignKey,
        section: Section::Tables,
        summary: "foreign key identical to another of the same table",
    },
    severity: Severity::Warning,
    thresholds: &[],
    sql: &["doctor_foreign_keys.sql"],
    missing: needs_fk_details,
    run,
};

pub(crate) fn needs_fk_details(s: &Snapshot) -> Option<&'static str> {
    s.health
        .foreign_keys
        .is_none()
        .then_some("foreign_key_details")
}

pub fn run(snap: &Snapshot, _th: &Thresholds) -> Vec<Finding> {
    type Key<'a> = (i64, &'a [CompactString], i64, &'a [CompactString]);
    let mut groups: BTreeMap<Key, Vec<&FkDetail>> = BTreeMap::new();
    for fk in snap.health.foreign_keys.as_deref().unwrap_or(&[]) {
        groups
            .entry((fk.table_oid, &fk.columns, fk.ref_table_oid, &fk.ref_columns))
            .or_default()
            .push(fk);
    }
    let mut out = Vec::new();
    for (_, mut fks) in groups {
        if fks.len() < 2 {
            continue;
        }
        // Keep a validated one, then the first by name; the others are the duplicates.
        fks.sort_by(|a, b| b.validated.cmp(&a.validated).then(a.name.cmp(&b.name)));
        let keep = fks[0];
        for dup in &fks[1..] {
            let (table, cname) = fk_names(dup);
            out.push(
                constraint_finding(
                    &CHECK,
                    Priority::Low,
                    (&table, &cname),
                    format!(
                        "foreign key {cname} on {table} ({}) duplicates {} (both reference {}): \
                         every insert and update checks both",
                        dup.columns.join(", "),
                        quote_ident(&keep.name),
                        qualified(&dup.ref_schema, &dup.ref_table)
                    ),
                )
                .detail(json!({
                    "constraint": dup.name,
                    "duplicate_of": keep.name,
                    "columns": dup.columns,
                    "ref_table": qualified(&dup.ref_schema, &dup.ref_table),
                    "ref_columns": dup.ref_columns,
                    "definition": dup.definition,
                }))
                .fix(
                    format!("ALTER TABLE {table} DROP CONSTRAINT {cname};"),
                    Some(format!(
                        "ALTER TABLE {table} ADD CONSTRAINT {cname} {};",
                        dup.definition
                    )),
                ),
            );
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::{json, Value};

    pub fn fk(name: &str, cols: &[&str], ref_cols: &[&str], types: (&[&str], &[&str])) -> Value {
        json!({
            "oid": 0, "table_oid": 1, "schema": "public", "table": "accounts", "name": name,
            "ref_table_oid": 2, "ref_schema": "public", "ref_table": "clients",
            "columns": cols, "column_types": types.0, "ref_columns": ref_cols,
            "ref_column_types": types.1, "validated": true,
            "definition": format!("FOREIGN KEY ({}) REFERENCES clients({})", cols.join(", "), ref_cols.join(", "))
        })
    }

    pub fn snap(fks: Vec<Value>) -> Snapshot {
        crate::checks::testkit::snapshot(vec![], vec![], json!({"foreign_keys": fks}))
    }

    #[test]
    fn identical_keys_only() {
        let b = (&["bigint"][..], &["bigint"][..]);
        let s = snap(vec![
            fk("c_accounts_fk_client_id", &["client_id"], &["id"], b),
            fk(
                "c_accounts_fk_client_id_duplicate",
                &["client_id"],
                &["id"],
                b,
            ),
            fk("c_accounts_fk_other", &["other_id"], &["id"], b),
        ]);
        let f = run(&s, &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].detail["constraint"],
            "c_accounts_fk_client_id_duplicate"
        );
        assert_eq!(f[0].detail["duplicate_of"], "c_accounts_fk_client_id");
        assert_eq!(
            f[0].fix_sql.as_deref(),
            Some("ALTER TABLE public.accounts DROP CONSTRAINT c_accounts_fk_client_id_duplicate;")
        );
    }

    #[test]
    fn distinct_keys_are_not_reported() {
        let b = (&["bigint"][..], &["bigint"][..]);
        let s = snap(vec![
            fk("c_accounts_fk_client_id", &["client_id"], &["id"], b),
            fk("c_accounts_fk_other", &["other_id"], &["id"], b),
        ]);
        assert!(run(&s, &Thresholds::default()).is_empty());
    }
}
