//! require-enum-value-ordering: `ADD VALUE` without BEFORE/AFTER puts the value last in sort order.

use pg_query::NodeEnum;

use super::FileContext;

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "require-enum-value-ordering"
    }
    fn help(&self) -> &'static str {
        "Enum values sort in declaration order, so ORDER BY and comparisons on the column depend on where a value goes. Say where with ADD VALUE ... BEFORE 'x' or AFTER 'x', even when last is intended."
    }
    fn check(&self, stmt: &NodeEnum, _cx: &FileContext) -> Vec<String> {
        match stmt {
            // A rename has old_val set; ADD VALUE has only new_val.
            NodeEnum::AlterEnumStmt(s)
                if !s.new_val.is_empty()
                    && s.old_val.is_empty()
                    && s.new_val_neighbor.is_empty() =>
            {
                vec![format!(
                    "enum value {:?} is added without BEFORE or AFTER",
                    s.new_val
                )]
            }
            _ => vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{count, silent};
    use super::Rule;

    #[test]
    fn flags_unordered_add_value() {
        assert_eq!(count(&Rule, "ALTER TYPE e ADD VALUE 'v';"), 1);
        assert_eq!(count(&Rule, "ALTER TYPE e ADD VALUE IF NOT EXISTS 'v';"), 1);
        assert!(silent(&Rule, "ALTER TYPE e ADD VALUE 'v' BEFORE 'w';"));
        assert!(silent(&Rule, "ALTER TYPE e ADD VALUE 'v' AFTER 'w';"));
        assert!(silent(&Rule, "ALTER TYPE e RENAME VALUE 'v' TO 'w';"));
    }
}
