//! ban-concurrent-index-creation-in-transaction: CONCURRENTLY cannot run inside a transaction.

use pg_query::protobuf::ObjectType;
use pg_query::NodeEnum;

use super::{FileContext, Severity};

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "ban-concurrent-index-creation-in-transaction"
    }
    fn severity(&self) -> Severity {
        Severity::Error
    }
    fn help(&self) -> &'static str {
        "PostgreSQL refuses CREATE/DROP INDEX CONCURRENTLY and REINDEX CONCURRENTLY inside a transaction block, and the file runs in one. Put the statement alone in a file whose first line is `-- no-transaction`."
    }
    fn check(&self, stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
        if !cx.in_any_tx() {
            return vec![];
        }
        let what = match stmt {
            NodeEnum::IndexStmt(s) if s.concurrent => "CREATE INDEX CONCURRENTLY",
            NodeEnum::DropStmt(s)
                if s.concurrent && s.remove_type == ObjectType::ObjectIndex as i32 =>
            {
                "DROP INDEX CONCURRENTLY"
            }
            NodeEnum::ReindexStmt(s)
                if s.params.iter().any(|p| {
                    matches!(p.node.as_ref(), Some(NodeEnum::DefElem(d)) if d.defname == "concurrently")
                }) =>
            {
                "REINDEX CONCURRENTLY"
            }
            _ => return vec![],
        };
        if !cx.in_transaction {
            return vec![format!(
                "{what} inside the BEGIN ... COMMIT written in the file: it will fail with \"cannot run inside a transaction block\""
            )];
        }
        vec![format!(
            "{what} in a file that runs inside a transaction: it will fail with \"cannot run inside a transaction block\" (the file has no `-- no-transaction` first line)"
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{count, run};
    use super::Rule;

    #[test]
    fn flags_concurrently_in_a_transaction_file() {
        assert_eq!(count(&Rule, "CREATE INDEX CONCURRENTLY i ON t (a);"), 1);
        assert_eq!(count(&Rule, "DROP INDEX CONCURRENTLY i;"), 1);
        assert_eq!(count(&Rule, "REINDEX INDEX CONCURRENTLY i;"), 1);
        assert!(run(&Rule, "CREATE INDEX CONCURRENTLY i ON t (a);", true).is_empty());
        assert_eq!(
            run(
                &Rule,
                "BEGIN;\nCREATE INDEX CONCURRENTLY i ON t (a);\nCOMMIT;",
                true
            )
            .len(),
            1
        );
    }
}
