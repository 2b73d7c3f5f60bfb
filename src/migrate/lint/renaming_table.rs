//! renaming-table: renaming a table breaks clients that use the old name.

use pg_query::protobuf::ObjectType;
use pg_query::NodeEnum;

use super::FileContext;
use crate::migrate::locks::rangevar_name;

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "renaming-table"
    }
    fn help(&self) -> &'static str {
        "Code deployed before the migration still uses the old name and fails until it is replaced. Create the new table (or a view with the new name), move clients over, then drop the old name."
    }
    fn check(&self, stmt: &NodeEnum, _cx: &FileContext) -> Vec<String> {
        match stmt {
            NodeEnum::RenameStmt(s) if s.rename_type == ObjectType::ObjectTable as i32 => {
                vec![format!(
                    "renaming table {} to {} breaks clients that use the old name",
                    s.relation.as_ref().map(rangevar_name).unwrap_or_default(),
                    s.newname
                )]
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
    fn flags_table_rename() {
        assert_eq!(count(&Rule, "ALTER TABLE orders RENAME TO purchases;"), 1);
        assert!(silent(&Rule, "ALTER TABLE orders RENAME COLUMN a TO b;"));
    }
}
