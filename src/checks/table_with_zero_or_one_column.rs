//! `table_with_zero_or_one_column`: a table with no column or a single one. It holds a set of
//! values at best; usually it is a leftover or a design that lost its other half (a one-column
//! table can be a deliberate lookup list or a global key, then this is noise to ignore).

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
        id: CheckId::TableWithZeroOrOneColumn,
        section: Section::Tables,
        summary: "table with zero or one column",
    },
    severity: Severity::Info,
    thresholds: &[],
    sql: &["health_tables.sql"],
    missing: needs_table_facts,
    run,
};

pub fn run(snap: &Snapshot, _th: &Thresholds) -> Vec<Finding> {
    tables(snap, |t| t.column_count <= 1)
        .map(|(t, name)| {
            table_finding(
                &CHECK,
                &name,
                format!(
                    "table {name} has {} column{}: it records little more than a set of \
                     values; check that it is still needed or lost its other columns",
                    t.column_count,
                    if t.column_count == 1 { "" } else { "s" }
                ),
            )
            .detail(json!({ "column_count": t.column_count, "columns": t.first_column }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{table_facts, table_facts_with, with_table_facts};
    use serde_json::json;

    #[test]
    fn empty_and_single_column_tables_are_reported_and_wider_ones_are_not() {
        let empty = table_facts_with("empty", json!({"column_count": 0, "first_column": null}));
        let one = table_facts_with("only_pk", json!({"column_count": 1}));
        let s = with_table_facts(vec![empty, one, table_facts("clients")]);
        let f = run(&s, &Thresholds::default());
        let objects: Vec<&str> = f.iter().map(|x| x.object.as_str()).collect();
        assert_eq!(objects, ["public.empty", "public.only_pk"]);
        assert!(f[0].message.contains("0 columns"));
    }

    #[test]
    fn nothing_of_the_kind_gives_no_finding() {
        let s = crate::checks::testkit::with_table_facts(vec![]);
        assert!(run(&s, &Thresholds::default()).is_empty());
    }
}
