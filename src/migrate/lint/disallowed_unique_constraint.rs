//! disallowed-unique-constraint: `ADD UNIQUE` builds its index under ACCESS EXCLUSIVE.

use pg_query::protobuf::ConstrType;
use pg_query::NodeEnum;

use super::{added_column, added_constraint, alter_cmds, column_constraints, FileContext};
use crate::migrate::locks::rangevar_name;

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "disallowed-unique-constraint"
    }
    fn help(&self) -> &'static str {
        "ADD CONSTRAINT ... UNIQUE builds a unique index while holding ACCESS EXCLUSIVE: reads and writes wait for the whole build. Build the index first with CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... UNIQUE USING INDEX (instant)."
    }
    fn check(&self, stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
        alter_cmds(stmt)
            .into_iter()
            .filter(|(rel, _)| !cx.is_new_table(Some(rel)))
            .filter_map(|(rel, c)| {
                // `ADD CONSTRAINT ... UNIQUE` or `ADD COLUMN ... UNIQUE`.
                let k = added_constraint(c).or_else(|| {
                    column_constraints(added_column(c)?)
                        .into_iter()
                        .find(|k| k.contype == ConstrType::ConstrUnique as i32)
                })?;
                (k.contype == ConstrType::ConstrUnique as i32 && k.indexname.is_empty()).then(
                    || {
                        format!(
                            "UNIQUE constraint on {} builds its index under ACCESS EXCLUSIVE",
                            rangevar_name(rel)
                        )
                    },
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
    fn flags_unique_without_index() {
        assert_eq!(
            run(
                &Rule,
                "ALTER TABLE t ADD CONSTRAINT u UNIQUE (email);",
                false
            )
            .len(),
            1
        );
        assert!(run(
            &Rule,
            "ALTER TABLE t ADD CONSTRAINT u UNIQUE USING INDEX t_email;",
            false
        )
        .is_empty());
    }
}
