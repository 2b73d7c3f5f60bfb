//! transaction-nesting: BEGIN/COMMIT inside a file that already runs in a transaction.

use pg_query::protobuf::TransactionStmtKind;
use pg_query::NodeEnum;

use super::{transaction_kind, FileContext, TxKind};

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "transaction-nesting"
    }
    fn help(&self) -> &'static str {
        "dbdoctor and sqlx already wrap each migration file in a transaction together with its tracking row. A COMMIT inside the file ends that transaction early (the rest runs without it and a failure can no longer be rolled back), and BEGIN only draws a warning. Remove the transaction statements; use `-- no-transaction` for statements that must run outside one."
    }
    fn check(&self, stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
        let NodeEnum::TransactionStmt(t) = stmt else {
            return vec![];
        };
        if !cx.in_transaction {
            // A `-- no-transaction` file may manage its own transactions, but not nest them.
            return match (transaction_kind(t), cx.in_explicit_tx) {
                (TxKind::Begin, true) => {
                    vec!["BEGIN inside a transaction the file already began".into()]
                }
                (TxKind::End, false) => {
                    vec!["COMMIT or ROLLBACK with no transaction open in the file".into()]
                }
                _ => vec![],
            };
        }
        let what = match TransactionStmtKind::try_from(t.kind) {
            Ok(TransactionStmtKind::TransStmtBegin | TransactionStmtKind::TransStmtStart) => {
                "BEGIN"
            }
            Ok(TransactionStmtKind::TransStmtCommit) => "COMMIT",
            Ok(TransactionStmtKind::TransStmtRollback) => "ROLLBACK",
            _ => return vec![],
        };
        vec![format!(
            "{what} in a file that already runs inside a transaction"
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{count, run, silent};
    use super::Rule;

    #[test]
    fn flags_explicit_transactions_in_a_transaction_file() {
        assert_eq!(count(&Rule, "BEGIN;\nSELECT 1;\nCOMMIT;"), 2);
        assert!(silent(&Rule, "SELECT 1;"));
        assert!(run(&Rule, "BEGIN;\nSELECT 1;\nCOMMIT;", true).is_empty());
        assert!(run(
            &Rule,
            "BEGIN;\nSELECT 1;\nCOMMIT;\nBEGIN;\nSELECT 2;\nCOMMIT;",
            true
        )
        .is_empty());
        assert_eq!(
            run(&Rule, "BEGIN;\nBEGIN;\nSELECT 1;\nCOMMIT;", true).len(),
            1
        );
        assert_eq!(
            run(&Rule, "BEGIN;\nSELECT 1;\nCOMMIT;\nCOMMIT;", true).len(),
            1
        );
    }
}
