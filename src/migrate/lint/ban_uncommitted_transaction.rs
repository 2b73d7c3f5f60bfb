//! ban-uncommitted-transaction: a BEGIN that no COMMIT or ROLLBACK closes.

use pg_query::NodeEnum;

use super::{transaction_kind, FileContext, TxKind};

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "ban-uncommitted-transaction"
    }
    fn help(&self) -> &'static str {
        "The file opens a transaction and never closes it: depending on the runner its changes are rolled back when the connection closes, or the connection goes back to a pool mid-transaction. End it with COMMIT."
    }
    fn check(&self, stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
        let NodeEnum::TransactionStmt(t) = stmt else {
            return vec![];
        };
        // In a transactional file the runner's own COMMIT closes it (transaction-nesting
        // reports the stray BEGIN there).
        if cx.in_transaction {
            return vec![];
        }
        if transaction_kind(t) != TxKind::Begin {
            return vec![];
        }
        // Only the last BEGIN can be left open: anything after it that ends a transaction
        // closes it (a nested BEGIN only draws a warning from PostgreSQL).
        let later = &cx.all[(cx.index + 1).min(cx.all.len())..];
        let closed = later.iter().any(
            |n| matches!(n, NodeEnum::TransactionStmt(t) if transaction_kind(t) == TxKind::End),
        );
        let reopened = later.iter().any(
            |n| matches!(n, NodeEnum::TransactionStmt(t) if transaction_kind(t) == TxKind::Begin),
        );
        if closed || reopened {
            vec![]
        } else {
            vec!["transaction started here is never committed or rolled back".into()]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{run, silent};
    use super::Rule;

    #[test]
    fn flags_open_transaction() {
        assert_eq!(
            run(&Rule, "BEGIN;\nCREATE TABLE u (id bigint);", true).len(),
            1
        );
        assert_eq!(run(&Rule, "START TRANSACTION;\nSELECT 1;", true).len(), 1);
        assert_eq!(
            run(&Rule, "BEGIN;\nSELECT 1;\nCOMMIT;\nBEGIN;\nSELECT 2;", true).len(),
            1
        );
        assert!(run(&Rule, "BEGIN;\nSELECT 1;\nCOMMIT;", true).is_empty());
        assert!(run(&Rule, "BEGIN;\nSELECT 1;\nROLLBACK;", true).is_empty());
        assert!(run(&Rule, "BEGIN;\nBEGIN;\nCOMMIT;", true).is_empty());
        assert!(silent(&Rule, "BEGIN;\nCREATE TABLE u (id bigint);"));
    }
}
