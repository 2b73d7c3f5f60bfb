//! `json_column`: a column of type json. jsonb stores the parsed value: it is faster to query,
//! compares by value, and can be indexed with GIN; json only keeps the text (key order and
//! duplicate keys, which is rarely wanted).

use serde_json::json;

use super::Check;
use crate::analyze::doctor::CheckInfo;
use crate::analyze::thresholds::Thresholds;
use crate::analyze::{Finding, Priority, Severity};
use crate::checks::CheckId;
use crate::cli::Section;
use crate::snapshot::Snapshot;
use crate::util::{qualified, quote_ident};

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::JsonColumn,
        section: Section::Tables,
        summary: "column of type json (jsonb is the better default)",
    },
    severity: Severity::Info,
    thresholds: &[],
    sql: &["health_json_columns.sql"],
    missing: |s| s.health.json_columns.is_none().then_some("json_columns"),
    run,
};

pub fn run(snap: &Snapshot, _th: &Thresholds) -> Vec<Finding> {
    let mut out = Vec::new();
    for c in snap.health.json_columns.as_deref().unwrap_or(&[]) {
        let table = qualified(&c.schema, &c.table);
        let col = quote_ident(&c.column);
        out.push(
            Finding::new(
                CHECK.info.id,
                CHECK.severity,
                Priority::Low,
                format!("{table}.{col}"),
                format!(
                    "column {table}.{col} is json: jsonb is faster to query, compares by value \
                     and can be indexed with GIN (the ALTER rewrites the table under an ACCESS \
                     EXCLUSIVE lock; json keeps key order and duplicate keys, jsonb does not)"
                ),
            )
            .table(table.clone())
            .detail(json!({ "column": c.column }))
            .fix(
                format!("ALTER TABLE {table} ALTER COLUMN {col} TYPE jsonb USING {col}::jsonb;"),
                Some(format!(
                    "ALTER TABLE {table} ALTER COLUMN {col} TYPE json USING {col}::json;"
                )),
            ),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_finding_per_json_column() {
        let s = crate::checks::testkit::snapshot(
            vec![],
            vec![],
            json!({"json_columns": [{"schema": "public", "table": "clients", "column": "info"}]}),
        );
        let f = run(&s, &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].object, "public.clients.info");
        assert_eq!(
            f[0].fix_sql.as_deref(),
            Some("ALTER TABLE public.clients ALTER COLUMN info TYPE jsonb USING info::jsonb;")
        );
    }

    #[test]
    fn no_json_column_no_finding() {
        let none = crate::checks::testkit::snapshot(vec![], vec![], json!({"json_columns": []}));
        assert!(run(&none, &Thresholds::default()).is_empty());
    }
}
