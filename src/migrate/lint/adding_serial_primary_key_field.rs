//! adding-serial-primary-key-field: `ADD PRIMARY KEY` builds its index under ACCESS EXCLUSIVE.

use pg_query::protobuf::ConstrType;
use pg_query::NodeEnum;

use super::{added_column, added_constraint, column_constraints, existing_table_cmds, FileContext};
use crate::migrate::locks::rangevar_name;

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "adding-serial-primary-key-field"
    }
    fn help(&self) -> &'static str {
        "Adding a primary key builds its unique index while holding ACCESS EXCLUSIVE (and a new serial/identity column rewrites the table). Build CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... PRIMARY KEY USING INDEX."
    }
    fn check(&self, stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
        let mut out = Vec::new();
        for (rel, c) in existing_table_cmds(stmt, cx) {
            let pk_inline = added_column(c).is_some_and(|col| {
                column_constraints(col)
                    .iter()
                    .any(|k| k.contype == ConstrType::ConstrPrimary as i32)
            });
            let pk_constraint = added_constraint(c).is_some_and(|k| {
                k.contype == ConstrType::ConstrPrimary as i32 && k.indexname.is_empty()
            });
            if pk_inline || pk_constraint {
                out.push(format!(
                    "PRIMARY KEY on {} builds its index under ACCESS EXCLUSIVE",
                    rangevar_name(rel)
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{count, silent};
    use super::Rule;

    #[test]
    fn flags_added_primary_key() {
        assert_eq!(count(&Rule, "ALTER TABLE t ADD PRIMARY KEY (id);"), 1);
        assert_eq!(
            count(&Rule, "ALTER TABLE t ADD COLUMN id bigserial PRIMARY KEY;"),
            1
        );
        assert!(silent(
            &Rule,
            "ALTER TABLE t ADD CONSTRAINT t_pk PRIMARY KEY USING INDEX t_id;"
        ));
    }
}
