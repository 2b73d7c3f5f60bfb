//! ban-alter-domain-with-add-constraint: a constraint added to a domain checks every column using it.

use pg_query::NodeEnum;

use super::FileContext;

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "ban-alter-domain-with-add-constraint"
    }
    fn help(&self) -> &'static str {
        "ALTER DOMAIN ... ADD CONSTRAINT checks every row of every table with a column of that domain while holding locks on them, and a later change of the rule is awkward. Put the CHECK on the table columns instead (added NOT VALID, then validated)."
    }
    fn check(&self, stmt: &NodeEnum, _cx: &FileContext) -> Vec<String> {
        match stmt {
            // `C` is PostgreSQL's code for ADD CONSTRAINT in AlterDomainStmt.
            NodeEnum::AlterDomainStmt(s) if s.subtype == "C" => {
                vec!["ALTER DOMAIN ... ADD CONSTRAINT scans every column of the domain".into()]
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
    fn flags_add_constraint_only() {
        assert_eq!(
            count(&Rule, "ALTER DOMAIN d ADD CONSTRAINT c CHECK (value > 0);"),
            1
        );
        for ok in [
            "ALTER DOMAIN d SET NOT NULL;",
            "ALTER DOMAIN d DROP CONSTRAINT c;",
            "ALTER DOMAIN d VALIDATE CONSTRAINT c;",
            "ALTER DOMAIN d RENAME TO e;",
        ] {
            assert!(silent(&Rule, ok), "{ok}");
        }
    }
}
