//! `btree_index_on_array`: a btree index with an array key column. A btree compares whole
//! arrays (only `=`, `<`, `>` on the entire value); containment and overlap (`@>`, `&&`,
//! `= ANY`) need GIN, and large arrays make the btree entries huge.

use serde_json::json;

use super::index_groups::index_finding;
use super::{indexes_with_columns, needs_index_columns, Check};
use crate::analyze::doctor::CheckInfo;
use crate::analyze::thresholds::Thresholds;
use crate::analyze::{Finding, Priority, Severity};
use crate::checks::CheckId;
use crate::cli::Section;
use crate::snapshot::Snapshot;
use crate::util::{qualified, quote_ident};

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::BtreeIndexOnArray,
        section: Section::Indexes,
        summary: "btree index with an array key column (GIN serves array searches)",
    },
    severity: Severity::Warning,
    thresholds: &[],
    sql: &["doctor_indexes.sql"],
    missing: needs_index_columns,
    run,
};

pub fn run(snap: &Snapshot, _th: &Thresholds) -> Vec<Finding> {
    let mut out = Vec::new();
    for (ix, facts) in indexes_with_columns(snap) {
        if ix.method != "btree" {
            continue;
        }
        let arrays: Vec<(String, String)> = facts
            .key_categories
            .iter()
            .enumerate()
            .filter(|(_, c)| c.as_str() == "A")
            .map(|(i, _)| {
                (
                    ix.column_name(i).unwrap_or_default().to_string(),
                    facts.key_types.get(i).cloned().unwrap_or_default().into(),
                )
            })
            .collect();
        if arrays.is_empty() {
            continue;
        }
        let table = qualified(&ix.schema, &ix.table);
        let cols: Vec<String> = arrays.iter().map(|(c, _)| quote_ident(c)).collect();
        out.push(
            index_finding(
                CHECK.info.id,
                CHECK.severity,
                Priority::Medium,
                ix,
                format!(
                    "btree index {} keys the array column{} {} of {table}: a btree only compares \
                     whole arrays; searches by element (@>, &&, = ANY) need a GIN index \
                     (CREATE INDEX CONCURRENTLY ... USING gin ({}))",
                    qualified(&ix.schema, &ix.name),
                    if arrays.len() == 1 { "" } else { "s" },
                    cols.join(", "),
                    cols.join(", ")
                ),
            )
            .detail(json!({
                "columns": arrays.iter().map(|a| &a.0).collect::<Vec<_>>(),
                "types": arrays.iter().map(|a| &a.1).collect::<Vec<_>>(),
                "index_bytes": ix.bytes,
                "definition": ix.definition,
            })),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{facts, index, snapshot, table};
    use serde_json::json;

    #[test]
    fn array_key_columns_of_btree_indexes_only() {
        let mut gin = index(13, 1, "accounts", "roles_gin", &[(6, "roles")]);
        gin["method"] = json!("gin");
        let mut incl = index(
            14,
            1,
            "accounts",
            "number_incl_roles",
            &[(3, "account_number"), (6, "roles")],
        );
        incl["key_count"] = json!(1);
        let s = snapshot(
            vec![table(1, "accounts")],
            vec![
                index(11, 1, "accounts", "roles_btree", &[(6, "roles")]),
                index(
                    12,
                    1,
                    "accounts",
                    "number_roles",
                    &[(3, "account_number"), (6, "roles")],
                ),
                gin,
                incl,
            ],
            json!({"index_columns": [
                facts(11, &[("text[]", "A", false)]),
                facts(12, &[("character varying(50)", "S", true), ("text[]", "A", false)]),
                facts(13, &[("text[]", "A", false)]),
                facts(14, &[("character varying(50)", "S", true)]),
            ]}),
        );
        let f = run(&s, &Thresholds::default());
        let names: Vec<&str> = f.iter().map(|f| f.object.as_str()).collect();
        assert_eq!(names, vec!["public.roles_btree", "public.number_roles"]);
        assert_eq!(f[0].detail["types"][0], "text[]");
        assert!(f[0].fix_sql.is_none());
    }

    #[test]
    fn scalar_key_columns_are_not_reported() {
        let s = snapshot(
            vec![table(1, "accounts")],
            vec![index(
                11,
                1,
                "accounts",
                "by_number",
                &[(3, "account_number")],
            )],
            json!({"index_columns": [facts(11, &[("character varying(50)", "S", true)])]}),
        );
        assert!(run(&s, &Thresholds::default()).is_empty());
    }
}
