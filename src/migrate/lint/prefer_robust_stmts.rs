//! prefer-robust-stmts: statements outside a transaction should be re-runnable.

use pg_query::protobuf::{AlterTableType, OnCommitAction};
use pg_query::NodeEnum;

use super::{added_constraint, alter_cmds, subtype, FileContext};
use crate::migrate::locks::rangevar_name;

/// Statements with no IF [NOT] EXISTS form: ADD CONSTRAINT (unless the file dropped it with IF
/// EXISTS just before), SET NOT NULL, ENABLE/DISABLE ROW LEVEL SECURITY.
fn no_if_exists_form(stmt: &NodeEnum, cx: &FileContext) -> Option<&'static str> {
    let earlier = &cx.all[..cx.index.min(cx.all.len())];
    for (rel, c) in alter_cmds(stmt) {
        match subtype(c) {
            AlterTableType::AtSetNotNull => return Some("SET NOT NULL"),
            AlterTableType::AtEnableRowSecurity | AlterTableType::AtDisableRowSecurity => {
                return Some("ROW LEVEL SECURITY")
            }
            AlterTableType::AtAddConstraint => {
                let name = added_constraint(c)
                    .map(|k| k.conname.clone())
                    .unwrap_or_default();
                // The latest earlier mention of this constraint must be a DROP ... IF EXISTS.
                let last = earlier.iter().flat_map(alter_cmds).rfind(|(r, e)| {
                    rangevar_name(r) == rangevar_name(rel)
                        && !name.is_empty()
                        && (e.name == name
                            || added_constraint(e).is_some_and(|k| k.conname == name))
                });
                let dropped_first = last.is_some_and(|(_, e)| {
                    subtype(e) == AlterTableType::AtDropConstraint && e.missing_ok
                });
                if !dropped_first {
                    return Some("ADD CONSTRAINT");
                }
            }
            _ => {}
        }
    }
    None
}

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "prefer-robust-stmts"
    }
    fn help(&self) -> &'static str {
        "A `-- no-transaction` file is not rolled back when it fails half way, so a rerun must not trip over what the first run already did. Write CREATE ... IF NOT EXISTS, DROP ... IF EXISTS, ADD COLUMN IF NOT EXISTS. (Files that run in a transaction are rolled back as a whole and need not be.)"
    }
    fn check(&self, stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
        if cx.in_any_tx() {
            return vec![];
        }
        // A one-statement file fails whole or not at all, except a CONCURRENTLY build, which
        // leaves an invalid index behind.
        let concurrent = matches!(stmt, NodeEnum::IndexStmt(s) if s.concurrent)
            || matches!(stmt, NodeEnum::DropStmt(s) if s.concurrent);
        if cx.statements == 1 && !concurrent {
            return vec![];
        }
        if let Some(what) = no_if_exists_form(stmt, cx) {
            return vec![format!("{what} in a `-- no-transaction` file has no IF [NOT] EXISTS form: a rerun after a partial failure may trip over it; run the file in a transaction")];
        }
        let missing = match stmt {
            // Not CREATE INDEX CONCURRENTLY: after a failed build IF NOT EXISTS would skip and
            // keep the INVALID index; `apply` drops an invalid leftover before each build instead.
            NodeEnum::IndexStmt(s) => !s.concurrent && !s.if_not_exists && !s.idxname.is_empty(),
            // A temporary table dropped at commit is gone before any rerun.
            NodeEnum::CreateStmt(s) => {
                let dropped_at_commit =
                    s.relation.as_ref().is_some_and(|r| r.relpersistence == "t")
                        && s.oncommit == OnCommitAction::OncommitDrop as i32;
                !s.if_not_exists && !dropped_at_commit
            }
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
    use super::super::testing::{run, silent};
    use super::Rule;

    #[test]
    fn only_outside_transactions() {
        // IF NOT EXISTS would make a rerun after a failed concurrent build worse.
        assert!(run(&Rule, "CREATE INDEX CONCURRENTLY i ON t (a);", true).is_empty());
        assert!(run(
            &Rule,
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a);",
            true
        )
        .is_empty());
        assert_eq!(run(&Rule, "DROP INDEX CONCURRENTLY i;", true).len(), 1);
        assert!(run(&Rule, "DROP INDEX CONCURRENTLY IF EXISTS i;", true).is_empty());
        assert!(silent(&Rule, "CREATE TABLE t (a bigint);"));
        let two = |s: &str| run(&Rule, &format!("SELECT 1;\n{s}"), true).len();
        assert_eq!(two("ALTER TABLE t ADD COLUMN c int;"), 1);
        assert_eq!(two("ALTER TABLE t ADD COLUMN IF NOT EXISTS c int;"), 0);
        assert_eq!(two("ALTER TABLE t ALTER COLUMN c SET NOT NULL;"), 1);
        assert_eq!(two("ALTER TABLE t ENABLE ROW LEVEL SECURITY;"), 1);
        assert_eq!(two("CREATE TEMP TABLE x (id int) ON COMMIT DROP;"), 0);
        assert_eq!(two("CREATE TEMP TABLE x (id int);"), 1);
        assert_eq!(two("CREATE INDEX CONCURRENTLY ON t (a);"), 0);
        // A one-statement file is atomic.
        assert!(run(&Rule, "ALTER TABLE t ADD COLUMN c int;", true).is_empty());
        // In a transaction written in the file: rolled back whole.
        assert!(run(
            &Rule,
            "BEGIN;\nALTER TABLE t ADD COLUMN c int;\nCOMMIT;",
            true
        )
        .is_empty());
        let add = "ALTER TABLE e ADD CONSTRAINT u UNIQUE USING INDEX i;";
        let drop = "ALTER TABLE e DROP CONSTRAINT IF EXISTS u;";
        assert!(run(&Rule, &format!("{drop}\n{add}"), true).is_empty());
        assert_eq!(run(&Rule, &format!("{drop}\n{add}\n{add}"), true).len(), 1);
    }
}
