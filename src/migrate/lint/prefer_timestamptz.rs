//! prefer-timestamptz: `timestamp` without time zone loses the instant a value means.

use pg_query::NodeEnum;

use super::{is_builtin_type, typed_columns, FileContext};

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "prefer-timestamptz"
    }
    fn help(&self) -> &'static str {
        "timestamp (without time zone) stores a wall-clock reading with no offset, so the same value means different instants to sessions in different zones. Use timestamptz."
    }
    fn check(&self, stmt: &NodeEnum, _cx: &FileContext) -> Vec<String> {
        typed_columns(stmt)
            .into_iter()
            .filter(|(_, t)| is_builtin_type(t, &["timestamp"]))
            .map(|(col, _)| format!("column {col} is timestamp without time zone: use timestamptz"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::run;
    use super::Rule;

    #[test]
    fn flags_timestamp_without_zone() {
        assert_eq!(
            run(
                &Rule,
                "CREATE TABLE t (a timestamp, b timestamp without time zone);",
                false
            )
            .len(),
            2
        );
        assert_eq!(
            run(&Rule, "ALTER TABLE t ALTER COLUMN a TYPE timestamp;", false).len(),
            1
        );
        assert!(run(
            &Rule,
            "CREATE TABLE t (a timestamptz, b timestamp with time zone);",
            false
        )
        .is_empty());
    }
}
