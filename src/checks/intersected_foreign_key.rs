//! `intersected_foreign_key`: two foreign keys of one table to the same table that share
//! columns without being identical (for example `(email, phone)` and `(phone, email)`): usually
//! one key written twice in different ways; both are checked on every write.

use std::collections::BTreeMap;

use serde_json::json;

use super::duplicate_foreign_key::needs_fk_details;
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
        id: CheckId::IntersectedForeignKey,
        section: Section::Tables,
        summary: "foreign key sharing columns with another to the same table",
    },
    severity: Severity::Info,
    thresholds: &[],
    sql: &["doctor_foreign_keys.sql"],
    missing: needs_fk_details,
    run,
};

pub fn run(snap: &Snapshot, _th: &Thresholds) -> Vec<Finding> {
    // Only keys between the same two tables can intersect: pair within those groups (a table
    // has few), never across all keys of a large catalog.
    let mut groups: BTreeMap<(i64, i64), Vec<&FkDetail>> = BTreeMap::new();
    for fk in snap.health.foreign_keys.as_deref().unwrap_or(&[]) {
        groups
            .entry((fk.table_oid, fk.ref_table_oid))
            .or_default()
            .push(fk);
    }
    let mut out = Vec::new();
    for fks in groups.values().filter(|g| g.len() > 1) {
        pairs(fks, &mut out);
    }
    out
}

fn pairs(fks: &[&FkDetail], out: &mut Vec<Finding>) {
    for (i, a) in fks.iter().enumerate() {
        for b in &fks[i + 1..] {
            if a.columns == b.columns && a.ref_columns == b.ref_columns {
                continue;
            }
            let shared: Vec<&str> = a
                .columns
                .iter()
                .filter(|c| b.columns.contains(c))
                .map(|c| c.as_str())
                .collect();
            if shared.is_empty() {
                continue;
            }
            let (table, name) = fk_names(a);
            out.push(
                constraint_finding(
                    &CHECK,
                    Priority::Low,
                    (&table, &name),
                    format!(
                        "foreign keys {name} ({}) and {} ({}) on {table} both reference {} and share \
                         {}: if they express one rule, keep one",
                        a.columns.join(", "),
                        quote_ident(&b.name),
                        b.columns.join(", "),
                        qualified(&a.ref_schema, &a.ref_table),
                        shared.join(", ")
                    ),
                )
                .detail(json!({
                    "constraint": a.name,
                    "other": b.name,
                    "columns": a.columns,
                    "other_columns": b.columns,
                    "shared_columns": shared,
                })),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::duplicate_foreign_key::tests::{fk, snap};

    #[test]
    fn shared_columns_but_not_identical() {
        let t = (&["text", "text"][..], &["text", "text"][..]);
        let one = (&["bigint"][..], &["bigint"][..]);
        let s = snap(vec![
            fk(
                "fk_email_phone",
                &["email", "phone"],
                &["email", "phone"],
                t,
            ),
            fk(
                "fk_phone_email",
                &["phone", "email"],
                &["phone", "email"],
                t,
            ),
            fk("fk_client", &["client_id"], &["id"], one),
            fk("fk_client_copy", &["client_id"], &["id"], one),
        ]);
        let f = run(&s, &Thresholds::default());
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].detail["constraint"], "fk_email_phone");
        assert_eq!(f[0].detail["other"], "fk_phone_email");
        assert!(f[0].fix_sql.is_none());
    }

    #[test]
    fn keys_sharing_no_column_are_not_reported() {
        let one = (&["bigint"][..], &["bigint"][..]);
        let s = snap(vec![
            fk("fk_client", &["client_id"], &["id"], one),
            fk("fk_other", &["other_id"], &["id"], one),
        ]);
        assert!(run(&s, &Thresholds::default()).is_empty());
    }
}
