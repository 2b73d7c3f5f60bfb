//! `self_referenced_foreign_key`: a foreign key from a table to itself (a tree: categories,
//! comments, org charts) with no ON DELETE rule or ON DELETE RESTRICT. Deleting a node that
//! still has children fails, so the application must walk and delete the subtree itself, in
//! the right order, and deadlocks under concurrency become likely.

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

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::SelfReferencedForeignKey,
        section: Section::Tables,
        summary: "foreign key of a table to itself without ON DELETE CASCADE or SET NULL",
    },
    severity: Severity::Info,
    thresholds: &[],
    sql: &["doctor_foreign_keys.sql"],
    missing: needs_fk_details,
    run,
};

pub fn run(snap: &Snapshot, _th: &Thresholds) -> Vec<Finding> {
    let fks = snap.health.foreign_keys.as_deref().unwrap_or(&[]);
    fks.iter()
        .filter(|fk| fk.table_oid == fk.ref_table_oid && matches!(fk.on_delete.as_str(), "a" | "r"))
        .map(|fk| {
            let (table, name) = fk_names(fk);
            let rule = if fk.on_delete == "r" {
                "ON DELETE RESTRICT"
            } else {
                "no ON DELETE rule"
            };
            let message = format!(
                "foreign key {name} makes {table} a tree ({} -> {}) with {rule}: deleting a row \
                 with children fails until the application removes the subtree itself; ON \
                 DELETE CASCADE removes it, ON DELETE SET NULL makes the children roots",
                fk.columns.join(", "),
                fk.ref_columns.join(", ")
            );
            constraint_finding(&CHECK, Priority::Low, (&table, &name), message)
                .detail(json!({ "columns": fk.columns, "on_delete": rule }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{foreign_key, snapshot};
    use serde_json::json;

    #[test]
    fn self_references_without_a_delete_rule_are_reported() {
        let fk = |oid, table: &str, on_delete: &str| {
            let mut f = foreign_key(
                oid,
                table,
                &format!("{table}_parent_id_fk"),
                table,
                &[("parent_id", false)],
            );
            f["on_delete"] = json!(on_delete);
            f
        };
        let s = snapshot(
            vec![],
            vec![],
            json!({"foreign_keys": [
                fk(1, "bad_self_ref_table", "a"),
                fk(2, "bad_self_ref_restrict_table", "r"),
                fk(3, "good_self_ref_table", "c"),
                fk(4, "good_set_null_table", "n"),
                foreign_key(5, "accounts", "fk_client", "clients", &[("client_id", true)]),
            ]}),
        );
        let f = run(&s, &Thresholds::default());
        let objects: Vec<&str> = f.iter().map(|x| x.object.as_str()).collect();
        assert_eq!(
            objects,
            [
                "public.bad_self_ref_table.bad_self_ref_table_parent_id_fk",
                "public.bad_self_ref_restrict_table.bad_self_ref_restrict_table_parent_id_fk"
            ]
        );
        assert_eq!(f[1].detail["on_delete"], "ON DELETE RESTRICT");
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
