//! adding-foreign-key-constraint: a foreign key added without NOT VALID blocks writes on both tables while it scans.

use pg_query::protobuf::ConstrType;
use pg_query::NodeEnum;

use super::{constraints_added_to_existing, FileContext};
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
        // `ADD CONSTRAINT ... FOREIGN KEY` or `ADD COLUMN ... REFERENCES`.
        constraints_added_to_existing(stmt, cx, ConstrType::ConstrForeign)
            .into_iter()
            .filter(|(_, k)| !k.skip_validation)
            .map(|(rel, k)| {
                let other = k.pktable.as_ref().map(rangevar_name).unwrap_or_default();
                format!(
                    "foreign key on {} takes SHARE ROW EXCLUSIVE on {} and {other} and scans every row",
                    rangevar_name(rel),
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
    fn flags_fk_without_not_valid() {
        let sql = "ALTER TABLE orders ADD CONSTRAINT f FOREIGN KEY (customer_id) REFERENCES customers (id);";
        assert_eq!(count(&Rule, sql), 1);
        let safe = "ALTER TABLE orders ADD CONSTRAINT f FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;";
        assert!(silent(&Rule, safe));
    }
}
