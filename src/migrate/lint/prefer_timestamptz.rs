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
    use super::super::testing::{count, silent};
    use super::Rule;

    #[test]
    fn flags_timestamp_without_zone() {
        assert_eq!(
            count(
                &Rule,
                "CREATE TABLE t (a timestamp, b timestamp without time zone);"
            ),
            2
        );
        assert_eq!(
            count(&Rule, "ALTER TABLE t ALTER COLUMN a TYPE timestamp;"),
            1
        );
        assert!(silent(
            &Rule,
            "CREATE TABLE t (a timestamptz, b timestamp with time zone);"
        ));
    }
}
