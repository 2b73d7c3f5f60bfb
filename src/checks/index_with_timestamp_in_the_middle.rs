//! `index_with_timestamp_in_the_middle`: a multi-column index with a timestamp or timestamptz
//! key column (or an expression of that type) before its last key column. A timestamp is
//! almost always searched by range, and a btree cannot use the columns after a range
//! condition to narrow the scan: equality columns first, then sort, then range.

use serde_json::json;

use super::index_groups::index_finding;
use super::{indexes_with_columns, needs_index_columns, Check};
use crate::analyze::doctor::CheckInfo;
use crate::analyze::thresholds::Thresholds;
use crate::analyze::{Finding, Priority, Severity};
use crate::checks::CheckId;
use crate::cli::Section;
use crate::snapshot::Snapshot;
use crate::util::qualified;

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::IndexWithTimestampInTheMiddle,
        section: Section::Indexes,
        summary: "index with a timestamp key column before its last key column",
    },
    severity: Severity::Info,
    thresholds: &[],
    sql: &["doctor_indexes.sql"],
    missing: needs_index_columns,
    run,
};

fn is_timestamp(t: &str) -> bool {
    t.starts_with("timestamp")
}

pub fn run(snap: &Snapshot, _th: &Thresholds) -> Vec<Finding> {
    let mut out = Vec::new();
    for (ix, facts) in indexes_with_columns(snap) {
        let n = facts.key_types.len();
        if ix.is_unique || !ix.is_valid || !ix.is_ready || n < 2 {
            continue;
        }
        // A column's own type, else (an expression) its operator class's input type.
        let ty = |i: usize| -> &str {
            match facts.key_types[i].as_str() {
                "" => facts
                    .key_opclass_types
                    .get(i)
                    .map(|t| t.as_str())
                    .unwrap_or(""),
                t => t,
            }
        };
        let Some(pos) = (0..n - 1).find(|&i| is_timestamp(ty(i))) else {
            continue;
        };
        let table = qualified(&ix.schema, &ix.table);
        let name = qualified(&ix.schema, &ix.name);
        let col = ix.column_name(pos).unwrap_or("an expression").to_string();
        out.push(
            index_finding(
                CHECK.info.id,
                CHECK.severity,
                Priority::Low,
                ix,
                format!(
                    "index {name} on {table} has the timestamp key {col} ({}) at position {} of \
                     {n}: a range on it stops the columns after it from narrowing the scan; put \
                     equality columns first and the timestamp last",
                    ty(pos),
                    pos + 1
                ),
            )
            .detail(json!({
                "column": col,
                "position": pos + 1,
                "key_columns": n,
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
    fn a_timestamp_before_the_last_key_column_is_reported() {
        let ts = ("timestamp without time zone", "D", false);
        let int = ("integer", "N", true);
        let txt = ("text", "S", false);
        let mut uniq = index(
            15,
            1,
            "t-multi",
            "idx_unique_ts",
            &[(1, "id"), (2, "ts"), (1, "id")],
        );
        uniq["is_unique"] = json!(true);
        let mut expr = index(
            14,
            1,
            "t-multi",
            "idx_multi_expr_first",
            &[(0, ""), (1, "id"), (4, "name")],
        );
        expr["columns"] = json!([null, "id", "name"]);
        let mut expr_facts = facts(14, &[("", "", false), int, txt]);
        expr_facts["key_opclass_types"] = json!(["timestamp without time zone", "integer", "text"]);
        let s = snapshot(
            vec![table(1, "t-multi")],
            vec![
                index(
                    11,
                    1,
                    "t-multi",
                    "idx_multi_mid",
                    &[(1, "id"), (2, "ts"), (4, "name")],
                ),
                index(
                    12,
                    1,
                    "t-multi",
                    "idx_multi_end",
                    &[(1, "id"), (4, "name"), (2, "ts")],
                ),
                index(
                    13,
                    1,
                    "t-multi",
                    "idx_multi_none",
                    &[(1, "id"), (4, "name")],
                ),
                expr,
                uniq,
            ],
            json!({"index_columns": [
                facts(11, &[int, ts, txt]),
                facts(12, &[int, txt, ts]),
                facts(13, &[int, txt]),
                expr_facts,
                facts(15, &[int, ts, int]),
            ]}),
        );
        let f = run(&s, &Thresholds::default());
        let objects: Vec<&str> = f.iter().map(|x| x.object.as_str()).collect();
        assert_eq!(
            objects,
            ["public.idx_multi_mid", "public.idx_multi_expr_first"]
        );
        assert_eq!(f[0].detail["position"], 2);
        assert_eq!(f[1].detail["column"], "an expression");
    }

    #[test]
    fn nothing_of_the_kind_gives_no_finding() {
        let s = crate::checks::testkit::snapshot(
            vec![],
            vec![],
            serde_json::json!({"index_columns": []}),
        );
        assert!(run(&s, &Thresholds::default()).is_empty());
    }
}
