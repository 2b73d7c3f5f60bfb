//! `table_with_inheritance`: a table that inherits from another (`INHERITS`, not declarative
//! partitioning). Indexes, unique and foreign key constraints do not span the hierarchy, so
//! the parent's rules silently do not hold for the children's rows.

use serde_json::json;

use super::facts::{needs_table_facts, table_finding, tables};
use super::Check;
use crate::analyze::doctor::CheckInfo;
use crate::analyze::thresholds::Thresholds;
use crate::analyze::{Finding, Severity};
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
    tables(snap, |t| t.inherits_from.is_some())
        .map(|(t, name)| {
            let parent = t.inherits_from.clone().unwrap_or_default();
            table_finding(
                &CHECK,
                &name,
                format!(
                    "table {name} inherits from {parent}: primary keys, unique and foreign key \
                     constraints of the parent do not cover its rows; use declarative \
                     partitioning or separate tables with a foreign key"
                ),
            )
            .detail(json!({ "inherits_from": parent }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{table_facts, table_facts_with, with_table_facts};
    use serde_json::json;

    #[test]
    fn children_are_reported_and_the_parent_is_not() {
        let child = table_facts_with("child_table", json!({"inherits_from": "parent_table"}));
        let s = with_table_facts(vec![table_facts("parent_table"), child]);
        let f = run(&s, &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].object, "public.child_table");
        assert_eq!(f[0].detail["inherits_from"], "parent_table");
    }

    #[test]
    fn nothing_of_the_kind_gives_no_finding() {
        let s = crate::checks::testkit::with_table_facts(vec![]);
        assert!(run(&s, &Thresholds::default()).is_empty());
    }
}
