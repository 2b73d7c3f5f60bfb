//! `table_with_no_data`: a table that is empty as of its last VACUUM or ANALYZE (no pages, no
//! rows; for a partitioned table, none in any partition). An empty table that stays empty is a
//! leftover or a feature nobody uses. Tables never vacuumed or analysed are not judged.

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
        id: CheckId::TableWithNoData,
        section: Section::Tables,
        summary: "table with no rows as of its last VACUUM/ANALYZE",
    },
    severity: Severity::Info,
    thresholds: &[],
    sql: &["health_tables.sql"],
    missing: needs_table_facts,
    run,
};

pub fn run(snap: &Snapshot, _th: &Thresholds) -> Vec<Finding> {
    tables(snap, |t| t.no_data)
        .map(|(_, name)| {
            table_finding(
                &CHECK,
                &name,
                format!(
                    "table {name} held no rows at its last VACUUM/ANALYZE: check that it is \
                     still used"
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
    fn empty_tables_are_reported() {
        let empty = table_facts_with("empty", json!({"no_data": true}));
        let s = with_table_facts(vec![empty, table_facts("clients")]);
        let f = run(&s, &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].object, "public.empty");
    }

    #[test]
    fn nothing_of_the_kind_gives_no_finding() {
        let s = crate::checks::testkit::with_table_facts(vec![]);
        assert!(run(&s, &Thresholds::default()).is_empty());
    }
}
