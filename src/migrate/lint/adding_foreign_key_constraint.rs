//! adding-foreign-key-constraint: a foreign key added without NOT VALID blocks writes on both tables while it scans.

use pg_query::protobuf::ConstrType;
use pg_query::NodeEnum;

use super::{added_column, added_constraint, alter_cmds, column_constraints, FileContext};
use crate::migrate::locks::rangevar_name;

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "adding-foreign-key-constraint"
    }
    fn help(&self) -> &'static str {
        "Adding a foreign key takes SHARE ROW EXCLUSIVE on both tables and checks every row while holding it, blocking writes. Add it with NOT VALID (instant), then VALIDATE CONSTRAINT in a separate migration (SHARE UPDATE EXCLUSIVE: reads and writes go on)."
    }
    fn check(&self, stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
        alter_cmds(stmt)
            .into_iter()
            .filter(|(rel, _)| !cx.is_new_table(Some(rel)))
            .filter_map(|(rel, c)| {
                // `ADD CONSTRAINT ... FOREIGN KEY` or `ADD COLUMN ... REFERENCES`.
                let k = added_constraint(c).or_else(|| {
                    column_constraints(added_column(c)?)
                        .into_iter()
                        .find(|k| k.contype == ConstrType::ConstrForeign as i32)
                })?;
                (k.contype == ConstrType::ConstrForeign as i32 && !k.skip_validation).then(|| {
                    let other = k.pktable.as_ref().map(rangevar_name).unwrap_or_default();
                    format!(
                        "foreign key on {} takes SHARE ROW EXCLUSIVE on {} and {other} and scans every row",
                        rangevar_name(rel),
                        rangevar_name(rel)
                    )
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::run;
    use super::Rule;

    #[test]
    fn flags_fk_without_not_valid() {
        let sql = "ALTER TABLE orders ADD CONSTRAINT f FOREIGN KEY (customer_id) REFERENCES customers (id);";
        assert_eq!(run(&Rule, sql, false).len(), 1);
        let safe = "ALTER TABLE orders ADD CONSTRAINT f FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;";
        assert!(run(&Rule, safe, false).is_empty());
    }
}
