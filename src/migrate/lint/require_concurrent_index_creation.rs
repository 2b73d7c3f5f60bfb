//! require-concurrent-index-creation: `CREATE INDEX` without CONCURRENTLY blocks writes.

use pg_query::NodeEnum;

use super::FileContext;
use crate::migrate::locks::{rangevar_name, LockLevel};

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "require-concurrent-index-creation"
    }
    fn help(&self) -> &'static str {
        "CREATE INDEX takes a SHARE lock: every INSERT, UPDATE and DELETE on the table waits until the build ends. Use CREATE INDEX CONCURRENTLY in its own `-- no-transaction` file. A failed concurrent build leaves an INVALID index: `dbdoctor migrate apply` drops it before the next attempt; with another runner, drop it with DROP INDEX CONCURRENTLY IF EXISTS (IF NOT EXISTS alone would keep the invalid index)."
    }
    fn check(&self, stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
        match stmt {
            NodeEnum::IndexStmt(s) if !s.concurrent && !cx.is_new_table(s.relation.as_ref()) => {
                let t = s.relation.as_ref().map(rangevar_name).unwrap_or_default();
                // Locks last until COMMIT: a stronger one taken earlier in the file still applies.
                match s.relation.as_ref().and_then(|r| cx.held_lock(r)) {
                    Some((held, line)) if held > LockLevel::Share => vec![format!(
                        "CREATE INDEX without CONCURRENTLY on {t}, which this transaction already holds in {} since line {line}: {} for the whole build, until COMMIT",
                        held.name(),
                        held.blocks()
                    )],
                    _ => vec![format!(
                        "CREATE INDEX without CONCURRENTLY takes SHARE on {t} and blocks writes for the whole build"
                    )],
                }
            }
            _ => vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{count, run, silent};
    use super::Rule;

    #[test]
    fn flags_plain_create_index() {
        assert_eq!(count(&Rule, "CREATE INDEX i ON orders (customer_id);"), 1);
        assert!(run(
            &Rule,
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON orders (c);",
            true
        )
        .is_empty());
    }

    #[test]
    fn a_stronger_lock_held_earlier_in_the_transaction_is_named() {
        let m = run(
            &Rule,
            "ALTER TABLE o RENAME COLUMN a TO b;\nCREATE INDEX i ON o (b);",
            false,
        );
        assert_eq!(m.len(), 1);
        assert!(
            m[0].contains("ACCESS EXCLUSIVE since line 1") && m[0].contains("reads and writes"),
            "{m:?}"
        );
        // In a no-transaction file nothing is held between statements.
        let m = run(
            &Rule,
            "ALTER TABLE o RENAME COLUMN a TO b;\nCREATE INDEX i ON o (b);",
            true,
        );
        assert!(m[0].contains("takes SHARE"), "{m:?}");
    }

    #[test]
    fn table_created_in_the_same_file_is_exempt() {
        assert!(silent(
            &Rule,
            "CREATE TABLE n (a int);\nCREATE INDEX i ON n (a);"
        ));
    }
}
