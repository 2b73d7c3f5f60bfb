//! `table_not_linked_to_others`: a table no foreign key points at and that has none itself.
//! Often a service table, a leftover nobody dropped, or a relation the schema forgot to state.

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
        id: CheckId::TableNotLinkedToOthers,
        section: Section::Tables,
        summary: "table with no foreign key in or out",
    },
    severity: Severity::Info,
    thresholds: &[],
    sql: &["health_tables.sql"],
    missing: needs_table_facts,
    run,
};

pub fn run(snap: &Snapshot, _th: &Thresholds) -> Vec<Finding> {
    tables(snap, |t| t.not_linked)
        .map(|(_, name)| {
            table_finding(
                &CHECK,
                &name,
                format!(
                    "table {name} has no foreign key and none references it: check that it is \
                     still used, or state the relation it has with a foreign key"
                ),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{table_facts, table_facts_with, with_table_facts};
    use serde_json::json;

    #[test]
    fn unlinked_tables_are_reported() {
        let alone = table_facts_with("t_uuid", json!({"not_linked": true}));
        let s = with_table_facts(vec![alone, table_facts("accounts")]);
        let f = run(&s, &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].object, "public.t_uuid");
    }

    #[test]
    fn nothing_of_the_kind_gives_no_finding() {
        let s = crate::checks::testkit::with_table_facts(vec![]);
        assert!(run(&s, &Thresholds::default()).is_empty());
    }
}
