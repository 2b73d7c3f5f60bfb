//! `not_valid_constraint`: a CHECK or FOREIGN KEY constraint added NOT VALID and never
//! validated. New rows are checked, old ones never were, and the planner cannot rely on it.
//! `VALIDATE CONSTRAINT` takes only a SHARE UPDATE EXCLUSIVE lock (reads and writes go on).

use serde_json::json;

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
        id: CheckId::NotValidConstraint,
        section: Section::Tables,
        summary: "constraint added NOT VALID and never validated",
    },
    severity: Severity::Warning,
    thresholds: &[],
    sql: &["health_not_valid_constraints.sql"],
    missing: |s| {
        s.health
            .not_valid_constraints
            .is_none()
            .then_some("not_valid_constraints")
    },
    run,
};

pub fn run(snap: &Snapshot, _th: &Thresholds) -> Vec<Finding> {
    let mut out = Vec::new();
    for c in snap.health.not_valid_constraints.as_deref().unwrap_or(&[]) {
        let table = qualified(&c.schema, &c.table);
        let name = quote_ident(&c.name);
        let kind = if c.kind == "f" {
            "foreign key"
        } else {
            "check"
        };
        out.push(
            Finding::new(
                CHECK.info.id,
                CHECK.severity,
                Priority::Medium,
                format!("{table}.{name}"),
                format!(
                    "{kind} constraint {name} on {table} was added NOT VALID and never \
                     validated: rows written before it are unchecked; VALIDATE CONSTRAINT checks \
                     them without blocking reads or writes"
                ),
            )
            .table(table.clone())
            .detail(json!({
                "constraint": c.name,
                "kind": kind,
                "definition": c.definition,
            }))
            // Validation cannot be undone and needs no undoing: no rollback.
            .fix(
                format!("ALTER TABLE {table} VALIDATE CONSTRAINT {name};"),
                None,
            ),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_unvalidated_constraint() {
        let s = crate::checks::testkit::snapshot(
            vec![],
            vec![],
            json!({"not_valid_constraints": [
                {"schema": "public", "table": "accounts", "name": "c_accounts_chk_client_id_not_validated_yet",
                 "kind": "c", "definition": "CHECK ((client_id > 0)) NOT VALID"},
                {"schema": "public", "table": "accounts", "name": "c_accounts_fk_client_id_not_validated_yet",
                 "kind": "f", "definition": "FOREIGN KEY (client_id) REFERENCES clients(id) NOT VALID"}
            ]}),
        );
        let f = run(&s, &Thresholds::default());
        assert_eq!(f.len(), 2);
        assert_eq!(
            f[0].fix_sql.as_deref(),
            Some("ALTER TABLE public.accounts VALIDATE CONSTRAINT c_accounts_chk_client_id_not_validated_yet;")
        );
        assert_eq!(f[1].detail["kind"], "foreign key");
        // No data: the check says it did not run rather than finding nothing.
        let mut empty = s.clone();
        empty.health.not_valid_constraints = None;
        assert_eq!((CHECK.missing)(&empty), Some("not_valid_constraints"));
    }

    #[test]
    fn validated_constraints_are_not_reported() {
        let s =
            crate::checks::testkit::snapshot(vec![], vec![], json!({"not_valid_constraints": []}));
        assert!(run(&s, &Thresholds::default()).is_empty());
        assert_eq!((CHECK.missing)(&s), None);
    }
}
