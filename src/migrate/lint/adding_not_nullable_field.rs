//! adding-not-nullable-field: `SET NOT NULL` scans the table under ACCESS EXCLUSIVE.

use pg_query::protobuf::{AlterTableType, ConstrType, NullTestType, RangeVar};
use pg_query::NodeEnum;

use super::{
    added_constraint, alter_cmds, column_path, existing_table_cmds_of, subtype, FileContext,
};
use crate::migrate::locks::rangevar_name;

pub struct Rule;

/// `expr` is `<col> IS NOT NULL`.
fn is_not_null_of(expr: Option<&pg_query::Node>, col: &str) -> bool {
    let Some(NodeEnum::NullTest(t)) = expr.and_then(|e| e.node.as_ref()) else {
        return false;
    };
    if t.nulltesttype != NullTestType::IsNotNull as i32 {
        return false;
    }
    match t.arg.as_ref().and_then(|a| a.node.as_ref()) {
        Some(NodeEnum::ColumnRef(c)) => matches!(
            c.fields.last().and_then(|f| f.node.as_ref()),
            Some(NodeEnum::String(s)) if s.sval == col
        ),
        _ => false,
    }
}

/// An earlier VALIDATE CONSTRAINT on the table proves the column NOT NULL: its CHECK, when the
/// file adds it, tests this very column; one added by an earlier migration is trusted.
fn proven(rel: &RangeVar, col: &str, cx: &FileContext) -> bool {
    let table = rangevar_name(rel);
    let earlier = &cx.all[..cx.index.min(cx.all.len())];
    let mut validated = Vec::new();
    for n in earlier {
        for (r, c) in alter_cmds(n) {
            if rangevar_name(r) == table && subtype(c) == AlterTableType::AtValidateConstraint {
                validated.push(c.name.clone());
            }
        }
    }
    validated.iter().any(|name| {
        let added = earlier.iter().flat_map(alter_cmds).find_map(|(r, c)| {
            let k = added_constraint(c)?;
            (rangevar_name(r) == table && &k.conname == name).then_some(k)
        });
        match added {
            None => true,
            Some(k) => {
                k.contype == ConstrType::ConstrCheck as i32
                    && is_not_null_of(k.raw_expr.as_deref(), col)
            }
        }
    })
}

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "adding-not-nullable-field"
    }
    fn help(&self) -> &'static str {
        "SET NOT NULL reads the whole table under ACCESS EXCLUSIVE unless a validated CHECK (col IS NOT NULL) already proves it (PostgreSQL 12+). First ADD CONSTRAINT ... CHECK (col IS NOT NULL) NOT VALID, then VALIDATE CONSTRAINT (a weaker lock), then SET NOT NULL, then drop the CHECK. Deploy order: code still running that writes NULL fails from then on, so deploy code that always writes the column (and backfill) before this migration."
    }
    fn check(&self, stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
        existing_table_cmds_of(stmt, cx, AlterTableType::AtSetNotNull)
            .into_iter()
            // Before PostgreSQL 12 SET NOT NULL ignores CHECK constraints.
            .filter(|(rel, c)| cx.pg_below(12) || !proven(rel, &c.name, cx))
            .map(|(rel, c)| {
                format!(
                    "SET NOT NULL on {} scans the table under ACCESS EXCLUSIVE (no validated CHECK before it)",
                    column_path(rel, &c.name)
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
    fn flags_set_not_null_without_validated_check() {
        assert_eq!(
            count(
                &Rule,
                "ALTER TABLE orders ALTER COLUMN status SET NOT NULL;"
            ),
            1
        );
        let safe = "ALTER TABLE orders VALIDATE CONSTRAINT status_nn;\nALTER TABLE orders ALTER COLUMN status SET NOT NULL;";
        assert!(silent(&Rule, safe));
        assert_eq!(
            count(&Rule, &format!("-- dbdoctor:pg-version 11\n{safe}")),
            1
        );
        let other_column = "ALTER TABLE foo ADD CONSTRAINT baz_nn CHECK (baz IS NOT NULL) NOT VALID;\nALTER TABLE foo VALIDATE CONSTRAINT baz_nn;\nALTER TABLE foo ALTER COLUMN bar SET NOT NULL;";
        assert_eq!(count(&Rule, other_column), 1);
        let same_column = other_column.replace("(baz IS", "(bar IS");
        assert!(silent(&Rule, &same_column));
        let not_validated = "ALTER TABLE foo ADD CONSTRAINT bar_nn CHECK (bar IS NOT NULL) NOT VALID;\nALTER TABLE foo ALTER COLUMN bar SET NOT NULL;";
        assert_eq!(count(&Rule, not_validated), 1);
    }
}
