//! `primary_key_columns_not_first`: a table whose primary key does not start at its first
//! column. It works, but readers, tools and `SELECT *` output expect the key first.

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
        id: CheckId::PrimaryKeyColumnsNotFirst,
        section: Section::Tables,
        summary: "table whose first column is not part of its primary key",
    },
    severity: Severity::Info,
    thresholds: &[],
    sql: &["health_tables.sql"],
    missing: needs_table_facts,
    run,
};

pub fn run(snap: &Snapshot, _th: &Thresholds) -> Vec<Finding> {
    tables(snap, |t| t.pk_not_first)
        .map(|(t, name)| {
            let key: Vec<String> = t.pk_columns.iter().map(|c| quote_ident(c)).collect();
            table_finding(
                &CHECK,
                &name,
                format!(
                    "table {name} starts with {} while its primary key is ({}): put the key \
                     first when the table is next rebuilt",
                    quote_ident(t.first_column.as_deref().unwrap_or_default()),
                    key.join(", ")
                ),
            )
            .detail(json!({ "first_column": t.first_column, "primary_key": t.pk_columns }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{table_facts, table_facts_with, with_table_facts};
    use serde_json::json;

    #[test]
    fn a_key_after_the_first_column_is_reported() {
        let late = table_facts_with(
            "good-design",
            json!({"pk_not_first": true, "first_column": "description"}),
        );
        let s = with_table_facts(vec![late, table_facts("clients")]);
        let f = run(&s, &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].object, "public.\"good-design\"");
        assert!(f[0].message.contains("starts with description"));
    }

    #[test]
    fn nothing_of_the_kind_gives_no_finding() {
        let s = crate::checks::testkit::with_table_facts(vec![]);
        assert!(run(&s, &Thresholds::default()).is_empty());
    }
}
