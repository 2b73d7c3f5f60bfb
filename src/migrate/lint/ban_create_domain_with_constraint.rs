//! ban-create-domain-with-constraint: constraints on a domain are hard to change later.

use pg_query::protobuf::ConstrType;
use pg_query::NodeEnum;

use super::FileContext;

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "ban-create-domain-with-constraint"
    }
    fn help(&self) -> &'static str {
        "Changing a domain's constraint later re-checks every column of that domain in every table under lock. Keep the domain plain and put CHECK constraints on the table columns."
    }
    fn check(&self, stmt: &NodeEnum, _cx: &FileContext) -> Vec<String> {
        let NodeEnum::CreateDomainStmt(s) = stmt else {
            return vec![];
        };
        let constrained = s.constraints.iter().any(|c| {
            matches!(c.node.as_ref(), Some(NodeEnum::Constraint(k))
                if k.contype != ConstrType::ConstrNull as i32)
        });
        if constrained {
            vec!["CREATE DOMAIN with a constraint".into()]
        } else {
            vec![]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{count, silent};
    use super::Rule;

    #[test]
    fn flags_domain_constraints() {
        assert_eq!(
            count(&Rule, "CREATE DOMAIN d AS numeric CHECK (value > 0);"),
            1
        );
        assert_eq!(
            count(&Rule, "CREATE DOMAIN d AS int CHECK (value > 0) NOT NULL;"),
            1
        );
        assert!(silent(&Rule, "CREATE DOMAIN d AS text;"));
    }
}
