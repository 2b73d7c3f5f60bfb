//! `table_with_incrementing_columns`: a table with columns named alike but for a trailing
//! number (`phone1`, `phone2`). A repeating group flattened into columns: a third phone needs a
//! schema change, and queries must look in every column; a child table holds any number.

use serde_json::json;

use super::facts::{needs_table_facts, table_finding, tables};
use super::Check;
use crate::analyze::doctor::CheckInfo;
use crate::analyze::thresholds::Thresholds;
use crate::analyze::{Finding, Severity};
use crate::checks::CheckId;
use crate::cli::Section;
use crate::snapshot::Snapshot;
use crate::util::quote_ident;

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::TableWithIncrementingColumns,
        section: Section::Tables,
        summary: "table with numbered columns (phone1, phone2): a repeating group",
    },
    severity: Severity::Info,
    thresholds: &[],
    sql: &["health_tables.sql"],
    missing: needs_table_facts,
    run,
};

pub fn run(snap: &Snapshot, _th: &Thresholds) -> Vec<Finding> {
    tables(snap, |t| !t.incrementing_columns.is_empty())
        .map(|(t, name)| {
            let cols: Vec<String> = t
                .incrementing_columns
                .iter()
                .map(|c| quote_ident(c))
                .collect();
            table_finding(
                &CHECK,
                &name,
                format!(
                    "table {name} has numbered columns ({}): one more value needs a schema \
                     change and lookups must test each column; a child table with a foreign \
                     key holds any number of them",
                    cols.join(", ")
                ),
            )
            .detail(json!({ "columns": t.incrementing_columns }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{table_facts, table_facts_with, with_table_facts};
    use serde_json::json;

    #[test]
    fn numbered_columns_are_reported() {
        let orders = table_facts_with(
            "orders",
            json!({"incrementing_columns": ["phone1", "phone2", "address1", "address2"]}),
        );
        let s = with_table_facts(vec![orders, table_facts("clients")]);
        let f = run(&s, &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("phone1, phone2, address1, address2"));
    }

    #[test]
    fn nothing_of_the_kind_gives_no_finding() {
        let s = crate::checks::testkit::with_table_facts(vec![]);
        assert!(run(&s, &Thresholds::default()).is_empty());
    }
}
