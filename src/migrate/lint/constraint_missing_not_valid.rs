//! constraint-missing-not-valid: a CHECK or foreign key added without NOT VALID scans the table under its lock.

use pg_query::protobuf::ConstrType;
use pg_query::NodeEnum;

use pg_query::protobuf::AlterTableType;

use super::{added_constraint, alter_cmds, existing_table_cmds, subtype, FileContext};
use crate::migrate::locks::rangevar_name;

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "constraint-missing-not-valid"
    }
    fn help(&self) -> &'static str {
        "A new CHECK or FOREIGN KEY is verified against every row while the ALTER TABLE lock is held. Add it with NOT VALID (only new rows are checked), then run ALTER TABLE ... VALIDATE CONSTRAINT in a later migration, which does not block reads or writes."
    }
    fn check(&self, stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
        let mut out = validated_in_same_transaction(stmt, cx);
        out.extend(added_without_not_valid(stmt, cx));
        out
    }
}

/// `VALIDATE CONSTRAINT` in the transaction that added the constraint NOT VALID: the ADD's lock
/// is still held, so the validation scan blocks writes just as a plain ADD would.
fn validated_in_same_transaction(stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
    let earlier = cx.same_tx_earlier();
    alter_cmds(stmt)
        .into_iter()
        .filter(|(_, c)| subtype(c) == AlterTableType::AtValidateConstraint)
        .filter(|(rel, c)| {
            earlier.iter().flat_map(alter_cmds).any(|(r, a)| {
                rangevar_name(r) == rangevar_name(rel)
                    && added_constraint(a).is_some_and(|k| k.skip_validation && k.conname == c.name)
            })
        })
        .map(|(rel, c)| {
            format!(
                "constraint {} on {} is validated in the same transaction that added it NOT VALID: the ADD's lock is still held during the scan",
                c.name,
                rangevar_name(rel)
            )
        })
        .collect()
}

fn added_without_not_valid(stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
    {
        existing_table_cmds(stmt, cx)
            .into_iter()
            .filter_map(|(rel, c)| {
                let k = added_constraint(c)?;
                let kind = if k.contype == ConstrType::ConstrCheck as i32 {
                    "CHECK"
                } else if k.contype == ConstrType::ConstrForeign as i32 {
                    "FOREIGN KEY"
                } else {
                    return None;
                };
                (!k.skip_validation).then(|| {
                    format!(
                        "{kind} constraint {} on {} is added without NOT VALID: every row is checked under the lock",
                        if k.conname.is_empty() { "(unnamed)" } else { &k.conname },
                        rangevar_name(rel)
                    )
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{count, run, silent};
    use super::Rule;

    #[test]
    fn flags_check_and_fk_without_not_valid() {
        assert_eq!(
            count(&Rule, "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0);"),
            1
        );
        assert!(silent(
            &Rule,
            "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;"
        ));
        assert_eq!(
            count(
                &Rule,
                "ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES u (id);"
            ),
            1
        );
        assert!(silent(&Rule, "ALTER TABLE t VALIDATE CONSTRAINT c;"));
        let both = "ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES u (id) NOT VALID;\nALTER TABLE t VALIDATE CONSTRAINT f;";
        // One transaction (the file's, or one written in it): flagged.
        assert_eq!(count(&Rule, both), 1);
        assert_eq!(
            run(&Rule, &format!("BEGIN;\n{both}\nCOMMIT;"), true).len(),
            1
        );
        // Separate transactions: fine.
        assert!(run(&Rule, both, true).is_empty());
    }
}
