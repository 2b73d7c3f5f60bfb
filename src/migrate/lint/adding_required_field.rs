//! adding-required-field: `ADD COLUMN ... NOT NULL` without a default fails on a populated table.

use pg_query::protobuf::ConstrType;
use pg_query::NodeEnum;

use super::{column_constraints, columns_added_to_existing, FileContext};
use crate::migrate::locks::rangevar_name;

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "adding-required-field"
    }
    fn help(&self) -> &'static str {
        "Adding a NOT NULL column without a default fails as soon as the table has a row, and breaks old application code that inserts without it. Add the column nullable (or with a constant DEFAULT), backfill, then enforce NOT NULL through a CHECK ... NOT VALID that you validate."
    }
    fn check(&self, stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
        let mut out = Vec::new();
        for (rel, col) in columns_added_to_existing(stmt, cx) {
            let cons = column_constraints(col);
            let has = |t: ConstrType| cons.iter().any(|c| c.contype == t as i32);
            let not_null = col.is_not_null || has(ConstrType::ConstrNotnull);
            let filled = has(ConstrType::ConstrDefault)
                || has(ConstrType::ConstrGenerated)
                || has(ConstrType::ConstrIdentity)
                || col.raw_default.is_some();
            if not_null && !filled {
                out.push(format!(
                    "column {} is added to {} as NOT NULL without a default",
                    col.colname,
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
    fn flags_not_null_without_default() {
        assert_eq!(
            count(&Rule, "ALTER TABLE orders ADD COLUMN region text NOT NULL;"),
            1
        );
        assert!(silent(
            &Rule,
            "ALTER TABLE orders ADD COLUMN region text NOT NULL DEFAULT 'eu';"
        ));
        assert!(silent(&Rule, "ALTER TABLE orders ADD COLUMN region text;"));
    }
}
