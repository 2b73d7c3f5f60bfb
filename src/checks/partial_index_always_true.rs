//! `partial_index_always_true`: a partial index whose WHERE clause only says `col IS NOT NULL`
//! about NOT NULL columns. The clause is always true, so the index holds every row anyway, but
//! the planner can use it only for queries that repeat the clause.

use pg_query::protobuf::{node::Node as N, BoolExprType, NullTestType};
use serde_json::json;

use super::index_groups::index_finding;
use super::{
    create_concurrently, derived_name, drop_index, droppable, indexes_with_columns,
    renamed_definition, Check,
};
use crate::analyze::doctor::CheckInfo;
use crate::analyze::thresholds::Thresholds;
use crate::analyze::{Finding, Priority, Severity};
use crate::checks::CheckId;
use crate::cli::Section;
use crate::snapshot::Snapshot;
use crate::util::{qualified, quote_ident};

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::PartialIndexAlwaysTrue,
        section: Section::Indexes,
        summary: "partial index whose WHERE clause holds for every row",
    },
    severity: Severity::Warning,
    thresholds: &[],
    sql: &["doctor_indexes.sql"],
    missing: super::needs_index_columns,
    run,
};

/// The columns of a predicate made only of `col IS NOT NULL` tests joined by AND; `None` for
/// any other predicate.
pub fn not_null_tests(predicate: &str) -> Option<Vec<String>> {
    let tree = pg_query::parse(&format!("SELECT WHERE {predicate}")).ok()?;
    let stmt = tree.protobuf.stmts.first()?.stmt.as_ref()?.node.as_ref()?;
    let N::SelectStmt(sel) = stmt else {
        return None;
    };
    let mut out = Vec::new();
    collect(sel.where_clause.as_deref()?.node.as_ref()?, &mut out)?;
    Some(out)
}

fn collect(n: &N, out: &mut Vec<String>) -> Option<()> {
    match n {
        N::BoolExpr(b) if b.boolop == BoolExprType::AndExpr as i32 => {
            for a in &b.args {
                collect(a.node.as_ref()?, out)?;
            }
            Some(())
        }
        N::NullTest(t) if t.nulltesttype == NullTestType::IsNotNull as i32 => {
            let N::ColumnRef(c) = t.arg.as_deref()?.node.as_ref()? else {
                return None;
            };
            let [f] = c.fields.as_slice() else {
                return None;
            };
            let Some(N::String(s)) = f.node.as_ref() else {
                return None;
            };
            out.push(s.sval.clone());
            Some(())
        }
        _ => None,
    }
}

pub fn run(snap: &Snapshot, _th: &Thresholds) -> Vec<Finding> {
    let mut out = Vec::new();
    for (ix, facts) in indexes_with_columns(snap) {
        let (Some(pred), Some(not_null)) = (&ix.predicate, &facts.table_not_null_columns) else {
            continue;
        };
        let Some(cols) = not_null_tests(pred) else {
            continue;
        };
        if cols.is_empty() || !cols.iter().all(|c| not_null.iter().any(|n| n == c)) {
            continue;
        }
        let table = qualified(&ix.schema, &ix.table);
        let name = qualified(&ix.schema, &ix.name);
        let mut finding =
            index_finding(
                CHECK.info.id,
                CHECK.severity,
                Priority::Low,
                ix,
                format!(
                "partial index {name} on {table} has WHERE {pred}, but {} NOT NULL: the clause \
                 is always true, yet the planner uses the index only for queries that repeat it; \
                 build it without the WHERE clause",
                if cols.len() == 1 {
                    format!("{} is", quote_ident(&cols[0]))
                } else {
                    format!(
                        "{} are",
                        cols.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ")
                    )
                }
            ),
            )
            .detail(json!({
                "predicate": pred,
                "not_null_columns": cols,
                "index_bytes": ix.bytes,
                "definition": ix.definition,
            }));
        // Rebuilt under a new name without the clause, then the old one dropped.
        if let (true, Some(at)) = (droppable(ix), ix.definition.rfind(" WHERE ")) {
            let full = derived_name(&ix.name, "_full");
            let mut renamed = ix.clone();
            renamed.definition = ix.definition[..at].to_string();
            if let Some(def) = renamed_definition(&renamed, &full) {
                renamed.definition = def;
                let fix = format!("{}\n{}", create_concurrently(&renamed), drop_index(ix));
                renamed.name = full.into();
                let rollback = format!("{}\n{}", create_concurrently(ix), drop_index(&renamed));
                finding = finding.fix(fix, Some(rollback));
            }
        }
        out.push(finding);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{facts, index, snapshot, table};
    use serde_json::json;

    #[test]
    fn predicates_are_read_from_the_parse_tree() {
        assert_eq!(
            not_null_tests("(id_ref IS NOT NULL)"),
            Some(vec!["id_ref".into()])
        );
        assert_eq!(
            not_null_tests("((\"first-ref\" IS NOT NULL) AND (b IS NOT NULL))"),
            Some(vec!["first-ref".into(), "b".into()])
        );
        assert_eq!(not_null_tests("(a IS NULL)"), None);
        assert_eq!(not_null_tests("((a IS NOT NULL) OR (b IS NOT NULL))"), None);
        assert_eq!(not_null_tests("(a > 0)"), None);
    }

    #[test]
    fn only_clauses_on_not_null_columns() {
        let with_pred = |oid, name: &str, col: (i16, &str), pred: &str| {
            let mut v = index(oid, 1, "t2", name, &[col]);
            v["predicate"] = json!(pred);
            v["definition"] = json!(format!(
                "CREATE INDEX {name} ON public.t2 USING btree ({}) WHERE {pred}",
                col.1
            ));
            v
        };
        let mut f1 = facts(11, &[("bigint", "N", true)]);
        f1["table_not_null_columns"] = json!(["first_ref", "second_ref"]);
        let mut f2 = facts(12, &[("bigint", "N", false)]);
        f2["table_not_null_columns"] = json!(["first_ref", "second_ref"]);
        let s = snapshot(
            vec![table(1, "t2")],
            vec![
                with_pred(11, "idx_first", (1, "first_ref"), "(first_ref IS NOT NULL)"),
                with_pred(12, "idx_t1", (3, "t1_id"), "(t1_id IS NOT NULL)"),
            ],
            json!({"index_columns": [f1, f2]}),
        );
        let f = run(&s, &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].object, "public.idx_first");
        assert_eq!(
            f[0].fix_sql.as_deref(),
            Some(
                "CREATE INDEX CONCURRENTLY idx_first_full ON public.t2 USING btree (first_ref);\n\
                 DROP INDEX CONCURRENTLY IF EXISTS public.idx_first;"
            )
        );
        assert_eq!(
            f[0].rollback_sql.as_deref(),
            Some(
                "CREATE INDEX CONCURRENTLY idx_first ON public.t2 USING btree (first_ref) WHERE \
                 (first_ref IS NOT NULL);\nDROP INDEX CONCURRENTLY IF EXISTS public.idx_first_full;"
            )
        );
    }

    #[test]
    fn predicates_on_nullable_columns_are_not_reported() {
        let mut v = index(12, 1, "t2", "idx_t1", &[(3, "t1_id")]);
        v["predicate"] = json!("(t1_id IS NOT NULL)");
        let mut f2 = facts(12, &[("bigint", "N", false)]);
        f2["table_not_null_columns"] = json!(["first_ref"]);
        let s = snapshot(
            vec![table(1, "t2")],
            vec![v],
            json!({"index_columns": [f2]}),
        );
        assert!(run(&s, &Thresholds::default()).is_empty());
    }
}
