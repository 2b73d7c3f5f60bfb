//! `redundant_hash_index`: a hash index whose column a valid btree index of the same table
//! leads with (same collation, default operator classes, same or no WHERE clause). The btree
//! answers the same equality lookups, so the hash index only costs writes and space. The
//! btree-only duplicate rules (`duplicate_index`, `redundant_index`) never compare methods.

use serde_json::json;

use super::{create_concurrently, drop_index, droppable, indexes_with_columns, Check};
use crate::analyze::doctor::CheckInfo;
use crate::analyze::thresholds::Thresholds;
use crate::analyze::{Finding, Priority, Severity};
use crate::checks::CheckId;
use crate::cli::Section;
use crate::snapshot::Snapshot;
use crate::util::{human_bytes, qualified};

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::RedundantHashIndex,
        section: Section::Indexes,
        summary: "hash index whose column a btree index of the same table leads with",
    },
    severity: Severity::Warning,
    thresholds: &[],
    sql: &["doctor_indexes.sql"],
    missing: super::needs_index_columns,
    run,
};

pub fn run(snap: &Snapshot, _th: &Thresholds) -> Vec<Finding> {
    let all = indexes_with_columns(snap);
    let mut out = Vec::new();
    for (h, hf) in &all {
        if h.method != "hash" || !droppable(h) || h.expressions.is_some() {
            continue;
        }
        let (Some(&att), Some(&hcoll)) = (h.attnums.first(), h.collations.first()) else {
            continue;
        };
        if att == 0 || !hf.key_default_opclass.first().copied().unwrap_or(false) {
            continue;
        }
        // The narrowest btree that serves the hash index's lookups.
        let cover = all
            .iter()
            .filter(|(b, bf)| {
                b.table_oid == h.table_oid
                    && b.method == "btree"
                    && b.is_valid
                    && b.attnums.first() == Some(&att)
                    && b.collations.first() == Some(&hcoll)
                    && bf.key_default_opclass.first().copied().unwrap_or(false)
                    && (b.predicate.is_none() || b.predicate == h.predicate)
            })
            .min_by_key(|(b, _)| (b.key_count, b.attnums.len(), b.name.clone()));
        let Some((b, _)) = cover else { continue };
        let exact = b.key_count == 1;
        // The drop is advised only while the btree cannot itself be advised away as unused: it
        // enforces a constraint or uniqueness, or queries scan it. (A duplicate or redundant
        // btree's keeper leads with the same column, so it still covers the hash index.)
        let cover_stays = b.constraint_name.is_some() || b.is_unique || b.idx_scan > 0;
        let table = qualified(&h.schema, &h.table);
        let name = qualified(&h.schema, &h.name);
        let bname = qualified(&b.schema, &b.name);
        let mut f = Finding::new(
            CHECK.info.id,
            if exact {
                Severity::Warning
            } else {
                Severity::Info
            },
            if exact {
                Priority::Medium
            } else {
                Priority::Low
            },
            name.clone(),
            format!(
                "hash index {name} ({}) on {table} is covered by btree index {bname}, which \
                     {} the same column: the btree answers the same equality lookups{}",
                human_bytes(h.bytes),
                if exact { "indexes" } else { "leads with" },
                if h.predicate.is_some() && b.predicate.is_none() {
                    " (and more rows than the hash index's WHERE clause)"
                } else {
                    ""
                }
            ),
        )
        .table(table)
        .detail(json!({
            "index_bytes": h.bytes,
            "idx_scan": h.idx_scan,
            "covered_by": bname,
            "covered_by_definition": b.definition,
            "exact": exact,
            "cover_in_use": cover_stays,
            "definition": h.definition,
        }));
        if cover_stays {
            f = f.fix(drop_index(h), Some(create_concurrently(h)));
        } else {
            f.message.push_str(&format!(
                "; no drop is proposed while {bname} itself is never scanned"
            ));
        }
        out.push(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{facts, index, snapshot, table};
    use serde_json::json;

    fn hash(oid: i64, table_oid: i64, t: &str, name: &str, col: (i16, &str)) -> serde_json::Value {
        let mut v = index(oid, table_oid, t, name, &[col]);
        v["method"] = json!("hash");
        v["opclasses"] = json!([1995]);
        v
    }

    #[test]
    fn hash_covered_by_btree_lead_only_with_same_collation_and_opclass() {
        let mut collated = index(22, 2, "clients", "last_name_c", &[(2, "last_name")]);
        collated["collations"] = json!([950]);
        let mut pattern = index(32, 3, "orders", "code_pattern", &[(2, "code")]);
        pattern["opclasses"] = json!([10053]);
        let mut pf = facts(32, &[("text", "S", true)]);
        pf["key_default_opclass"] = json!([false]);
        let s = snapshot(
            vec![
                table(1, "accounts"),
                table(2, "clients"),
                table(3, "orders"),
            ],
            vec![
                hash(11, 1, "accounts", "h_account_number", (3, "account_number")),
                index(
                    12,
                    1,
                    "accounts",
                    "accounts_account_number_key",
                    &[(3, "account_number")],
                ),
                hash(21, 2, "clients", "h_last_name", (2, "last_name")),
                collated,
                index(
                    23,
                    2,
                    "clients",
                    "last_first",
                    &[(2, "last_name"), (3, "first_name")],
                ),
                hash(31, 3, "orders", "h_code", (2, "code")),
                pattern,
                hash(41, 3, "orders", "h_note", (5, "note")),
            ],
            json!({"index_columns": [
                facts(11, &[("character varying(50)", "S", true)]),
                facts(12, &[("character varying(50)", "S", true)]),
                facts(21, &[("character varying(255)", "S", true)]),
                facts(22, &[("character varying(255)", "S", true)]),
                facts(23, &[("character varying(255)", "S", true), ("character varying(255)", "S", true)]),
                facts(31, &[("text", "S", true)]),
                pf,
                facts(41, &[("text", "S", false)]),
            ]}),
        );
        let f = run(&s, &Thresholds::default());
        let got: Vec<(&str, &str)> = f
            .iter()
            .map(|f| (f.object.as_str(), f.detail["covered_by"].as_str().unwrap()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "public.h_account_number",
                    "public.accounts_account_number_key"
                ),
                ("public.h_last_name", "public.last_first"),
            ]
        );
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(f[1].severity, Severity::Info);
        assert_eq!(
            f[0].fix_sql.as_deref(),
            Some("DROP INDEX CONCURRENTLY IF EXISTS public.h_account_number;")
        );
    }

    #[test]
    fn a_hash_index_without_a_btree_on_its_column_is_not_reported() {
        let s = snapshot(
            vec![table(3, "orders")],
            vec![hash(41, 3, "orders", "h_note", (5, "note"))],
            json!({"index_columns": [facts(41, &[("text", "S", false)])]}),
        );
        assert!(run(&s, &Thresholds::default()).is_empty());
    }
}
