//! ban-drop-table: dropping a table loses data and breaks clients.

use pg_query::protobuf::ObjectType;
use pg_query::NodeEnum;

use super::FileContext;
use crate::migrate::locks::drop_objects;

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "ban-drop-table"
    }
    fn help(&self) -> &'static str {
        "Dropping a table deletes its data for good and breaks code that still uses it. Make sure nothing reads it any more (and that a backup exists), then silence with `-- dbdoctor:allow ban-drop-table`. Down migrations that drop what their up file created are expected."
    }
    fn check(&self, stmt: &NodeEnum, _cx: &FileContext) -> Vec<String> {
        match stmt {
            NodeEnum::DropStmt(s) if s.remove_type == ObjectType::ObjectTable as i32 => {
                vec![format!(
                    "dropping table {} deletes its data",
                    drop_objects(&s.objects).join(", ")
                )]
            }
            _ => vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::run;
    use super::Rule;

    #[test]
    fn flags_drop_table() {
        assert_eq!(run(&Rule, "DROP TABLE orders;", false).len(), 1);
        assert!(run(&Rule, "DROP INDEX CONCURRENTLY i;", true).is_empty());
    }
}
