//! changing-column-type: `ALTER COLUMN ... TYPE` usually rewrites the table under ACCESS EXCLUSIVE.

use pg_query::protobuf::AlterTableType;
use pg_query::NodeEnum;

use super::{alter_cmds, subtype, FileContext};
use crate::migrate::locks::rangevar_name;

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "changing-column-type"
    }
    fn help(&self) -> &'static str {
        "Changing a column's type rewrites the table and its indexes under ACCESS EXCLUSIVE (except binary-coercible changes such as varchar(n) to text), and can break clients. Add a new column, write to both, backfill in batches, switch reads, then drop the old column."
    }
    fn check(&self, stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
        alter_cmds(stmt)
            .into_iter()
            .filter(|(rel, c)| {
                subtype(c) == AlterTableType::AtAlterColumnType && !cx.is_new_table(Some(rel))
            })
            .map(|(rel, c)| {
                format!(
                    "changing the type of {}.{} may rewrite the table under ACCESS EXCLUSIVE",
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
    fn flags_type_change() {
        assert_eq!(
            run(
                &Rule,
                "ALTER TABLE orders ALTER COLUMN amount TYPE bigint;",
                false
            )
            .len(),
            1
        );
        assert!(run(
            &Rule,
            "ALTER TABLE orders ADD COLUMN amount2 bigint;",
            false
        )
        .is_empty());
    }
}
