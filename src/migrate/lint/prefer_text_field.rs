//! prefer-text-field: raising a `varchar(n)` limit later needs ACCESS EXCLUSIVE.

use pg_query::NodeEnum;

use super::{is_builtin_type, typed_columns, FileContext};

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "prefer-text-field"
    }
    fn help(&self) -> &'static str {
        "Changing a varchar(n) limit takes ACCESS EXCLUSIVE on the table (and lowering it rewrites the table). Use text with a CHECK (length(col) <= n) added NOT VALID: the check can be swapped later without blocking."
    }
    fn check(&self, stmt: &NodeEnum, _cx: &FileContext) -> Vec<String> {
        typed_columns(stmt)
            .into_iter()
            .filter(|(_, t)| is_builtin_type(t, &["varchar"]) && !t.typmods.is_empty())
            .map(|(col, _)| format!("column {col} is varchar(n): prefer text with a CHECK"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{count, silent};
    use super::Rule;

    #[test]
    fn flags_limited_varchar() {
        assert_eq!(
            count(
                &Rule,
                "CREATE TABLE t (a varchar(100), b pg_catalog.varchar(5));"
            ),
            2
        );
        assert_eq!(count(&Rule, "ALTER TABLE t ADD COLUMN c varchar(256);"), 1);
        assert_eq!(
            count(&Rule, "ALTER TABLE t ALTER COLUMN c TYPE varchar(1000);"),
            1
        );
        assert!(silent(&Rule, "CREATE TABLE t (a varchar, b text);"));
    }
}
