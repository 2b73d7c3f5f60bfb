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
        "Code deployed before the migration still uses the old name and fails until it is replaced. Add the new column, write to both, backfill, move reads, then drop the old one."
    }
    fn check(&self, stmt: &NodeEnum, _cx: &FileContext) -> Vec<String> {
        match stmt {
            NodeEnum::RenameStmt(s) if s.rename_type == ObjectType::ObjectColumn as i32 => {
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
    use super::super::testing::run;
    use super::Rule;

    #[test]
    fn flags_column_rename() {
        assert_eq!(
            run(
                &Rule,
                "ALTER TABLE orders RENAME COLUMN amount TO total_amount;",
                false
            )
            .len(),
            1
        );
        assert!(run(&Rule, "ALTER TABLE orders RENAME TO o;", false).is_empty());
    }
}
