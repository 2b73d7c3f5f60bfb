//! `table_with_no_data`: a table that is empty as of its last VACUUM or ANALYZE (no pages, no
//! rows; for a partitioned table, none in any partition). An empty table that stays empty is a
//! leftover or a feature nobody uses. Tables never vacuumed or analysed are not judged.

use super::{needs_table_facts, table_facts, Check};
use crate::analyze::doctor::CheckInfo;
use crate::analyze::thresholds::Thresholds;
use crate::analyze::{Finding, Priority, Severity};
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
    table_facts(snap, |t| t.no_data)
        .map(|(_, name)| {
            Finding::new(
                CHECK.info.id,
                CHECK.severity,
                Priority::Low,
                name.clone(),
                format!(
                    "table {name} held no rows at its last VACUUM/ANALYZE: check that it is \
                     still used"
                ),
            )
            .table(name)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{snapshot, table_facts};
    use serde_json::json;

    #[test]
    fn empty_tables_are_reported() {
        let mut empty = table_facts("empty");
        empty["no_data"] = json!(true);
        let s = snapshot(
            vec![],
            vec![],
            json!({"table_facts": [empty, table_facts("clients")]}),
        );
        let f = run(&s, &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].object, "public.empty");
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
