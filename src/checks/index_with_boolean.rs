//! `index_with_boolean`: an index with a boolean key column. Two values split the rows in at
//! most two halves: leading with one wastes the index, and a partial index (`WHERE flag` or
//! `WHERE NOT flag`) on the rarer value is smaller and serves the same lookups.

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
        id: CheckId::IndexWithBoolean,
        section: Section::Indexes,
        summary: "index with a boolean key column (a partial index fits better)",
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
        if ix.is_primary {
            continue;
        }
        let Some(pos) = facts.key_categories.iter().position(|c| c == "B") else {
            continue;
        };
        let col = ix.column_name(pos).unwrap_or_default().to_string();
        let leading = pos == 0;
        let table = qualified(&ix.schema, &ix.table);
        let name = qualified(&ix.schema, &ix.name);
        let message = if leading {
            format!(
                "index {name} on {table} leads with the boolean column {}: it splits the rows \
                 in two at best; index the rarer value with a partial index (WHERE {} or WHERE \
                 NOT {}) on the other columns instead",
                quote_ident(&col),
                quote_ident(&col),
                quote_ident(&col)
            )
        } else {
            format!(
                "index {name} on {table} has the boolean key column {}: a partial index \
                 (WHERE {} or WHERE NOT {}) without it is usually smaller{}",
                quote_ident(&col),
                quote_ident(&col),
                quote_ident(&col),
                if ix.is_unique {
                    " (here it is part of a uniqueness rule: keep it if that rule needs it)"
                } else {
                    ""
                }
            )
        };
        out.push(
            index_finding(
                CHECK.info.id,
                if leading {
                    Severity::Warning
                } else {
                    Severity::Info
                },
                if leading {
                    Priority::Medium
                } else {
                    Priority::Low
                },
                ix,
                message,
            )
            .detail(json!({
                "column": col,
                "position": pos + 1,
                "leading": leading,
                "unique": ix.is_unique,
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
    fn leading_boolean_warns_and_second_place_informs() {
        let mut uniq = index(
            12,
            1,
            "accounts",
            "number_deleted",
            &[(3, "account_number"), (5, "deleted")],
        );
        uniq["is_unique"] = json!(true);
        let s = snapshot(
            vec![table(1, "accounts")],
            vec![
                index(11, 1, "accounts", "by_deleted", &[(5, "deleted")]),
                uniq,
                index(13, 1, "accounts", "by_number", &[(3, "account_number")]),
            ],
            json!({"index_columns": [
                facts(11, &[("boolean", "B", true)]),
                facts(12, &[("character varying(50)", "S", true), ("boolean", "B", true)]),
                facts(13, &[("character varying(50)", "S", true)]),
            ]}),
        );
        let f = run(&s, &Thresholds::default());
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].object, "public.by_deleted");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(f[1].object, "public.number_deleted");
        assert_eq!(f[1].severity, Severity::Info);
        assert_eq!(f[1].detail["position"], 2);
    }

    #[test]
    fn indexes_without_boolean_keys_are_not_reported() {
        let s = snapshot(
            vec![table(1, "accounts")],
            vec![index(
                13,
                1,
                "accounts",
                "by_number",
                &[(3, "account_number")],
            )],
            json!({"index_columns": [facts(13, &[("character varying(50)", "S", true)])]}),
        );
        assert!(run(&s, &Thresholds::default()).is_empty());
    }
}
