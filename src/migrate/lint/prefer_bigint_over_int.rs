//! prefer-bigint-over-int: 32-bit integer keys overflow.

use pg_query::NodeEnum;

use super::{column_defs, type_name, FileContext};

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "prefer-bigint-over-int"
    }
    fn help(&self) -> &'static str {
        "An integer column (and a serial key) stops at 2,147,483,647, and widening it later rewrites the table under ACCESS EXCLUSIVE. Use bigint (and bigint GENERATED ALWAYS AS IDENTITY for keys)."
    }
    fn check(&self, stmt: &NodeEnum, _cx: &FileContext) -> Vec<String> {
        column_defs(stmt)
            .into_iter()
            .filter(|c| {
                matches!(
                    type_name(c).as_str(),
                    "int4" | "int" | "integer" | "serial" | "serial4"
                )
            })
            .map(|c| format!("column {} is a 32-bit {}", c.colname, type_name(c)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{count, silent};
    use super::Rule;

    #[test]
    fn flags_int_columns() {
        assert_eq!(
            count(&Rule, "CREATE TABLE t (id serial PRIMARY KEY, n integer);"),
            2
        );
        assert_eq!(count(&Rule, "ALTER TABLE t ADD COLUMN n int;"), 1);
        assert!(silent(
            &Rule,
            "CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY, n bigint);"
        ));
    }
}
