//! ban-drop-constraint (style): dropping a table's or a domain's constraint removes a guarantee
//! that code may assume.

use pg_query::protobuf::AlterTableType;
use pg_query::NodeEnum;

use super::{added_constraint, alter_cmds, existing_table_cmds_of, FileContext};
use crate::migrate::locks::rangevar_name;

pub struct Rule;

/// The constraint names this file adds to `table` (by ADD CONSTRAINT) anywhere in it.
fn added_in_file(cx: &FileContext, table: &str) -> Vec<String> {
    cx.all
        .iter()
        .flat_map(alter_cmds)
        .filter(|(rel, _)| rangevar_name(rel) == table)
        .filter_map(|(_, c)| Some(added_constraint(c)?.conname.clone()))
        .collect()
}

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "ban-drop-constraint"
    }
    fn help(&self) -> &'static str {
        "Without the constraint, rows that break it can be written, and code that counts on it (a unique key behind ON CONFLICT, a foreign key it never checks itself) may misbehave. A style note: dropping a constraint blocks no query and fails none. Not reported when the same file adds a constraint of that name (a replacement, or a helper CHECK dropped after SET NOT NULL)."
    }
    fn check(&self, stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
        match stmt {
            NodeEnum::AlterDomainStmt(s) if s.subtype == "X" => {
                vec![format!("dropping constraint {} of a domain", s.name)]
            }
            _ => existing_table_cmds_of(stmt, cx, AlterTableType::AtDropConstraint)
                .into_iter()
                .filter_map(|(rel, c)| {
                    let table = rangevar_name(rel);
                    if cx.undoes.contains(&table) || added_in_file(cx, &table).contains(&c.name) {
                        return None;
                    }
                    Some(format!(
                        "dropping constraint {} of {table} removes the guarantee it gave",
                        c.name
                    ))
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{count, silent};
    use super::Rule;

    // After squawk's own tests (v2.68.0), positive and negative.
    #[test]
    fn flags_dropped_constraints() {
        assert_eq!(
            count(&Rule, "ALTER TABLE t DROP CONSTRAINT IF EXISTS c;"),
            1
        );
        assert_eq!(
            count(
                &Rule,
                "ALTER DOMAIN d DROP CONSTRAINT c; ALTER FOREIGN TABLE ft DROP CONSTRAINT c;"
            ),
            2
        );
        assert!(silent(
            &Rule,
            "ALTER TABLE t ADD CONSTRAINT c CHECK (id > 0);"
        ));
    }

    #[test]
    fn a_constraint_the_file_adds_is_not_reported() {
        // The robust form prefer-robust-stmts asks for: drop, then add again.
        assert!(silent(
            &Rule,
            "ALTER TABLE t DROP CONSTRAINT IF EXISTS c;\nALTER TABLE t ADD CONSTRAINT c CHECK (id > 0);"
        ));
        // The helper CHECK of the safe SET NOT NULL recipe.
        assert!(silent(
            &Rule,
            "ALTER TABLE foo ADD CONSTRAINT bar_nn CHECK (bar IS NOT NULL) NOT VALID;\nALTER TABLE foo VALIDATE CONSTRAINT bar_nn;\nALTER TABLE foo ALTER COLUMN bar SET NOT NULL;\nALTER TABLE foo DROP CONSTRAINT bar_nn;"
        ));
        // Another table's constraint of the same name is no replacement.
        assert_eq!(
            count(
                &Rule,
                "ALTER TABLE t DROP CONSTRAINT c;\nALTER TABLE u ADD CONSTRAINT c CHECK (id > 0);"
            ),
            1
        );
    }
}
