//! no-transaction-single-statement: a `-- no-transaction` file whose statements sqlx would run as
//! one implicit transaction, where one of them cannot run.

use pg_query::protobuf::{AlterTableType, ObjectType};
use pg_query::NodeEnum;

use super::{alter_cmds, subtype, FileContext};

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "no-transaction-single-statement"
    }
    fn help(&self) -> &'static str {
        "sqlx sends a file as one query string, which PostgreSQL runs in an implicit transaction, so a statement that refuses transaction blocks (CONCURRENTLY, VACUUM, CREATE DATABASE, ...) fails next to any other. dbdoctor runs such files statement by statement, but keep that statement alone in its `-- no-transaction` file so every tool runs it the same way."
    }
    fn check(&self, _stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
        if cx.in_transaction || cx.statements < 2 || cx.index != 1 || cx.statements_separately {
            return vec![];
        }
        // A file of statements that all run inside a transaction block behaves the same as one
        // implicit transaction: nothing fails, so there is nothing to report.
        let Some(what) = cx.all.iter().find_map(refuses_transaction_block) else {
            return vec![];
        };
        vec![format!(
            "this `-- no-transaction` file holds {} statements, which sqlx sends as one implicit transaction where {what} fails; split it into one file per statement",
            cx.statements
        )]
    }
}

/// The statement PostgreSQL refuses inside a transaction block (explicit or implicit), named.
pub fn refuses_transaction_block(stmt: &NodeEnum) -> Option<&'static str> {
    let concurrently = |params: &[pg_query::Node]| {
        params.iter().any(|p| {
            matches!(p.node.as_ref(), Some(NodeEnum::DefElem(d)) if d.defname == "concurrently")
        })
    };
    match stmt {
        NodeEnum::IndexStmt(s) if s.concurrent => Some("CREATE INDEX CONCURRENTLY"),
        NodeEnum::DropStmt(s)
            if s.concurrent && s.remove_type == ObjectType::ObjectIndex as i32 =>
        {
            Some("DROP INDEX CONCURRENTLY")
        }
        NodeEnum::ReindexStmt(s) if concurrently(&s.params) => Some("REINDEX CONCURRENTLY"),
        NodeEnum::VacuumStmt(s) if s.is_vacuumcmd => Some("VACUUM"),
        NodeEnum::CreatedbStmt(_) => Some("CREATE DATABASE"),
        NodeEnum::DropdbStmt(_) => Some("DROP DATABASE"),
        NodeEnum::AlterSystemStmt(_) => Some("ALTER SYSTEM"),
        NodeEnum::CreateTableSpaceStmt(_) => Some("CREATE TABLESPACE"),
        NodeEnum::DropTableSpaceStmt(_) => Some("DROP TABLESPACE"),
        _ => alter_cmds(stmt)
            .into_iter()
            .any(|(_, c)| {
                subtype(c) == AlterTableType::AtDetachPartition
                    && matches!(c.def.as_ref().and_then(|d| d.node.as_ref()),
                        Some(NodeEnum::PartitionCmd(p)) if p.concurrent)
            })
            .then_some("DETACH PARTITION CONCURRENTLY"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{run, silent};
    use super::Rule;

    #[test]
    fn flags_once_per_file_holding_a_statement_that_refuses_transactions() {
        let sql = "SET lock_timeout = '1s';\nCREATE INDEX CONCURRENTLY i ON t (a);\nSELECT 1;";
        let got = run(&Rule, sql, true);
        assert_eq!(got.len(), 1);
        assert!(
            got[0].contains("CREATE INDEX CONCURRENTLY fails"),
            "{got:?}"
        );
        assert!(run(&Rule, "CREATE INDEX CONCURRENTLY i ON t (a);", true).is_empty());
        assert!(silent(&Rule, "SELECT 1; SELECT 2;"));
        for refused in [
            "DROP INDEX CONCURRENTLY i;",
            "REINDEX INDEX CONCURRENTLY i;",
            "VACUUM t;",
            "ALTER TABLE t DETACH PARTITION p CONCURRENTLY;",
            "CREATE DATABASE d;",
        ] {
            let sql = format!("SET lock_timeout = '1s';\n{refused}");
            assert_eq!(run(&Rule, &sql, true).len(), 1, "{refused}");
        }
    }

    #[test]
    fn statements_that_run_in_a_transaction_block_are_fine_together() {
        // One implicit transaction runs them exactly as intended: no statement fails.
        let sql = "ALTER TABLE t ADD COLUMN a int;\nANALYZE t;\nALTER TABLE t DROP COLUMN b;";
        assert!(run(&Rule, sql, true).is_empty());
        assert!(run(&Rule, "ALTER TABLE t DETACH PARTITION p; SELECT 1;", true).is_empty());
    }
}
