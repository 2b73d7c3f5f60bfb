//! ban-drop-column: dropping a column breaks clients that still read or write it.

use pg_query::protobuf::AlterTableType;
use pg_query::NodeEnum;

use super::{alter_cmds, subtype, FileContext};
use crate::migrate::locks::rangevar_name;

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "ban-drop-column"
    }
    fn help(&self) -> &'static str {
        "Running application code that still names the column fails as soon as it is gone, and the data cannot be brought back by the down migration. Stop using the column in a deploy first, then drop it; silence with `-- dbdoctor:allow ban-drop-column` once that is done."
    }
    fn check(&self, stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
        alter_cmds(stmt)
            .into_iter()
            // A table new in this run has no deployed code using it.
            .filter(|(rel, c)| {
                subtype(c) == AlterTableType::AtDropColumn && !cx.is_new_table(Some(rel))
            })
            .filter(|(rel, c)| {
                !cx.undoes
                    .contains(&format!("{}.{}", rangevar_name(rel), c.name))
            })
            .map(|(rel, c)| {
                format!(
                    "dropping column {}.{} loses its data and breaks clients that use it",
                    rangevar_name(rel),
                    c.name
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::run;
    use super::Rule;

    #[test]
    fn flags_drop_column() {
        assert_eq!(
            run(&Rule, "ALTER TABLE orders DROP COLUMN legacy_flag;", false).len(),
            1
        );
        assert!(run(
            &Rule,
            "ALTER TABLE orders ADD COLUMN legacy_flag bool;",
            false
        )
        .is_empty());
        assert!(run(
            &Rule,
            "CREATE TABLE n (a int, b int);\nALTER TABLE n DROP COLUMN b;",
            false
        )
        .is_empty());
    }
}
