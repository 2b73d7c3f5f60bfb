//! require-concurrent-index-creation: `CREATE INDEX` without CONCURRENTLY blocks writes.

use pg_query::NodeEnum;

use super::FileContext;
use crate::migrate::locks::rangevar_name;

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "require-concurrent-index-creation"
    }
    fn help(&self) -> &'static str {
        "CREATE INDEX takes a SHARE lock: every INSERT, UPDATE and DELETE on the table waits until the build ends. Use CREATE INDEX CONCURRENTLY IF NOT EXISTS in its own `-- no-transaction` file."
    }
    fn check(&self, stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
        match stmt {
            NodeEnum::IndexStmt(s) if !s.concurrent && !cx.is_new_table(s.relation.as_ref()) => {
                let t = s.relation.as_ref().map(rangevar_name).unwrap_or_default();
                vec![format!(
                    "CREATE INDEX without CONCURRENTLY takes SHARE on {t} and blocks writes for the whole build"
                )]
            }
            _ => vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::run;
    use super::Rule;

    #[test]
    fn flags_plain_create_index() {
        assert_eq!(
            run(&Rule, "CREATE INDEX i ON orders (customer_id);", false).len(),
            1
        );
        assert!(run(
            &Rule,
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON orders (c);",
            true
        )
        .is_empty());
    }

    #[test]
    fn table_created_in_the_same_file_is_exempt() {
        assert!(run(
            &Rule,
            "CREATE TABLE n (a int);\nCREATE INDEX i ON n (a);",
            false
        )
        .is_empty());
    }
}
