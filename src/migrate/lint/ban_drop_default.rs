//! ban-drop-default: dropping the default of a NOT NULL column breaks INSERTs of code that
//! leaves the column out — typically code deployed before the migration that added it.

use pg_query::protobuf::AlterTableType;
use pg_query::NodeEnum;

use super::{existing_table_cmds_of, FileContext};
use crate::migrate::locks::rangevar_name;

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "ban-drop-default"
    }
    fn help(&self) -> &'static str {
        "Without its default, a NOT NULL column must be written by every INSERT; code that does not know the column yet (deployed before this migration, still running during a rolling deploy) fails. Safe order: add the column with its default and keep the default; deploy code that always writes the column; drop the default in a later migration only after that code runs everywhere (Django: keep a database default with db_default)."
    }
    fn check(&self, stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
        existing_table_cmds_of(stmt, cx, AlterTableType::AtColumnDefault)
            .into_iter()
            .filter(|(_, c)| c.def.is_none())
            .filter_map(|(rel, c)| {
                let t = rangevar_name(rel);
                let Some(col) = cx.schema.column(rel, &c.name) else {
                    // Neither the folder nor the database says what the column is: warn, as
                    // squawk does for every DROP DEFAULT.
                    return Some(format!(
                        "dropping the default of {t}.{}: if the column is NOT NULL, INSERTs that leave it out fail from now on",
                        c.name
                    ));
                };
                if !col.not_null || !col.has_default || col.default_set_at.is_some() {
                    return None;
                }
                Some(match col.added_required_at {
                    Some(line) => format!(
                        "dropping the default of {t}.{} right after adding it as NOT NULL (line {line}): INSERTs from code deployed before this migration leave the column out and fail from now on",
                        c.name
                    ),
                    None => format!(
                        "dropping the default of the NOT NULL column {t}.{}: INSERTs that leave the column out fail from now on",
                        c.name
                    ),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{run, silent};
    use super::Rule;

    #[test]
    fn flags_the_orm_pair_on_an_existing_table() {
        let pair = "ALTER TABLE \"shop_product\" ADD COLUMN \"is_active\" boolean DEFAULT true NOT NULL;\nALTER TABLE \"shop_product\" ALTER COLUMN \"is_active\" DROP DEFAULT;";
        let m = run(&Rule, pair, false);
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(m[0].contains("line 1"), "{m:?}");
    }

    #[test]
    fn silent_when_harmless() {
        // A table created in the same file has no running code writing to it.
        let new = "CREATE TABLE p (id bigint);\nALTER TABLE p ADD COLUMN a boolean DEFAULT true NOT NULL;\nALTER TABLE p ALTER COLUMN a DROP DEFAULT;";
        assert!(silent(&Rule, new));
        // A nullable column: old code gets NULL, as before the default existed.
        let nullable = "ALTER TABLE p ADD COLUMN a boolean DEFAULT true;\nALTER TABLE p ALTER COLUMN a DROP DEFAULT;";
        assert!(silent(&Rule, nullable));
        // Django's four steps for NULL -> NOT NULL: the default set here is only a backfill aid.
        let four = "ALTER TABLE o ALTER COLUMN e SET DEFAULT '';\nUPDATE o SET e = '' WHERE e IS NULL;\nALTER TABLE o ALTER COLUMN e SET NOT NULL;\nALTER TABLE o ALTER COLUMN e DROP DEFAULT;";
        assert!(silent(&Rule, four));
        // A domain's default is not a column's.
        assert!(silent(&Rule, "ALTER DOMAIN d DROP DEFAULT;"));
        assert!(silent(
            &Rule,
            "ALTER TABLE tbl ALTER COLUMN c SET DEFAULT 1; ALTER TABLE tbl ALTER COLUMN c DROP NOT NULL;"
        ));
    }

    #[test]
    fn an_unknown_column_gets_a_conditional_warning() {
        // After squawk's own test: nothing is known about these columns, so each DROP DEFAULT
        // is reported, naming the condition under which it breaks INSERTs. Once per column: after
        // the first, the file itself says the column has no default.
        let sql = "ALTER TABLE tbl ALTER COLUMN c DROP DEFAULT;\nALTER TABLE IF EXISTS tbl ALTER COLUMN c DROP DEFAULT;\nALTER TABLE tbl ALTER COLUMN c DROP DEFAULT, ALTER COLUMN d DROP DEFAULT;";
        let m = run(&Rule, sql, false);
        assert_eq!(m.len(), 2, "{m:?}");
        assert!(m[0].contains("tbl.c: if the column is NOT NULL"), "{m:?}");
        assert!(m[1].contains("tbl.d: if the column is NOT NULL"), "{m:?}");
    }
}
