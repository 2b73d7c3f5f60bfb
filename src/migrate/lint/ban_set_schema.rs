//! ban-set-schema: `ALTER ... SET SCHEMA` moves an object away from the name code uses.

use pg_query::NodeEnum;

use super::{object_noun, FileContext};

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "ban-set-schema"
    }
    fn help(&self) -> &'static str {
        "Code that names the object with its old schema, or finds it through a search_path without the new one, fails once it moves. Create the object in the new schema (or a view or wrapper there), move clients over, then drop the old one."
    }
    fn check(&self, stmt: &NodeEnum, _cx: &FileContext) -> Vec<String> {
        match stmt {
            NodeEnum::AlterObjectSchemaStmt(s) => vec![format!(
                "moving a {} to schema {}: code that uses the old name fails",
                object_noun(s.object_type),
                s.newschema
            )],
            _ => vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{count, silent};
    use super::Rule;

    // After squawk's own tests (v2.68.0), positive and negative.
    #[test]
    fn flags_every_move_to_another_schema() {
        let sql = "ALTER TABLE t SET SCHEMA s; ALTER VIEW v SET SCHEMA s; ALTER MATERIALIZED VIEW mv SET SCHEMA s; ALTER FUNCTION f() SET SCHEMA s; ALTER TYPE typ SET SCHEMA s; ALTER SEQUENCE seq SET SCHEMA s; ALTER DOMAIN d SET SCHEMA s;";
        assert_eq!(count(&Rule, sql), 7);
        assert!(silent(&Rule, "ALTER TABLE t OWNER TO app;"));
    }
}
