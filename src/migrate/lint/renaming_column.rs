//! renaming-column: renaming a column breaks clients that use the old name.

use pg_query::protobuf::ObjectType;
use pg_query::NodeEnum;

use super::FileContext;
use crate::migrate::locks::rangevar_name;

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "renaming-column"
    }
    fn help(&self) -> &'static str {
        "Code deployed before the migration still uses the old name and fails until it is replaced, and code using the new name fails before it: no deploy order makes a rename safe. Add the new column, deploy code that writes to both, backfill, deploy code that reads the new one, then drop the old one."
    }
    fn check(&self, stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
        match stmt {
            // A table new in this run has no deployed code using it.
            NodeEnum::RenameStmt(s)
                if s.rename_type == ObjectType::ObjectColumn as i32
                    && !cx.is_new_table(s.relation.as_ref()) =>
            {
                vec![format!(
                    "renaming {}.{} to {} breaks clients that use the old name",
                    s.relation.as_ref().map(rangevar_name).unwrap_or_default(),
                    s.subname,
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
    fn flags_column_rename() {
        assert_eq!(
            count(
                &Rule,
                "ALTER TABLE orders RENAME COLUMN amount TO total_amount;"
            ),
            1
        );
        assert!(silent(&Rule, "ALTER TABLE orders RENAME TO o;"));
        assert!(silent(
            &Rule,
            "CREATE TABLE n (a int);\nALTER TABLE n RENAME COLUMN a TO b;"
        ));
    }
}
