//! require-table-schema (style unless the file includes it): table names must say their schema.

use pg_query::protobuf::{ObjectType, RangeVar};
use pg_query::NodeEnum;

use super::FileContext;

pub struct Rule;

/// A permanent table named without its schema (temporary tables live in their own schema).
fn unqualified(rv: Option<&RangeVar>) -> Option<String> {
    let rv = rv?;
    (rv.schemaname.is_empty() && rv.relpersistence != "t").then(|| rv.relname.clone())
}

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "require-table-schema"
    }
    fn style_unless_included(&self) -> bool {
        true
    }
    fn help(&self) -> &'static str {
        "An unqualified table name resolves through search_path, which can differ between the session that runs the migration and the application. Write schema.table. A style note by default, since most projects keep every table in one schema; `-- dbdoctor:include require-table-schema` makes it a warning."
    }
    fn check(&self, stmt: &NodeEnum, _cx: &FileContext) -> Vec<String> {
        let names: Vec<String> = match stmt {
            NodeEnum::CreateStmt(s) => unqualified(s.relation.as_ref()).into_iter().collect(),
            NodeEnum::CreateTableAsStmt(s) => {
                unqualified(s.into.as_ref().and_then(|i| i.rel.as_ref()))
                    .into_iter()
                    .collect()
            }
            NodeEnum::AlterTableStmt(s) => unqualified(s.relation.as_ref()).into_iter().collect(),
            NodeEnum::DropStmt(s) if s.remove_type == ObjectType::ObjectTable as i32 => s
                .objects
                .iter()
                .filter_map(|o| match o.node.as_ref() {
                    Some(NodeEnum::List(l)) if l.items.len() == 1 => match l.items[0].node.as_ref()
                    {
                        Some(NodeEnum::String(s)) => Some(s.sval.clone()),
                        _ => None,
                    },
                    _ => None,
                })
                .collect(),
            _ => vec![],
        };
        names
            .into_iter()
            .map(|n| format!("table {n} is named without its schema"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{count, severities, silent};
    use super::super::Severity;
    use super::Rule;

    #[test]
    fn style_by_default_and_a_warning_when_included() {
        let of = |sql: &str| severities(sql, |r| r == "require-table-schema");
        let rule = "require-table-schema".to_string();
        let sql = "DROP TABLE t;";
        assert_eq!(of(sql), [(rule.clone(), Severity::Style)]);
        assert_eq!(
            of(&format!("-- dbdoctor:include require-table-schema\n{sql}")),
            [(rule, Severity::Warning)]
        );
    }

    #[test]
    fn flags_unqualified_tables() {
        let on = "-- dbdoctor:include require-table-schema\n";
        for bad in [
            "CREATE TABLE t (id int);",
            "ALTER TABLE t ADD COLUMN n text;",
            "DROP TABLE t;",
            "CREATE TABLE t AS SELECT 1;",
        ] {
            assert_eq!(count(&Rule, &format!("{on}{bad}")), 1, "{bad}");
            assert_eq!(count(&Rule, bad), 1, "a style note by default: {bad}");
        }
        for ok in [
            "CREATE TABLE public.t (id int);",
            "DROP TABLE public.t;",
            "CREATE TEMP TABLE t (id int) ON COMMIT DROP;",
            "CREATE TEMP TABLE t AS SELECT 1;",
        ] {
            assert!(silent(&Rule, &format!("{on}{ok}")), "{ok}");
            assert!(silent(&Rule, ok), "{ok}");
        }
    }
}
