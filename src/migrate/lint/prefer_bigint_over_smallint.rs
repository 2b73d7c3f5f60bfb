//! prefer-bigint-over-smallint: 16-bit integer columns run out at 32,767.

use pg_query::NodeEnum;

use super::{is_builtin_type, typed_columns, FileContext};

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "prefer-bigint-over-smallint"
    }
    fn help(&self) -> &'static str {
        "smallint stops at 32,767; widening it later rewrites the table under ACCESS EXCLUSIVE. Use bigint (the space saved is usually lost to alignment anyway)."
    }
    fn check(&self, stmt: &NodeEnum, _cx: &FileContext) -> Vec<String> {
        typed_columns(stmt)
            .into_iter()
            .filter(|(_, t)| is_builtin_type(t, &["int2", "smallint", "smallserial", "serial2"]))
            .map(|(col, _)| format!("column {col} is a 16-bit integer: prefer bigint"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{count, silent};
    use super::Rule;

    #[test]
    fn flags_smallint_kinds() {
        assert_eq!(
            count(
                &Rule,
                "CREATE TABLE u (a smallint, b int2, c smallserial, d serial2);"
            ),
            4
        );
        assert!(silent(
            &Rule,
            "CREATE TABLE u (a bigint, b int, c serial, d int8);"
        ));
    }
}
