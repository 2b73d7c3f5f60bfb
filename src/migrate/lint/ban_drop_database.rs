//! ban-drop-database: a migration should never drop a database.

use pg_query::NodeEnum;

use super::{FileContext, Severity};

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "ban-drop-database"
    }
    fn severity(&self) -> Severity {
        Severity::Error
    }
    fn help(&self) -> &'static str {
        "DROP DATABASE deletes every table at once and cannot run inside a transaction. It does not belong in a migration; do it by hand if you really mean it."
    }
    fn check(&self, stmt: &NodeEnum, _cx: &FileContext) -> Vec<String> {
        match stmt {
            NodeEnum::DropdbStmt(s) => vec![format!("DROP DATABASE {} in a migration", s.dbname)],
            _ => vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{run, silent};
    use super::Rule;

    #[test]
    fn flags_drop_database() {
        assert_eq!(run(&Rule, "DROP DATABASE prod;", true).len(), 1);
        assert!(silent(&Rule, "DROP TABLE t;"));
    }
}
