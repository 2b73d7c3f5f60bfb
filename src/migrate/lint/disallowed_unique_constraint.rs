//! disallowed-unique-constraint: `ADD UNIQUE` builds its index under ACCESS EXCLUSIVE.

use pg_query::protobuf::ConstrType;
use pg_query::NodeEnum;

use super::{constraints_added_to_existing, FileContext};
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
        // `ADD CONSTRAINT ... UNIQUE` or `ADD COLUMN ... UNIQUE`.
        constraints_added_to_existing(stmt, cx, ConstrType::ConstrUnique)
            .into_iter()
            .filter(|(_, k)| k.indexname.is_empty())
            .map(|(rel, _)| {
                format!(
                    "UNIQUE constraint on {} builds its index under ACCESS EXCLUSIVE",
                    rangevar_name(rel)
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{count, silent};
    use super::Rule;

    #[test]
    fn flags_unique_without_index() {
        assert_eq!(
            count(&Rule, "ALTER TABLE t ADD CONSTRAINT u UNIQUE (email);"),
            1
        );
        assert!(silent(
            &Rule,
            "ALTER TABLE t ADD CONSTRAINT u UNIQUE USING INDEX t_email;"
        ));
    }
}
