//! ban-drop-column: dropping a column breaks clients that still read or write it.

use pg_query::protobuf::AlterTableType;
use pg_query::NodeEnum;

use super::{column_path, existing_table_cmds_of, FileContext};

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "ban-drop-column"
    }
    fn help(&self) -> &'static str {
        "Running application code that still names the column fails as soon as it is gone, and the data cannot be brought back by the down migration. Stop using the column in a deploy first, then drop it; silence with `-- dbdoctor:allow ban-drop-column` once that is done."
    }
    fn check(&self, stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
        // A table new in this run has no deployed code using it.
        existing_table_cmds_of(stmt, cx, AlterTableType::AtDropColumn)
            .into_iter()
            .map(|(rel, c)| column_path(rel, &c.name))
            .filter(|col| !cx.undoes.contains(col))
            .map(|col| {
                format!("dropping column {col} loses its data and breaks clients that use it")
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{count, silent};
    use super::Rule;

    #[test]
    fn flags_drop_column() {
        assert_eq!(
            count(&Rule, "ALTER TABLE orders DROP COLUMN legacy_flag;"),
            1
        );
        assert!(silent(
            &Rule,
            "ALTER TABLE orders ADD COLUMN legacy_flag bool;"
        ));
        assert!(silent(
            &Rule,
            "CREATE TABLE n (a int, b int);\nALTER TABLE n DROP COLUMN b;"
        ));
    }
}
