//! prefer-identity: serial types are superseded by identity columns.

use pg_query::NodeEnum;

use super::{column_defs, type_name, FileContext, SERIAL_TYPES};

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
            .filter(|c| SERIAL_TYPES.contains(&type_name(c).as_str()))
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
    use super::super::testing::{count, silent};
    use super::Rule;

    #[test]
    fn flags_serial() {
        assert_eq!(
            count(&Rule, "CREATE TABLE t (id bigserial PRIMARY KEY);"),
            1
        );
        assert!(silent(
            &Rule,
            "CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY);"
        ));
    }
}
