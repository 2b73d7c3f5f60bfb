//! prefer-identity: serial types are superseded by identity columns.

use pg_query::NodeEnum;

use super::{column_defs, type_name, FileContext};

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "prefer-identity"
    }
    fn help(&self) -> &'static str {
        "serial creates a sequence the table does not own cleanly (grants, dumps, copies go wrong). Use bigint GENERATED ALWAYS AS IDENTITY."
    }
    fn check(&self, stmt: &NodeEnum, _cx: &FileContext) -> Vec<String> {
        column_defs(stmt)
            .into_iter()
            .filter(|c| {
                matches!(
                    type_name(c).as_str(),
                    "serial" | "bigserial" | "smallserial" | "serial2" | "serial4" | "serial8"
                )
            })
            .map(|c| {
                format!(
                    "column {} uses {}; prefer an identity column",
                    c.colname,
                    type_name(c)
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::run;
    use super::Rule;

    #[test]
    fn flags_serial() {
        assert_eq!(
            run(&Rule, "CREATE TABLE t (id bigserial PRIMARY KEY);", false).len(),
            1
        );
        assert!(run(
            &Rule,
            "CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY);",
            false
        )
        .is_empty());
    }
}
