//! adding-not-nullable-field: `SET NOT NULL` scans the table under ACCESS EXCLUSIVE.

use pg_query::protobuf::AlterTableType;
use pg_query::NodeEnum;

use super::{alter_cmds, subtype, FileContext};
use crate::migrate::locks::rangevar_name;

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "adding-not-nullable-field"
    }
    fn help(&self) -> &'static str {
        "SET NOT NULL reads the whole table under ACCESS EXCLUSIVE unless a validated CHECK (col IS NOT NULL) already proves it (PostgreSQL 12+). First ADD CONSTRAINT ... CHECK (col IS NOT NULL) NOT VALID, then VALIDATE CONSTRAINT (a weaker lock), then SET NOT NULL, then drop the CHECK."
    }
    fn check(&self, stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
        alter_cmds(stmt)
            .into_iter()
            .filter(|(rel, c)| {
                subtype(c) == AlterTableType::AtSetNotNull
                    && !cx.is_new_table(Some(rel))
                    && !cx.validated_tables.contains(&rangevar_name(rel))
            })
            .map(|(rel, c)| {
                format!(
                    "SET NOT NULL on {}.{} scans the table under ACCESS EXCLUSIVE (no validated CHECK before it)",
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
    fn flags_set_not_null_without_validated_check() {
        assert_eq!(
            run(
                &Rule,
                "ALTER TABLE orders ALTER COLUMN status SET NOT NULL;",
                false
            )
            .len(),
            1
        );
        let safe = "ALTER TABLE orders VALIDATE CONSTRAINT status_nn;\nALTER TABLE orders ALTER COLUMN status SET NOT NULL;";
        assert!(run(&Rule, safe, false).is_empty());
    }
}
