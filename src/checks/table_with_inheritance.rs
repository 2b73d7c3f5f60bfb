//! `table_with_inheritance`: a table that inherits from another (`INHERITS`, not declarative
//! partitioning). Indexes, unique and foreign key constraints do not span the hierarchy, so
//! the parent's rules silently do not hold for the children's rows.

use serde_json::json;

use super::{needs_table_facts, table_facts, Check};
use crate::analyze::doctor::CheckInfo;
use crate::analyze::thresholds::Thresholds;
use crate::analyze::{Finding, Priority, Severity};
use crate::checks::CheckId;
use crate::cli::Section;
use crate::snapshot::Snapshot;

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::TableWithInheritance,
        section: Section::Tables,
        summary: "table that uses table inheritance (constraints do not span it)",
    },
    severity: Severity::Warning,
    thresholds: &[],
    sql: &["health_tables.sql"],
    missing: needs_table_facts,
    run,
};

pub fn run(snap: &Snapshot, _th: &Thresholds) -> Vec<Finding> {
    table_facts(snap, |t| t.inherits_from.is_some())
        .map(|(t, name)| {
            let parent = t.inherits_from.clone().unwrap_or_default();
            Finding::new(
                CHECK.info.id,
                CHECK.severity,
                Priority::Low,
                name.clone(),
                format!(
                    "table {name} inherits from {parent}: primary keys, unique and foreign key \
                     constraints of the parent do not cover its rows; use declarative \
                     partitioning or separate tables with a foreign key"
                ),
            )
            .table(name)
            .detail(json!({ "inherits_from": parent }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{snapshot, table_facts};
    use serde_json::json;

    #[test]
    fn children_are_reported_and_the_parent_is_not() {
        let mut child = table_facts("child_table");
        child["inherits_from"] = json!("parent_table");
        let s = snapshot(
            vec![],
            vec![],
            json!({"table_facts": [table_facts("parent_table"), child]}),
        );
        let f = run(&s, &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].object, "public.child_table");
        assert_eq!(f[0].detail["inherits_from"], "parent_table");
    }

    #[test]
    fn nothing_of_the_kind_gives_no_finding() {
        let s = crate::checks::testkit::snapshot(
            vec![],
            vec![],
            serde_json::json!({"table_facts": []}),
        );
        assert!(run(&s, &Thresholds::default()).is_empty());
    }
}
