//! `all_columns_nullable_except_pk`: a table whose every column outside the primary key (every
//! column when it has none) allows NULL. Such a row may say nothing at all; usually some
//! columns are required and lack their NOT NULL.

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
    table_facts(snap, |t| t.all_non_pk_nullable && t.non_pk_count > 0)
        .map(|(t, name)| {
            let scope = if t.pk_columns.is_empty() {
                "all its columns allow NULL (it has no primary key)".to_string()
            } else {
                format!(
                    "all {} columns outside its primary key allow NULL",
                    t.non_pk_count
                )
            };
            Finding::new(
                CHECK.info.id,
                CHECK.severity,
                Priority::Low,
                name.clone(),
                format!(
                    "table {name}: {scope}, so a row may hold no data at all; declare NOT \
                     NULL on the columns every row must have"
                ),
            )
            .table(name)
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
    use crate::checks::testkit::{snapshot, table_facts};
    use serde_json::json;

    #[test]
    fn all_nullable_tables_are_reported_with_or_without_a_key() {
        let mut bad = table_facts("bad_design");
        bad["all_non_pk_nullable"] = json!(true);
        bad["non_pk_count"] = json!(1);
        bad["pk_columns"] = json!(["product_type", "product_subtype"]);
        let mut no_pk = table_facts("no-pk");
        no_pk["all_non_pk_nullable"] = json!(true);
        no_pk["pk_columns"] = json!([]);
        // Only a key: nothing outside it to be nullable.
        let mut only_pk = table_facts("only_pk");
        only_pk["all_non_pk_nullable"] = json!(false);
        only_pk["non_pk_count"] = json!(0);
        let s = snapshot(
            vec![],
            vec![],
            json!({"table_facts": [bad, no_pk, only_pk, table_facts("good-design")]}),
        );
        let f = run(&s, &Thresholds::default());
        let objects: Vec<&str> = f.iter().map(|x| x.object.as_str()).collect();
        assert_eq!(objects, ["public.bad_design", "public.\"no-pk\""]);
        assert!(f[1].message.contains("no primary key"));
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
