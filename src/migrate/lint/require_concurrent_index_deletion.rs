//! require-concurrent-index-deletion: `DROP INDEX` without CONCURRENTLY takes ACCESS EXCLUSIVE.

use pg_query::protobuf::ObjectType;
use pg_query::NodeEnum;

use super::FileContext;
use crate::migrate::locks::drop_objects;

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "require-concurrent-index-deletion"
    }
    fn help(&self) -> &'static str {
        "DROP INDEX takes ACCESS EXCLUSIVE on the table: reads and writes wait. Use DROP INDEX CONCURRENTLY IF EXISTS in its own `-- no-transaction` file."
    }
    fn check(&self, stmt: &NodeEnum, _cx: &FileContext) -> Vec<String> {
        match stmt {
            NodeEnum::DropStmt(s)
                if s.remove_type == ObjectType::ObjectIndex as i32 && !s.concurrent =>
            {
                vec![format!(
                    "DROP INDEX {} without CONCURRENTLY takes ACCESS EXCLUSIVE on its table and blocks reads and writes",
                    drop_objects(&s.objects).join(", ")
                )]
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
    fn flags_plain_drop_index() {
        assert_eq!(count(&Rule, "DROP INDEX IF EXISTS i;"), 1);
        assert!(run(&Rule, "DROP INDEX CONCURRENTLY IF EXISTS i;", true).is_empty());
        assert!(silent(&Rule, "DROP TABLE IF EXISTS i;"));
    }
}
