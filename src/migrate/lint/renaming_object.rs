//! renaming-object: renaming anything but a table or a column (which have rules of their own)
//! breaks code that uses the old name.

use pg_query::protobuf::ObjectType;
use pg_query::NodeEnum;

use super::{object_noun, FileContext};

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "renaming-object"
    }
    fn help(&self) -> &'static str {
        "Code deployed before the migration still uses the old name (of a view, function, type, enum value, sequence, schema, index, constraint, role, ...) and fails until it is replaced. Create the object under the new name next to the old one, move clients over, then drop the old name."
    }
    fn check(&self, stmt: &NodeEnum, _cx: &FileContext) -> Vec<String> {
        match stmt {
            NodeEnum::RenameStmt(s) => {
                let Ok(kind) = ObjectType::try_from(s.rename_type) else {
                    return vec![];
                };
                if matches!(kind, ObjectType::ObjectTable | ObjectType::ObjectColumn) {
                    // renaming-table and renaming-column.
                    return vec![];
                }
                vec![format!(
                    "renaming a {} to {}: code that uses the old name fails",
                    object_noun(s.rename_type),
                    s.newname
                )]
            }
            NodeEnum::AlterEnumStmt(s) if !s.old_val.is_empty() => vec![format!(
                "renaming enum value '{}' to '{}': code that writes or compares the old value fails",
                s.old_val, s.new_val
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
    fn flags_renames_of_other_objects() {
        let sql = "ALTER VIEW v RENAME TO v2; ALTER MATERIALIZED VIEW mv RENAME TO mv2; ALTER FUNCTION f() RENAME TO f2; ALTER PROCEDURE p() RENAME TO p2; ALTER TYPE typ RENAME TO typ2; ALTER SEQUENCE seq RENAME TO seq2; ALTER SCHEMA s RENAME TO s2; ALTER DOMAIN d RENAME TO d2; ALTER INDEX i RENAME TO i2; ALTER TYPE typ RENAME VALUE 'a' TO 'b';";
        assert_eq!(count(&Rule, sql), 10);
        assert_eq!(count(&Rule, "ALTER AGGREGATE agg(int) RENAME TO agg2;"), 1);
        let other = "ALTER FOREIGN TABLE ft RENAME TO ft2; ALTER ROUTINE f() RENAME TO g; ALTER TABLE t RENAME CONSTRAINT old TO renamed; ALTER DOMAIN d RENAME CONSTRAINT old TO renamed; ALTER ROLE app RENAME TO app2; ALTER USER app RENAME TO app2; ALTER GROUP app RENAME TO app2; ALTER DATABASE db RENAME TO db2; ALTER TRIGGER tr ON t RENAME TO tr2; ALTER POLICY p ON t RENAME TO p2;";
        assert_eq!(count(&Rule, other), 10);
        for ok in [
            "ALTER TABLE t RENAME TO t2; ALTER TABLE t RENAME COLUMN c TO d;",
            "ALTER AGGREGATE agg(int) OWNER TO app;",
            "ALTER POLICY p ON t USING (true);",
            "ALTER TYPE typ ADD VALUE 'c' AFTER 'b';",
        ] {
            assert!(silent(&Rule, ok), "{ok}");
        }
    }
}
