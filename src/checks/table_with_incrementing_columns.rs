//! `table_with_incrementing_columns`: a table with columns named alike but for a trailing
//! number (`phone1`, `phone2`). A repeating group flattened into columns: a third phone needs a
//! schema change, and queries must look in every column; a child table holds any number.

use serde_json::json;

use super::{needs_table_facts, table_facts, Check};
use crate::analyze::doctor::CheckInfo;
use crate::analyze::thresholds::Thresholds;
use crate::analyze::{Finding, Priority, Severity};
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
    table_facts(snap, |t| !t.incrementing_columns.is_empty())
        .map(|(t, name)| {
            let cols: Vec<String> = t
                .incrementing_columns
                .iter()
                .map(|c| quote_ident(c))
                .collect();
            Finding::new(
                CHECK.info.id,
                CHECK.severity,
                Priority::Low,
                name.clone(),
                format!(
                    "table {name} has numbered columns ({}): one more value needs a schema \
                     change and lookups must test each column; a child table with a foreign \
                     key holds any number of them",
                    cols.join(", ")
                ),
            )
            .table(name)
            .detail(json!({ "columns": t.incrementing_columns }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{snapshot, table_facts};
    use serde_json::json;

    #[test]
    fn numbered_columns_are_reported() {
        let mut orders = table_facts("orders");
        orders["incrementing_columns"] = json!(["phone1", "phone2", "address1", "address2"]);
        let s = snapshot(
            vec![],
            vec![],
            json!({"table_facts": [orders, table_facts("clients")]}),
        );
        let f = run(&s, &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("phone1, phone2, address1, address2"));
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
