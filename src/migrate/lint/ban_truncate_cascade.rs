//! ban-truncate-cascade: `TRUNCATE ... CASCADE` empties every table that references the target.

use pg_query::protobuf::DropBehavior;
use pg_query::NodeEnum;

use super::FileContext;

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "ban-truncate-cascade"
    }
    fn help(&self) -> &'static str {
        "TRUNCATE ... CASCADE also empties every table with a foreign key to the named ones, and their referencing tables in turn, which are not named in the statement. Name each table to truncate explicitly."
    }
    fn check(&self, stmt: &NodeEnum, _cx: &FileContext) -> Vec<String> {
        match stmt {
            NodeEnum::TruncateStmt(s) if s.behavior == DropBehavior::DropCascade as i32 => {
                vec!["TRUNCATE ... CASCADE also empties tables that reference these".into()]
            }
            _ => vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{count, silent};
    use super::Rule;

    #[test]
    fn flags_cascade_only() {
        assert_eq!(count(&Rule, "TRUNCATE a, b CASCADE;"), 1);
        assert!(silent(&Rule, "TRUNCATE a, b;\nTRUNCATE a;"));
    }
}
