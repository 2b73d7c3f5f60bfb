//! prefer-robust-stmts: statements outside a transaction should be re-runnable.

use pg_query::protobuf::AlterTableType;
use pg_query::NodeEnum;

use super::{alter_cmds, subtype, FileContext};

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "prefer-robust-stmts"
    }
    fn help(&self) -> &'static str {
        "A `-- no-transaction` file is not rolled back when it fails half way, so a rerun must not trip over what the first run already did. Write CREATE ... IF NOT EXISTS, DROP ... IF EXISTS, ADD COLUMN IF NOT EXISTS. (Files that run in a transaction are rolled back as a whole and need not be.)"
    }
    fn check(&self, stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
        if cx.in_transaction {
            return vec![];
        }
        let missing = match stmt {
            NodeEnum::IndexStmt(s) => !s.if_not_exists && !s.idxname.is_empty(),
            NodeEnum::CreateStmt(s) => !s.if_not_exists,
            NodeEnum::DropStmt(s) => !s.missing_ok,
            NodeEnum::AlterTableStmt(_) => alter_cmds(stmt).iter().any(|(_, c)| match subtype(c) {
                AlterTableType::AtAddColumn
                | AlterTableType::AtDropColumn
                | AlterTableType::AtDropConstraint => !c.missing_ok,
                _ => false,
            }),
            _ => false,
        };
        if missing {
            vec!["statement in a `-- no-transaction` file without IF [NOT] EXISTS: a rerun after a partial failure would fail".into()]
        } else {
            vec![]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::run;
    use super::Rule;

    #[test]
    fn only_outside_transactions() {
        assert_eq!(
            run(&Rule, "CREATE INDEX CONCURRENTLY i ON t (a);", true).len(),
            1
        );
        assert!(run(
            &Rule,
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a);",
            true
        )
        .is_empty());
        assert_eq!(run(&Rule, "DROP INDEX CONCURRENTLY i;", true).len(), 1);
        assert!(run(&Rule, "DROP INDEX CONCURRENTLY IF EXISTS i;", true).is_empty());
        assert!(run(&Rule, "CREATE TABLE t (a bigint);", false).is_empty());
    }
}
