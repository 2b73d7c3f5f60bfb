//! no-transaction-single-statement: a `-- no-transaction` file should hold one statement.

use pg_query::NodeEnum;

use super::FileContext;

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "no-transaction-single-statement"
    }
    fn help(&self) -> &'static str {
        "sqlx sends a file as one query string, which PostgreSQL runs in an implicit transaction, so a CONCURRENTLY statement fails next to any other; and when a later statement fails the earlier ones stay applied. dbdoctor runs such files statement by statement, but keep one statement per `-- no-transaction` file so every tool runs it the same way."
    }
    fn check(&self, _stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
        if cx.in_transaction || cx.statements < 2 || cx.index != 1 || cx.statements_separately {
            return vec![];
        }
        vec![format!(
            "this `-- no-transaction` file holds {} statements; split it into one file per statement",
            cx.statements
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::run;
    use super::Rule;

    #[test]
    fn flags_once_per_file() {
        let sql = "SET lock_timeout = '1s';\nCREATE INDEX CONCURRENTLY i ON t (a);\nSELECT 1;";
        assert_eq!(run(&Rule, sql, true).len(), 1);
        assert!(run(&Rule, "CREATE INDEX CONCURRENTLY i ON t (a);", true).is_empty());
        assert!(run(&Rule, "SELECT 1; SELECT 2;", false).is_empty());
    }
}
