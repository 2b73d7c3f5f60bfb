//! ban-drop-not-null: dropping NOT NULL lets NULLs reach clients that assume there are none.

use pg_query::protobuf::AlterTableType;
use pg_query::NodeEnum;

use super::{alter_cmds, subtype, FileContext};
use crate::migrate::locks::rangevar_name;

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "ban-drop-not-null"
    }
    fn help(&self) -> &'static str {
        "After DROP NOT NULL the column can hold NULL, and clients (and the code that reads it) that assume a value break. Make sure every reader handles NULL before dropping the constraint."
    }
    fn check(&self, stmt: &NodeEnum, _cx: &FileContext) -> Vec<String> {
        alter_cmds(stmt)
            .into_iter()
            .filter(|(_, c)| subtype(c) == AlterTableType::AtDropNotNull)
            .map(|(rel, c)| format!("DROP NOT NULL on {}.{}", rangevar_name(rel), c.name))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{count, silent};
    use super::Rule;

    #[test]
    fn flags_drop_not_null() {
        assert_eq!(
            count(&Rule, "ALTER TABLE t ALTER COLUMN c DROP NOT NULL;"),
            1
        );
        assert!(silent(&Rule, "ALTER TABLE t ALTER COLUMN c SET NOT NULL;"));
    }
}
