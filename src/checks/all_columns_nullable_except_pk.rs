//! `all_columns_nullable_except_pk`: a table whose every column outside the primary key (every
//! column when it has none) allows NULL. Such a row may say nothing at all; usually some
//! columns are required and lack their NOT NULL.

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
        id: CheckId::AllColumnsNullableExceptPk,
        section: Section::Tables,
        summary: "table whose columns outside the primary key all allow NULL",
    },
    severity: Severity::Info,
    thresholds: &[],
    sql: &["health_tables.sql"],
    missing: needs_table_facts,
    run,
};

pub fn run(snap: &Snapshot, _th: &Thresholds) -> Vec<Finding> {
    tables(snap, |t| t.all_non_pk_nullable && t.non_pk_count > 0)
        .map(|(t, name)| {
            let scope = if t.pk_columns.is_empty() {
                "all its columns allow NULL (it has no primary key)".to_string()
            } else {
                format!(
                    "all {} columns outside its primary key allow NULL",
                    t.non_pk_count
                )
            };
            table_finding(
                &CHECK,
                &name,
                format!(
                    "table {name}: {scope}, so a row may hold no data at all; declare NOT \
                     NULL on the columns every row must have"
                ),
            )
            .detail(json!({
                "nullable_columns": t.non_pk_count,
                "primary_key": t.pk_columns,
            }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{table_facts, table_facts_with, with_table_facts};
    use serde_json::json;

    #[test]
    fn all_nullable_tables_are_reported_with_or_without_a_key() {
        let bad = table_facts_with(
            "bad_design",
            json!({"all_non_pk_nullable": true, "non_pk_count": 1, "pk_columns": ["product_type", "product_subtype"]}),
        );
        let no_pk = table_facts_with(
            "no-pk",
            json!({"all_non_pk_nullable": true, "pk_columns": []}),
        );
        // Only a key: nothing outside it to be nullable.
        let only_pk = table_facts_with(
            "only_pk",
            json!({"all_non_pk_nullable": false, "non_pk_count": 0}),
        );
        let s = with_table_facts(vec![bad, no_pk, only_pk, table_facts("good-design")]);
        let f = run(&s, &Thresholds::default());
        let objects: Vec<&str> = f.iter().map(|x| x.object.as_str()).collect();
        assert_eq!(objects, ["public.bad_design", "public.\"no-pk\""]);
        assert!(f[1].message.contains("no primary key"));
    }

    #[test]
    fn nothing_of_the_kind_gives_no_finding() {
        let s = crate::checks::testkit::with_table_facts(vec![]);
        assert!(run(&s, &Thresholds::default()).is_empty());
    }
}
