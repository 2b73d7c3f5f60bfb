//! Plan insights: why a statement is slow, read off its plan tree. Each insight has a stable id,
//! the node it sits on, the numbers behind it and the fix. Criteria are documented in DB_PERF.md
//! ("Plan insights"); every threshold is a named constant here.

use crate::checks::CheckId;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::tree::PlanNode;
use super::{PlanTable, PlannedStatement, PlansSnapshot};
use crate::advisor::AdvisorReport;

/// Insight ids (stable: a JSON API and `--checks` ids).
pub const SEQ_SCAN_SELECTIVE: CheckId = CheckId::PlanSeqScanSelective;
pub const SPILL_WORK_MEM: CheckId = CheckId::PlanSpillWorkMem;
pub const NESTED_LOOP_LARGE_OUTER: CheckId = CheckId::PlanNestedLoopLargeOuter;
pub const INDEX_FILTER_INEFFICIENT: CheckId = CheckId::PlanIndexFilterInefficient;
pub const LARGE_OFFSET: CheckId = CheckId::PlanLargeOffset;
pub const STALE_STATISTICS: CheckId = CheckId::PlanStaleStatistics;
pub const ROW_MISESTIMATE: CheckId = CheckId::PlanRowMisestimate;
pub const SRF_DEFAULT_ROWS: CheckId = CheckId::PlanSrfDefaultRows;

/// Every insight id, in report order.
pub const ALL_IDS: &[CheckId] = &[
    SEQ_SCAN_SELECTIVE,
    SPILL_WORK_MEM,
    NESTED_LOOP_LARGE_OUTER,
    INDEX_FILTER_INEFFICIENT,
    LARGE_OFFSET,
    STALE_STATISTICS,
    ROW_MISESTIMATE,
    SRF_DEFAULT_ROWS,
];

/// A sequential scan matters on a table of at least this many rows...
pub const SEQ_SCAN_MIN_TABLE_ROWS: f64 = 10_000.0;
/// ...when its filter keeps at most this share of them.
pub const SEQ_SCAN_SELECTIVE_PCT: f64 = 1.0;
/// Bytes a sorted, hashed or materialized row takes beyond its width (tuple header and the
/// sort or hash slot), for the memory estimate of a node.
pub const TUPLE_OVERHEAD_BYTES: f64 = 40.0;
/// A nested loop whose outer side yields at least this many rows...
pub const NESTED_LOOP_OUTER_ROWS: f64 = 10_000.0;
/// An index scan whose filter removes at least this share of the rows it fetched...
pub const INDEX_FILTER_REMOVED_PCT: f64 = 90.0;
/// ...out of at least this many fetched rows.
pub const INDEX_FILTER_MIN_FETCHED_ROWS: f64 = 1_000.0;
/// An OFFSET over at least this many rows (discarded when analyzed; the input otherwise).
pub const LARGE_OFFSET_ROWS: f64 = 10_000.0;
/// Statistics are stale when the rows modified since the last ANALYZE reach this multiple of
/// the table's analyze threshold...
pub const STALE_STATS_THRESHOLD_FACTOR: f64 = 2.0;
/// ...and at least this many rows.
pub const STALE_STATS_MIN_MODIFIED_ROWS: i64 = 1_000;
/// Estimated and actual rows differ by at least this factor...
pub const MISESTIMATE_FACTOR: f64 = 10.0;
/// ...and by at least this many rows.
pub const MISESTIMATE_MIN_ROWS: f64 = 100.0;
/// The planner's row estimate for a set-returning function without a ROWS clause or a
/// support function.
pub const SRF_DEFAULT_ROW_ESTIMATE: f64 = 1_000.0;

/// One insight on one plan node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Insight {
    pub id: CheckId,
    pub queryid: i64,
    /// The node's path from the root (`0`, `0.1`, ...).
    pub path: String,
    pub node_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation: Option<String>,
    pub message: String,
    /// The numbers behind the verdict.
    pub numbers: serde_json::Value,
    /// What to do about it, in words.
    pub fix: String,
    /// SQL that fixes it when one statement does (ANALYZE for stale statistics).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix_sql: Option<String>,
    /// The index advisor's suggestion for this statement and table, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advisor_index: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advisor_create_sql: Option<String>,
}

struct Ctx<'a> {
    stmt: &'a PlannedStatement,
    plans: &'a PlansSnapshot,
    advisor: Option<&'a AdvisorReport>,
    analyzed: bool,
}

impl Ctx<'_> {
    fn insight(
        &self,
        id: CheckId,
        n: &PlanNode,
        message: String,
        numbers: serde_json::Value,
        fix: String,
    ) -> Insight {
        Insight {
            id,
            queryid: self.stmt.queryid,
            path: n.path.clone(),
            node_type: n.node_type.clone(),
            relation: n.qualified_relation(),
            message,
            numbers,
            fix,
            fix_sql: None,
            advisor_index: None,
            advisor_create_sql: None,
        }
    }

    fn table(&self, n: &PlanNode) -> Option<&PlanTable> {
        let (s, r) = (n.schema.as_deref()?, n.relation.as_deref()?);
        self.plans
            .tables
            .iter()
            .find(|t| t.schema == s && t.name == r)
    }

    /// The advisor's suggestion that helps this statement on this node's table.
    fn suggestion(&self, n: &PlanNode) -> Option<&crate::advisor::Suggestion> {
        let (s, r) = (n.schema.as_deref()?, n.relation.as_deref()?);
        self.advisor?.suggestions.iter().find(|x| {
            x.schema == s
                && x.table == r
                && x.statements.iter().any(|h| h.queryid == self.stmt.queryid)
        })
    }

    fn link(&self, mut i: Insight, n: &PlanNode) -> Insight {
        if let Some(s) = self.suggestion(n) {
            i.advisor_index = Some(s.index_name.clone());
            i.advisor_create_sql = Some(s.create_sql.clone());
            i.fix = format!("create the index the advisor suggests: {}", s.create_sql);
        }
        i
    }
}

/// Every insight on one statement's plan (none when it has no plan).
pub fn of_statement(
    stmt: &PlannedStatement,
    plans: &PlansSnapshot,
    advisor: Option<&AdvisorReport>,
) -> Vec<Insight> {
    let Some(root) = stmt.tree() else {
        return Vec::new();
    };
    let cx = Ctx {
        stmt,
        plans,
        advisor,
        analyzed: stmt.analyzed(),
    };
    let mut out = Vec::new();
    let mut stale_seen: Vec<String> = Vec::new();
    for n in root.nodes() {
        seq_scan_selective(&cx, n, &mut out);
        spill_work_mem(&cx, n, &mut out);
        nested_loop_large_outer(&cx, n, &mut out);
        index_filter_inefficient(&cx, n, &mut out);
        large_offset(&cx, n, &mut out);
        stale_statistics(&cx, n, &mut stale_seen, &mut out);
        srf_default_rows(&cx, n, &mut out);
    }
    row_misestimate(&cx, &root, &mut out);
    out
}

fn pct(part: f64, whole: f64) -> f64 {
    if whole <= 0.0 {
        0.0
    } else {
        ((part / whole) * 10_000.0).round() / 100.0
    }
}

fn basis(cx: &Ctx) -> &'static str {
    if cx.analyzed {
        "actual"
    } else {
        "estimated"
    }
}

fn seq_scan_selective(cx: &Ctx, n: &PlanNode, out: &mut Vec<Insight>) {
    if n.node_type != "Seq Scan" || n.filter.is_none() {
        return;
    }
    let Some(t) = cx.table(n) else { return };
    let table_rows = t.reltuples;
    if table_rows < SEQ_SCAN_MIN_TABLE_ROWS {
        return;
    }
    let kept = n.rows();
    let kept_pct = pct(kept, table_rows);
    if kept_pct > SEQ_SCAN_SELECTIVE_PCT {
        return;
    }
    let rel = n.qualified_relation().unwrap_or_default();
    let filter = n.filter.clone().unwrap_or_default();
    let i = cx.insight(
        SEQ_SCAN_SELECTIVE,
        n,
        format!(
            "reads all {table_rows:.0} rows of {rel} sequentially to keep {kept:.0} ({kept_pct}%, {})",
            basis(cx)
        ),
        json!({"table_rows": table_rows, "rows_kept": kept, "kept_pct": kept_pct,
               "filter": filter, "basis": basis(cx)}),
        format!("an index on the filtered columns of {rel} ({filter})"),
    );
    out.push(cx.link(i, n));
}

/// (memory estimate in bytes, the memory the node may use) for a node that holds rows in memory.
fn memory_need(cx: &Ctx, n: &PlanNode) -> Option<(f64, f64, &'static str)> {
    let work_mem = cx.plans.settings.work_mem_bytes as f64;
    if work_mem <= 0.0 {
        return None;
    }
    let hash_mem = work_mem * cx.plans.settings.hash_mem_multiplier.max(1.0);
    let bytes = |rows: f64, width: f64| rows * (width + TUPLE_OVERHEAD_BYTES);
    match n.node_type.as_str() {
        "Sort" | "Incremental Sort" => Some((bytes(n.plan_rows, n.plan_width), work_mem, "sort")),
        "Materialize" => Some((bytes(n.plan_rows, n.plan_width), work_mem, "materialize")),
        "Hash" => Some((bytes(n.plan_rows, n.plan_width), hash_mem, "hash")),
        "Aggregate" if n.strategy.as_deref() == Some("Hashed") => {
            Some((bytes(n.plan_rows, n.plan_width), hash_mem, "hash aggregate"))
        }
        _ => None,
    }
}

/// A `work_mem` setting that holds `bytes` (a power of two of MB, at least 1MB).
pub fn fitting_work_mem(bytes: f64, multiplier: f64) -> String {
    let need_mb = (bytes / multiplier.max(1.0) / (1024.0 * 1024.0))
        .ceil()
        .max(1.0);
    let mut mb = 1u64;
    while (mb as f64) < need_mb {
        mb *= 2;
    }
    if mb >= 1024 && mb.is_multiple_of(1024) {
        format!("{}GB", mb / 1024)
    } else {
        format!("{mb}MB")
    }
}

fn spill_work_mem(cx: &Ctx, n: &PlanNode, out: &mut Vec<Insight>) {
    let Some((need, limit, what)) = memory_need(cx, n) else {
        return;
    };
    let spilled_actual =
        n.sort_space_type.as_deref() == Some("Disk") || n.hash_batches.is_some_and(|b| b > 1.0);
    if need <= limit && !spilled_actual {
        return;
    }
    let multiplier = if what.starts_with("hash") {
        cx.plans.settings.hash_mem_multiplier.max(1.0)
    } else {
        1.0
    };
    let need = if spilled_actual {
        need.max(n.sort_space_used_kb.unwrap_or(0.0) * 1024.0)
    } else {
        need
    };
    let fit = fitting_work_mem(need, multiplier);
    let mb = |b: f64| (b / (1024.0 * 1024.0) * 10.0).round() / 10.0;
    out.push(cx.insight(
        SPILL_WORK_MEM,
        n,
        format!(
            "{what} of {:.0} rows needs about {} MB, more than the {} MB it may use: it {} to disk",
            n.plan_rows,
            mb(need),
            mb(limit),
            if spilled_actual { "spilled" } else { "will spill" }
        ),
        json!({"estimated_bytes": need.round(), "memory_limit_bytes": limit,
               "work_mem_bytes": cx.plans.settings.work_mem_bytes,
               "hash_mem_multiplier": cx.plans.settings.hash_mem_multiplier,
               "rows": n.plan_rows, "width": n.plan_width,
               "spilled": spilled_actual, "work_mem_that_fits": fit}),
        format!(
            "raise work_mem to {fit} for this statement's session or role (SET work_mem = '{fit}'), \
             or make the {what} smaller (fewer rows or columns)"
        ),
    ));
}

/// The node a join's inner side really is (through Memoize and Materialize).
fn inner_access(n: &PlanNode) -> &PlanNode {
    match n.node_type.as_str() {
        "Memoize" | "Materialize" if !n.children.is_empty() => {
            if n.node_type == "Memoize" {
                inner_access(&n.children[0])
            } else {
                n
            }
        }
        _ => n,
    }
}

fn nested_loop_large_outer(cx: &Ctx, n: &PlanNode, out: &mut Vec<Insight>) {
    if n.node_type != "Nested Loop" || n.children.len() < 2 {
        return;
    }
    let (outer, inner) = (&n.children[0], inner_access(&n.children[1]));
    let outer_rows = outer.total_rows();
    if outer_rows < NESTED_LOOP_OUTER_ROWS {
        return;
    }
    if matches!(
        inner.node_type.as_str(),
        "Index Scan" | "Index Only Scan" | "Bitmap Heap Scan"
    ) {
        return;
    }
    out.push(cx.insight(
        NESTED_LOOP_LARGE_OUTER,
        n,
        format!(
            "nested loop runs its inner {} {outer_rows:.0} times ({})",
            inner.label(),
            basis(cx)
        ),
        json!({"outer_rows": outer_rows, "inner_node": inner.node_type, "inner_path": inner.path,
               "join_filter": n.join_filter, "basis": basis(cx)}),
        "give the join an equality condition a hash or merge join can use, or an index on the \
         inner table's join columns"
            .to_string(),
    ));
}

fn index_filter_inefficient(cx: &Ctx, n: &PlanNode, out: &mut Vec<Insight>) {
    if n.filter.is_none() {
        return;
    }
    let is_index = matches!(
        n.node_type.as_str(),
        "Index Scan" | "Index Only Scan" | "Bitmap Heap Scan"
    );
    if !is_index {
        return;
    }
    // Actual: rows kept and removed per loop. Estimated: a bitmap heap scan's index side
    // estimates the rows fetched, the heap scan the rows kept after the filter.
    let (kept, fetched, how) = match (n.actual_rows, n.rows_removed_by_filter) {
        (Some(k), Some(r)) => (k, k + r, "actual"),
        _ if n.node_type == "Bitmap Heap Scan" => {
            match n
                .children
                .iter()
                .find(|c| c.node_type == "Bitmap Index Scan")
            {
                Some(ix) if n.children.len() == 1 => (n.plan_rows, ix.plan_rows, "estimated"),
                _ => return,
            }
        }
        _ => return,
    };
    if fetched < INDEX_FILTER_MIN_FETCHED_ROWS {
        return;
    }
    let removed_pct = pct(fetched - kept, fetched);
    if removed_pct < INDEX_FILTER_REMOVED_PCT {
        return;
    }
    let index = n
        .index_name
        .clone()
        .or_else(|| n.children.first().and_then(|c| c.index_name.clone()))
        .unwrap_or_default();
    let filter = n.filter.clone().unwrap_or_default();
    let i = cx.insight(
        INDEX_FILTER_INEFFICIENT,
        n,
        format!(
            "index {index} fetches {fetched:.0} rows and the filter throws away {removed_pct}% of them ({how})"
        ),
        json!({"index": index, "rows_fetched": fetched, "rows_kept": kept,
               "removed_pct": removed_pct, "filter": filter, "basis": how}),
        format!("an index that also covers the filter ({filter}), so rows are not fetched to be thrown away"),
    );
    out.push(cx.link(i, n));
}

/// The statement pages with OFFSET.
fn has_offset(query: &str) -> bool {
    use std::sync::OnceLock;
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    RE.get_or_init(|| regex::Regex::new(r"(?i)\boffset\s+(\$[0-9]+|[0-9]+)").expect("valid regex"))
        .is_match(query)
}

fn large_offset(cx: &Ctx, n: &PlanNode, out: &mut Vec<Insight>) {
    if n.node_type != "Limit" || n.children.is_empty() || !has_offset(&cx.stmt.query) {
        return;
    }
    let input = &n.children[0];
    // Analyzed: the rows the Limit read and did not return. Otherwise the input it pages over.
    let (rows, what) = match (input.actual_rows, n.actual_rows) {
        (Some(read), Some(kept)) => ((read - kept).max(0.0), "rows read and discarded"),
        _ => (
            input.plan_rows,
            "rows in the input it pages through (estimated)",
        ),
    };
    if rows < LARGE_OFFSET_ROWS {
        return;
    }
    out.push(cx.insight(
        LARGE_OFFSET,
        n,
        format!("OFFSET paging over {rows:.0} {what}: every page reads all the rows before it"),
        json!({"rows": rows, "basis": basis(cx), "input_node": input.node_type}),
        "page by key instead of OFFSET (WHERE sort_key > last value seen ORDER BY sort_key LIMIT n), \
         with an index on the sort key"
            .to_string(),
    ));
}

fn stale_statistics(cx: &Ctx, n: &PlanNode, seen: &mut Vec<String>, out: &mut Vec<Insight>) {
    let Some(t) = cx.table(n) else { return };
    let key = format!("{}.{}", t.schema, t.name);
    if seen.contains(&key) {
        return;
    }
    let threshold = t.analyze_threshold.max(1.0);
    if t.n_mod_since_analyze < STALE_STATS_MIN_MODIFIED_ROWS
        || (t.n_mod_since_analyze as f64) < threshold * STALE_STATS_THRESHOLD_FACTOR
    {
        return;
    }
    seen.push(key);
    let rel = crate::util::qualified(&t.schema, &t.name);
    let mut i = cx.insight(
        STALE_STATISTICS,
        n,
        format!(
            "the plan reads {rel}, whose statistics are stale: {} rows modified since the last \
             ANALYZE, {:.1} times its analyze threshold of {threshold:.0}",
            t.n_mod_since_analyze,
            t.n_mod_since_analyze as f64 / threshold
        ),
        json!({"n_mod_since_analyze": t.n_mod_since_analyze, "analyze_threshold": threshold,
               "reltuples": t.reltuples, "last_analyze": t.last_analyze}),
        format!(
            "ANALYZE {rel}; if it keeps happening, lower autovacuum_analyze_scale_factor for it"
        ),
    );
    i.fix_sql = Some(format!("ANALYZE {rel};"));
    out.push(i);
}

fn srf_default_rows(cx: &Ctx, n: &PlanNode, out: &mut Vec<Insight>) {
    if n.node_type != "Function Scan" || n.plan_rows != SRF_DEFAULT_ROW_ESTIMATE {
        return;
    }
    let fun = n.function_name.clone().unwrap_or_default();
    let actual = n.actual_rows;
    out.push(cx.insight(
        SRF_DEFAULT_ROWS,
        n,
        format!(
            "set-returning function {fun}() is planned at the default estimate of 1000 rows{}",
            actual.map(|a| format!(" (it returned {a:.0})")).unwrap_or_default()
        ),
        json!({"function": fun, "estimated_rows": n.plan_rows, "actual_rows": actual}),
        format!("declare how many rows it returns: ALTER FUNCTION {fun}(...) ROWS n (or a support function)"),
    ));
}

fn row_misestimate(cx: &Ctx, root: &PlanNode, out: &mut Vec<Insight>) {
    let off = |est: f64, act: f64| {
        let (hi, lo) = (est.max(act), est.min(act).max(1.0));
        hi / lo >= MISESTIMATE_FACTOR && (est - act).abs() >= MISESTIMATE_MIN_ROWS
    };
    if cx.analyzed {
        // The node whose estimate is furthest off.
        let worst = root
            .nodes()
            .into_iter()
            .filter_map(|n| n.actual_rows.map(|a| (n, a)))
            .filter(|(n, a)| off(n.plan_rows, *a))
            .max_by(|(a, x), (b, y)| {
                let r = |n: &PlanNode, v: f64| n.plan_rows.max(v) / n.plan_rows.min(v).max(1.0);
                r(a, *x).total_cmp(&r(b, *y))
            });
        if let Some((n, actual)) = worst {
            out.push(misestimate(
                cx,
                n,
                n.plan_rows,
                actual,
                "actual rows of this node",
            ));
        }
        return;
    }
    // Generic plan: pg_stat_statements' rows per call against the root's estimate, for a
    // statement whose root returns its rows (a SELECT without LIMIT, whose generic estimate
    // is a fixed share of the input rather than the parameter).
    let Some(per_call) = cx.stmt.rows_per_call() else {
        return;
    };
    let reads_only = root.nodes().iter().all(|n| n.node_type != "ModifyTable");
    if !reads_only || root.node_type == "Limit" || !off(root.plan_rows, per_call) {
        return;
    }
    out.push(misestimate(
        cx,
        root,
        root.plan_rows,
        per_call,
        "rows per call in pg_stat_statements",
    ));
}

fn misestimate(cx: &Ctx, n: &PlanNode, est: f64, actual: f64, source: &str) -> Insight {
    let factor = (est.max(actual) / est.min(actual).max(1.0) * 10.0).round() / 10.0;
    cx.insight(
        ROW_MISESTIMATE,
        n,
        format!(
            "the planner expects {est:.0} rows, {} {actual:.0} ({factor}x {}): the plan was chosen for the wrong size",
            source,
            if est < actual { "under" } else { "over" }
        ),
        json!({"estimated_rows": est, "actual_rows": actual, "factor": factor, "source": source}),
        "ANALYZE the tables involved; for correlated columns CREATE STATISTICS (dependencies, \
         ndistinct) on them; raise the column's statistics target for skewed values"
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plans::tree::tests::{node, with};
    use crate::plans::{PlanSettings, OUTCOME_ANALYZED, OUTCOME_PLANNED};
    use serde_json::Value;

    fn scan(kind: &str, rel: &str, rows: f64, extra: Value) -> Value {
        let mut v = with(
            node(kind, rows, 40.0, vec![]),
            json!({"Schema": "public", "Relation Name": rel}),
        );
        v = with(v, extra);
        v
    }

    fn table(name: &str, rows: f64, modified: i64) -> PlanTable {
        PlanTable {
            schema: "public".into(),
            name: name.into(),
            reltuples: rows,
            n_mod_since_analyze: modified,
            analyze_threshold: 50.0 + 0.1 * rows,
            last_analyze: None,
        }
    }

    fn run(
        plan: Value,
        query: &str,
        calls: i64,
        rows: i64,
        analyzed: bool,
        tables: Vec<PlanTable>,
    ) -> Vec<Insight> {
        let stmt = PlannedStatement {
            queryid: 7,
            query: query.into(),
            explained_as: None,
            calls,
            rows,
            total_time_ms: 1.0,
            outcome: if analyzed {
                OUTCOME_ANALYZED
            } else {
                OUTCOME_PLANNED
            }
            .into(),
            reason: None,
            plan: Some(plan),
            fingerprint: None,
        };
        let plans = PlansSnapshot {
            method: "explain_generic_plan".into(),
            analyze_requested: analyzed,
            settings: PlanSettings {
                work_mem_bytes: 4 * 1024 * 1024,
                hash_mem_multiplier: 2.0,
            },
            tables,
            statements: vec![],
        };
        of_statement(&stmt, &plans, None)
    }

    fn ids(v: &[Insight]) -> Vec<CheckId> {
        v.iter().map(|i| i.id).collect()
    }

    #[test]
    fn selective_seq_scan_on_a_large_table() {
        let plan = scan(
            "Seq Scan",
            "orders",
            5.0,
            json!({"Filter": "(customer = $1)"}),
        );
        let got = run(
            plan.clone(),
            "SELECT * FROM orders WHERE customer = $1",
            10,
            50,
            false,
            vec![table("orders", 100_000.0, 0)],
        );
        assert_eq!(ids(&got), vec![SEQ_SCAN_SELECTIVE]);
        assert_eq!(got[0].path, "0");
        assert_eq!(got[0].relation.as_deref(), Some("public.orders"));
        assert_eq!(got[0].numbers["rows_kept"], 5.0);
        // A small table, or a filter keeping much of it, is no insight.
        assert!(run(plan, "q", 10, 50, false, vec![table("orders", 5_000.0, 0)]).is_empty());
        let wide = scan(
            "Seq Scan",
            "orders",
            50_000.0,
            json!({"Filter": "(x > $1)"}),
        );
        assert!(run(wide, "q", 0, 0, false, vec![table("orders", 100_000.0, 0)]).is_empty());
    }

    #[test]
    fn seq_scan_links_the_advisor_suggestion() {
        let plan = scan(
            "Seq Scan",
            "orders",
            5.0,
            json!({"Filter": "(customer = $1)"}),
        );
        let stmt = PlannedStatement {
            queryid: 7,
            query: "q".into(),
            explained_as: None,
            calls: 1,
            rows: 1,
            total_time_ms: 1.0,
            outcome: OUTCOME_PLANNED.into(),
            reason: None,
            plan: Some(plan),
            fingerprint: None,
        };
        let plans = PlansSnapshot {
            tables: vec![table("orders", 100_000.0, 0)],
            ..Default::default()
        };
        let mut adv: AdvisorReport = serde_json::from_value(json!({
            "schema_version": 1, "mode": "heuristic", "hypopg_version": null, "enable_verification": null,
            "options": crate::advisor::AdvisorOptions::default(), "suggestions": [], "statements": []
        })).unwrap();
        adv.suggestions.push(serde_json::from_value(json!({
            "schema": "public", "table": "orders", "columns": ["customer"], "index_name": "orders_customer_idx",
            "verified": false, "statements": [{"queryid": 7, "calls": 1, "total_time_ms": 1.0,
            "cost_before": null, "cost_after": null, "query": "q"}], "calls": 1, "total_time_ms": 1.0,
            "estimated_size_bytes": null, "table_rows": 1.0, "table_bytes": 1, "table_writes_per_hour": null,
            "create_sql": "CREATE INDEX CONCURRENTLY orders_customer_idx ON public.orders (customer);",
            "drop_sql": "DROP INDEX CONCURRENTLY public.orders_customer_idx;"
        })).unwrap());
        let got = of_statement(&stmt, &plans, Some(&adv));
        assert_eq!(got[0].advisor_index.as_deref(), Some("orders_customer_idx"));
        assert!(got[0]
            .fix
            .contains("CREATE INDEX CONCURRENTLY orders_customer_idx"));
        // Another statement's suggestion is not linked.
        adv.suggestions[0].statements[0].queryid = 8;
        assert!(of_statement(&stmt, &plans, Some(&adv))[0]
            .advisor_index
            .is_none());
    }

    #[test]
    fn sort_above_work_mem_and_the_setting_that_fits() {
        // 200k rows of 100 bytes + overhead = about 26.7 MB against 4 MB.
        let plan = node(
            "Sort",
            200_000.0,
            100.0,
            vec![scan("Seq Scan", "t", 200_000.0, json!({}))],
        );
        let got = run(plan, "q", 0, 0, false, vec![]);
        assert_eq!(ids(&got), vec![SPILL_WORK_MEM]);
        assert_eq!(got[0].numbers["work_mem_that_fits"], "32MB");
        let small = node("Sort", 1_000.0, 100.0, vec![]);
        assert!(run(small, "q", 0, 0, false, vec![]).is_empty());
        // Hash nodes get hash_mem_multiplier times work_mem: 40k * 140 B = 5.3 MB < 8 MB.
        let hash = node("Hash", 40_000.0, 100.0, vec![]);
        assert!(run(hash, "q", 0, 0, false, vec![]).is_empty());
        // An analyzed sort that went to disk is reported even when the estimate fitted.
        let disk = with(
            node("Sort", 1_000.0, 10.0, vec![]),
            json!({"Sort Space Type": "Disk", "Sort Space Used": 9000.0, "Actual Rows": 1000.0}),
        );
        let got = run(disk, "q", 0, 0, true, vec![]);
        assert_eq!(got[0].numbers["spilled"], true);
        assert_eq!(fitting_work_mem(3.0 * 1024.0 * 1024.0 * 1024.0, 1.0), "4GB");
        assert_eq!(fitting_work_mem(10.0, 2.0), "1MB");
    }

    #[test]
    fn nested_loop_over_a_large_outer_side() {
        let outer = scan("Seq Scan", "a", 50_000.0, json!({}));
        let inner = node(
            "Materialize",
            100.0,
            8.0,
            vec![scan("Seq Scan", "b", 100.0, json!({}))],
        );
        let plan = with(
            node("Nested Loop", 1000.0, 8.0, vec![outer.clone(), inner]),
            json!({"Join Filter": "(a.v > b.lo)"}),
        );
        let got = run(plan, "q", 0, 0, false, vec![]);
        assert_eq!(ids(&got), vec![NESTED_LOOP_LARGE_OUTER]);
        assert_eq!(got[0].numbers["outer_rows"], 50_000.0);
        // An index lookup per outer row (through Memoize too) is what nested loops are for.
        let lookup = node(
            "Memoize",
            1.0,
            8.0,
            vec![with(
                scan("Index Scan", "b", 1.0, json!({})),
                json!({"Index Name": "b_pkey"}),
            )],
        );
        let plan = node("Nested Loop", 1000.0, 8.0, vec![outer, lookup]);
        assert!(run(plan, "q", 0, 0, false, vec![]).is_empty());
    }

    #[test]
    fn index_scan_whose_filter_discards_most_rows() {
        // Estimated from a bitmap scan: the index side finds 10,000 rows, 20 survive the filter.
        let bitmap = with(
            node(
                "Bitmap Heap Scan",
                20.0,
                8.0,
                vec![with(
                    node("Bitmap Index Scan", 10_000.0, 0.0, vec![]),
                    json!({"Index Name": "t_status_idx"}),
                )],
            ),
            json!({"Schema": "public", "Relation Name": "t", "Filter": "(note = $2)"}),
        );
        let got = run(bitmap, "q", 0, 0, false, vec![]);
        assert_eq!(ids(&got), vec![INDEX_FILTER_INEFFICIENT]);
        assert_eq!(got[0].numbers["index"], "t_status_idx");
        assert_eq!(got[0].numbers["basis"], "estimated");
        // Analyzed index scan: 5 kept, 4,995 removed.
        let ix = scan(
            "Index Scan",
            "t",
            10.0,
            json!({"Index Name": "t_status_idx", "Filter": "(note = 'x')",
            "Actual Rows": 5.0, "Actual Loops": 1.0, "Rows Removed by Filter": 4995.0}),
        );
        let got = run(ix, "q", 0, 0, true, vec![]);
        assert_eq!(ids(&got), vec![INDEX_FILTER_INEFFICIENT]);
        assert_eq!(got[0].numbers["removed_pct"], 99.9);
        // Not analyzed, a plain index scan says nothing about fetched rows.
        let ix = scan(
            "Index Scan",
            "t",
            10.0,
            json!({"Index Name": "t_status_idx", "Filter": "(note = $1)"}),
        );
        assert!(run(ix, "q", 0, 0, false, vec![]).is_empty());
    }

    #[test]
    fn offset_paging_over_a_large_input() {
        let plan = node(
            "Limit",
            10.0,
            8.0,
            vec![node("Sort", 100_000.0, 8.0, vec![])],
        );
        let got = run(
            plan.clone(),
            "SELECT * FROM t ORDER BY id OFFSET $1 LIMIT $2",
            0,
            0,
            false,
            vec![],
        );
        assert!(ids(&got).contains(&LARGE_OFFSET));
        // Same plan, no OFFSET: just a LIMIT.
        assert!(!ids(&run(
            plan,
            "SELECT * FROM t ORDER BY id LIMIT $1",
            0,
            0,
            false,
            vec![]
        ))
        .contains(&LARGE_OFFSET));
        // Analyzed: 50,010 read, 10 returned.
        let analyzed = with(
            node(
                "Limit",
                10.0,
                8.0,
                vec![with(
                    node("Sort", 100_000.0, 8.0, vec![]),
                    json!({"Actual Rows": 50_010.0}),
                )],
            ),
            json!({"Actual Rows": 10.0}),
        );
        let got = run(
            analyzed,
            "SELECT * FROM t ORDER BY id OFFSET 50000 LIMIT 10",
            0,
            0,
            true,
            vec![],
        );
        let i = got.iter().find(|i| i.id == LARGE_OFFSET).unwrap();
        assert_eq!(i.numbers["rows"], 50_000.0);
    }

    #[test]
    fn stale_statistics_once_per_table() {
        let plan = node(
            "Append",
            1.0,
            8.0,
            vec![
                scan("Seq Scan", "t", 1.0, json!({})),
                scan("Seq Scan", "t", 1.0, json!({})),
            ],
        );
        // threshold = 50 + 0.1 * 10,000 = 1,050; 5,000 modified is 4.8x.
        let got = run(
            plan.clone(),
            "q",
            0,
            0,
            false,
            vec![table("t", 10_000.0, 5_000)],
        );
        assert_eq!(ids(&got), vec![STALE_STATISTICS]);
        assert_eq!(got[0].fix_sql.as_deref(), Some("ANALYZE public.t;"));
        assert!(run(plan, "q", 0, 0, false, vec![table("t", 10_000.0, 1_500)]).is_empty());
    }

    #[test]
    fn misestimate_from_pg_stat_statements_and_from_actuals() {
        let plan = scan(
            "Seq Scan",
            "t",
            1.0,
            json!({"Filter": "(a = $1 AND b = $2)"}),
        );
        // 200 rows per call against an estimate of 1.
        let got = run(plan.clone(), "q", 10, 2_000, false, vec![]);
        assert_eq!(ids(&got), vec![ROW_MISESTIMATE]);
        assert_eq!(got[0].numbers["actual_rows"], 200.0);
        // 5 per call: within the band.
        assert!(run(plan, "q", 10, 50, false, vec![]).is_empty());
        // A LIMIT's generic estimate is a guess, not the planner's belief: no verdict.
        let limited = node(
            "Limit",
            5000.0,
            8.0,
            vec![node("Seq Scan", 50_000.0, 8.0, vec![])],
        );
        assert!(run(limited, "q", 10, 100, false, vec![]).is_empty());
        // Analyzed: the worst node.
        let analyzed = node(
            "Hash Join",
            1.0,
            8.0,
            vec![
                with(
                    node("Seq Scan", 2.0, 8.0, vec![]),
                    json!({"Actual Rows": 5_000.0}),
                ),
                with(
                    node("Seq Scan", 10.0, 8.0, vec![]),
                    json!({"Actual Rows": 10.0}),
                ),
            ],
        );
        let analyzed = with(analyzed, json!({"Actual Rows": 1.0}));
        let got = run(analyzed, "q", 1, 1, true, vec![]);
        assert_eq!(ids(&got), vec![ROW_MISESTIMATE]);
        assert_eq!(got[0].path, "0.0");
    }

    #[test]
    fn set_returning_function_at_the_default_estimate() {
        let plan = with(
            node("Function Scan", 1000.0, 8.0, vec![]),
            json!({"Function Name": "recent_orders"}),
        );
        let got = run(plan, "q", 0, 0, false, vec![]);
        assert_eq!(ids(&got), vec![SRF_DEFAULT_ROWS]);
        assert!(got[0].fix.contains("ALTER FUNCTION recent_orders"));
        let declared = with(
            node("Function Scan", 20.0, 8.0, vec![]),
            json!({"Function Name": "f"}),
        );
        assert!(run(declared, "q", 0, 0, false, vec![]).is_empty());
    }
}
