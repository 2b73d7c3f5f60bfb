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
        "Dropping a table deletes its data for good and breaks code that still uses it. Make sure nothing reads it any more (and that a backup exists), then silence with `-- dbdoctor:allow ban-drop-table`. A down file that drops what its own up file created is not flagged."
    }
    fn check(&self, stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
        match stmt {
            NodeEnum::DropStmt(s) if s.remove_type == ObjectType::ObjectTable as i32 => {
                let names: Vec<String> = drop_objects(&s.objects)
                    .into_iter()
                    .filter(|n| !cx.undoes.contains(n))
                    .collect();
                if names.is_empty() {
                    return vec![];
                }
                vec![format!(
                    "dropping table {} deletes its data",
                    names.join(", ")
                )]
            }
            _ => vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{count, run};
    use super::Rule;

    #[test]
    fn flags_drop_table() {
        assert_eq!(count(&Rule, "DROP TABLE orders;"), 1);
        assert!(run(&Rule, "DROP INDEX CONCURRENTLY i;", true).is_empty());
    }

    #[test]
    fn a_down_file_dropping_what_its_up_file_created_is_fine() {
        use crate::migrate::lint::{created_objects, lint_file_undoing};
        let up = "CREATE TABLE orders (id bigint);";
        let down = crate::migrate::source::SqlFile {
            path: "d.sql".into(),
            name: "d.sql".into(),
            no_tx: false,
            sql: "DROP TABLE orders;\nDROP TABLE customers;".into(),
        };
        let d = lint_file_undoing(&down, "d.sql", created_objects(up));
        let d: Vec<_> = d
            .into_iter()
            .filter(|d| d.rule == "ban-drop-table")
            .collect();
        assert_eq!(d.len(), 1);
        assert!(d[0].message.contains("customers"));
    }
}
