//! `primary_key_with_varchar`: a primary key with a varchar or char column of length 32, 36
//! or 38: the lengths of a UUID written as text (without dashes, with dashes, with braces).
//! The uuid type stores it in 16 bytes instead of 33 to 39, compares faster and rejects
//! malformed values.

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
        id: CheckId::PrimaryKeyWithVarchar,
        section: Section::Indexes,
        summary: "primary key on varchar(32/36/38): a UUID kept as text",
    },
    severity: Severity::Info,
    thresholds: &[],
    sql: &["doctor_indexes.sql"],
    missing: needs_index_columns,
    run,
};

/// `character varying(36)` or `character(36)` with a UUID's text length.
fn uuid_as_text(t: &str) -> bool {
    ["character varying(", "character("].iter().any(|p| {
        t.strip_prefix(p)
            .and_then(|r| r.strip_suffix(')'))
            .is_some_and(|n| matches!(n, "32" | "36" | "38"))
    })
}

pub fn run(snap: &Snapshot, _th: &Thresholds) -> Vec<Finding> {
    let mut out = Vec::new();
    for (ix, facts) in indexes_with_columns(snap) {
        if !ix.is_primary {
            continue;
        }
        let cols: Vec<(String, &str)> = facts
            .key_types
            .iter()
            .enumerate()
            .filter(|(_, t)| uuid_as_text(t))
            .map(|(i, t)| {
                (
                    ix.column_name(i).unwrap_or_default().to_string(),
                    t.as_str(),
                )
            })
            .collect();
        if cols.is_empty() {
            continue;
        }
        let table = qualified(&ix.schema, &ix.table);
        let list: Vec<String> = cols.iter().map(|(c, t)| format!("{c} {t}")).collect();
        out.push(
            index_finding(
                CHECK.info.id,
                CHECK.severity,
                Priority::Low,
                ix,
                format!(
                    "primary key {} of {table} is on {}: the length of a UUID as text; the \
                     uuid type takes 16 bytes, compares faster and rejects malformed values",
                    qualified(&ix.schema, &ix.name),
                    list.join(", ")
                ),
            )
            .detail(json!({
                "columns": cols.iter().map(|c| &c.0).collect::<Vec<_>>(),
                "index_bytes": ix.bytes,
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
    fn uuid_length_text_keys_are_reported() {
        let pk = |oid, t: &str, cols: &[(i16, &str)]| {
            let mut i = index(oid, 1, t, &format!("{t}_pkey"), cols);
            i["is_primary"] = json!(true);
            i["is_unique"] = json!(true);
            i
        };
        let v = |t| (t, "S", true);
        let s = snapshot(
            vec![table(1, "t_varchar_long")],
            vec![
                pk(11, "t-varchar-short", &[(1, "id-short")]),
                pk(12, "t_link", &[(2, "id_long"), (1, "id-short")]),
                pk(13, "clients", &[(1, "code")]),
                index(
                    14,
                    1,
                    "t_varchar_long_not_pk",
                    "by_id_long",
                    &[(1, "id_long")],
                ),
            ],
            json!({"index_columns": [
                facts(11, &[v("character varying(32)")]),
                facts(12, &[v("character varying(36)"), v("character varying(32)")]),
                facts(13, &[v("character varying(40)")]),
                facts(14, &[v("character varying(36)")]),
            ]}),
        );
        let f = run(&s, &Thresholds::default());
        let objects: Vec<&str> = f.iter().map(|x| x.object.as_str()).collect();
        assert_eq!(
            objects,
            ["public.\"t-varchar-short_pkey\"", "public.t_link_pkey"]
        );
        assert_eq!(f[1].detail["columns"], json!(["id_long", "id-short"]));
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
