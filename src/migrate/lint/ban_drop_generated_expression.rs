//! ban-drop-generated-expression: `ALTER COLUMN ... DROP EXPRESSION` freezes a generated column.

use pg_query::protobuf::AlterTableType;
use pg_query::NodeEnum;

use super::{existing_table_cmds_of, FileContext};
use crate::migrate::locks::rangevar_name;

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "ban-drop-generated-expression"
    }
    fn help(&self) -> &'static str {
        "After DROP EXPRESSION the column keeps the values it has but is no longer computed: rows written from then on get NULL (or what the INSERT gives) instead of the derived value, and code reading it gets stale data without any error. Compute the value in the application first, or keep the expression."
    }
    fn check(&self, stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
        existing_table_cmds_of(stmt, cx, AlterTableType::AtDropExpression)
            .into_iter()
            .map(|(rel, c)| {
                format!(
                    "dropping the expression of {}.{}: new rows no longer get the computed value",
                    rangevar_name(rel),
                    c.name
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{count, silent};
    use super::Rule;

    // After squawk's own tests (v2.68.0), positive and negative.
    #[test]
    fn flags_drop_expression_on_an_existing_table() {
        assert_eq!(
            count(&Rule, "ALTER TABLE t ALTER COLUMN c DROP EXPRESSION;"),
            1
        );
        assert_eq!(
            count(
                &Rule,
                "ALTER TABLE t ALTER COLUMN c DROP EXPRESSION IF EXISTS;"
            ),
            1
        );
        assert!(silent(&Rule, "ALTER TABLE t ALTER COLUMN c DROP DEFAULT;"));
        assert!(silent(
            &Rule,
            "CREATE TABLE t (a int, c int GENERATED ALWAYS AS (a * 2) STORED);\nALTER TABLE t ALTER COLUMN c DROP EXPRESSION;"
        ));
    }
}
