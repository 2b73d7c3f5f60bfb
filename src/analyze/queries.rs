//! Query checks on pg_stat_statements figures: slow statements, and the query-shape advice
//! (`select_star`, `unbounded_result`, `implicit_join`) judged on the hot statements by parsing
//! them with pg_query.

use pg_query::NodeEnum;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::analyze::doctor::{needs, Input, Sink};
use crate::analyze::indexes::round2;
use crate::analyze::thresholds::Thresholds;
use crate::analyze::{Finding, Priority, Severity};
use crate::snapshot::Snapshot;

/// A slow statement this many times over its threshold is critical.
const SLOW_CRITICAL_FACTOR: f64 = 10.0;
/// A statement taking this share of all statement time or more is high priority.
const HIGH_SHARE_PCT: f64 = 10.0;

/// One statement as the query checks see it (built from the pg_stat_statements collector).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatementView {
    pub queryid: Option<i64>,
    pub query: String,
    pub calls: i64,
    pub total_ms: f64,
    pub mean_ms: f64,
    pub rows: i64,
    pub temp_blks_written: i64,
    /// A budget for this statement's class (budgets.toml), when one applies.
    pub threshold_ms: Option<f64>,
    /// Where `threshold_ms` comes from (`latency.simple.mean_ms`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold_source: Option<String>,
    /// The role may not read this statement's text.
    #[serde(default)]
    pub hidden: bool,
}

impl StatementView {
    /// `queryid 123` or the statement's first words.
    pub fn label(&self) -> String {
        match self.queryid {
            Some(id) => format!("queryid {id}"),
            None => shorten(&self.query, 60),
        }
    }
}

pub fn shorten(q: &str, n: usize) -> String {
    let one: String = q.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > n {
        format!(
            "{}...",
            one.chars().take(n.saturating_sub(3)).collect::<String>()
        )
    } else {
        one
    }
}

/// The workload statements of a snapshot (top level, executed, dbdoctor's own left out), or
/// `None` when pg_stat_statements was not collected.
pub fn statement_views(snap: &Snapshot, th: &Thresholds) -> Option<Vec<StatementView>> {
    let st = snap.statements.as_ref()?;
    Some(
        st.workload()
            .map(|s| {
                let limit = s.queryid.and_then(|q| th.statement_limits.get(&q));
                StatementView {
                    queryid: s.queryid,
                    query: s
                        .query
                        .clone()
                        .unwrap_or_else(|| "<insufficient privilege>".into()),
                    calls: s.calls,
                    total_ms: s.total_exec_time_ms,
                    mean_ms: s.mean_exec_time_ms,
                    rows: s.rows,
                    temp_blks_written: s.temp_blks_written,
                    threshold_ms: limit.map(|l| l.mean_ms),
                    threshold_source: limit.map(|l| l.source.clone()),
                    hidden: s.hidden,
                }
            })
            .collect(),
    )
}

pub fn run(input: &Input, sink: &mut Sink) {
    let snap = input.snap;
    let views = statement_views(snap, input.th);
    let v = views.as_deref();
    sink.check(
        "slow_query",
        v,
        || needs(snap, "statements"),
        |s, out| slow(input, s, out),
    );
    let hot = v.map(|s| hot(s, input.th.hot_statements));
    let hot = hot.as_deref();
    sink.check(
        "select_star",
        hot,
        || needs(snap, "statements"),
        |s, out| shapes(input, s, Shape::SelectStar, out),
    );
    sink.check(
        "unbounded_result",
        hot,
        || needs(snap, "statements"),
        |s, out| shapes(input, s, Shape::Unbounded, out),
    );
    sink.check(
        "implicit_join",
        hot,
        || needs(snap, "statements"),
        |s, out| shapes(input, s, Shape::ImplicitJoin, out),
    );
}

/// The top statements by total time.
pub fn hot(all: &[StatementView], n: usize) -> Vec<StatementView> {
    let mut v: Vec<StatementView> = all.to_vec();
    v.sort_by(|a, b| {
        b.total_ms
            .total_cmp(&a.total_ms)
            .then(a.query.cmp(&b.query))
    });
    v.truncate(n);
    v
}

fn total_time(all: &[StatementView]) -> f64 {
    all.iter()
        .map(|s| s.total_ms)
        .sum::<f64>()
        .max(f64::MIN_POSITIVE)
}

fn slow(input: &Input, all: &[StatementView], out: &mut Vec<Finding>) {
    let total = total_time(all);
    for s in all {
        let limit = s.threshold_ms.unwrap_or(input.th.slow_query_ms);
        if s.calls == 0 || s.mean_ms <= limit {
            continue;
        }
        let share = s.total_ms / total * 100.0;
        let critical = s.mean_ms >= limit * SLOW_CRITICAL_FACTOR;
        out.push(
            Finding::new(
                "slow_query",
                if critical { Severity::Critical } else { Severity::Warning },
                if share >= HIGH_SHARE_PCT || critical { Priority::High } else { Priority::Medium },
                s.label(),
                format!(
                    "statement takes {:.1} ms on average (threshold {:.0} ms) over {} calls, {:.1}% of all statement time: {}",
                    s.mean_ms, limit, s.calls, share, shorten(&s.query, 100)
                ),
            )
            .detail(json!({
                "queryid": s.queryid,
                "query": s.query,
                "calls": s.calls,
                "mean_ms": round2(s.mean_ms),
                "total_ms": round2(s.total_ms),
                "threshold_ms": limit,
                "threshold_source": s.threshold_source.clone().unwrap_or_else(|| "thresholds.slow_query_ms".into()),
                "share_of_total_pct": round2(share),
                "rows": s.rows,
                "temp_blks_written": s.temp_blks_written,
            })),
        );
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Shape {
    SelectStar,
    Unbounded,
    ImplicitJoin,
}

/// What the parse tree of one statement shows.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ShapeFacts {
    pub select_star: bool,
    /// A top-level SELECT with no LIMIT / FETCH FIRST.
    pub no_limit: bool,
    /// Relations listed with commas in some FROM clause.
    pub comma_joined: Vec<String>,
    pub is_select: bool,
}

/// Parse a statement (pg_stat_statements text with $n placeholders) and read its shape.
pub fn shape_of(sql: &str) -> Option<ShapeFacts> {
    let parsed = pg_query::parse(sql).ok()?;
    let mut f = ShapeFacts::default();
    for raw in &parsed.protobuf.stmts {
        if let Some(NodeEnum::SelectStmt(sel)) = raw.stmt.as_ref().and_then(|n| n.node.as_ref()) {
            f.is_select = true;
            f.no_limit = sel.limit_count.is_none() && sel.values_lists.is_empty();
            walk_select(sel, &mut f);
        }
    }
    Some(f)
}

fn walk_select(sel: &pg_query::protobuf::SelectStmt, f: &mut ShapeFacts) {
    for t in &sel.target_list {
        if let Some(NodeEnum::ResTarget(rt)) = &t.node {
            if let Some(NodeEnum::ColumnRef(cr)) = rt.val.as_ref().and_then(|v| v.node.as_ref()) {
                if cr
                    .fields
                    .iter()
                    .any(|n| matches!(n.node, Some(NodeEnum::AStar(_))))
                {
                    f.select_star = true;
                }
            }
        }
    }
    let froms: Vec<String> = sel.from_clause.iter().filter_map(from_name).collect();
    if sel.from_clause.len() > 1 {
        f.comma_joined.extend(froms);
    }
    for n in &sel.from_clause {
        walk_from(n, f);
    }
    if let Some(w) = &sel.with_clause {
        for cte in &w.ctes {
            if let Some(NodeEnum::CommonTableExpr(c)) = &cte.node {
                if let Some(NodeEnum::SelectStmt(s)) =
                    c.ctequery.as_ref().and_then(|q| q.node.as_ref())
                {
                    walk_select(s, f);
                }
            }
        }
    }
    for s in [&sel.larg, &sel.rarg].into_iter().flatten() {
        walk_select(s, f);
    }
}

fn walk_from(n: &pg_query::protobuf::Node, f: &mut ShapeFacts) {
    match &n.node {
        Some(NodeEnum::RangeSubselect(rs)) => {
            if let Some(NodeEnum::SelectStmt(s)) =
                rs.subquery.as_ref().and_then(|q| q.node.as_ref())
            {
                walk_select(s, f);
            }
        }
        Some(NodeEnum::JoinExpr(j)) => {
            for side in [&j.larg, &j.rarg].into_iter().flatten() {
                walk_from(side, f);
            }
        }
        _ => {}
    }
}

fn from_name(n: &pg_query::protobuf::Node) -> Option<String> {
    match &n.node {
        Some(NodeEnum::RangeVar(rv)) => Some(if rv.schemaname.is_empty() {
            rv.relname.clone()
        } else {
            format!("{}.{}", rv.schemaname, rv.relname)
        }),
        Some(NodeEnum::RangeSubselect(_)) => Some("(subquery)".into()),
        Some(NodeEnum::JoinExpr(_)) => Some("(join)".into()),
        Some(NodeEnum::RangeFunction(_)) => Some("(function)".into()),
        _ => None,
    }
}

fn shapes(input: &Input, hot: &[StatementView], shape: Shape, out: &mut Vec<Finding>) {
    let th = input.th;
    for s in hot {
        if s.hidden {
            continue;
        }
        let Some(f) = shape_of(&s.query) else {
            continue;
        };
        if !f.is_select {
            continue;
        }
        let rows_per_call = s.rows as f64 / s.calls.max(1) as f64;
        let base = json!({
            "queryid": s.queryid,
            "query": s.query,
            "calls": s.calls,
            "total_ms": round2(s.total_ms),
            "mean_ms": round2(s.mean_ms),
            "rows_per_call": round2(rows_per_call),
        });
        let finding = match shape {
            Shape::SelectStar if f.select_star => Some((
                "select_star",
                Severity::Info,
                Priority::Low,
                format!(
                    "hot statement fetches every column (SELECT *) {} times ({:.1} ms mean): list only the columns the code reads, so less data is sent and an index-only scan becomes possible: {}",
                    s.calls, s.mean_ms, shorten(&s.query, 100)
                ),
            )),
            Shape::Unbounded if f.no_limit && rows_per_call >= th.unbounded_rows_per_call => Some((
                "unbounded_result",
                Severity::Warning,
                Priority::Medium,
                format!(
                    "hot statement returns {:.0} rows per call with no LIMIT: paginate (LIMIT with a keyset WHERE) or aggregate in SQL: {}",
                    rows_per_call, shorten(&s.query, 100)
                ),
            )),
            Shape::ImplicitJoin if !f.comma_joined.is_empty() => Some((
                "implicit_join",
                Severity::Info,
                Priority::Low,
                format!(
                    "hot statement joins {} with commas: write explicit JOIN ... ON so a missing join condition cannot turn into a cross join: {}",
                    f.comma_joined.join(", "), shorten(&s.query, 100)
                ),
            )),
            _ => None,
        };
        if let Some((check, sev, pri, msg)) = finding {
            let mut d = base.clone();
            if shape == Shape::ImplicitJoin {
                d["comma_joined"] = json!(f.comma_joined);
            }
            out.push(Finding::new(check, sev, pri, s.label(), msg).detail(d));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_from_the_parse_tree() {
        let f = shape_of("SELECT * FROM meals m, users u WHERE m.user_id = u.id").unwrap();
        assert!(f.select_star && f.no_limit);
        assert_eq!(f.comma_joined, vec!["meals", "users"]);
        let f =
            shape_of("SELECT m.id FROM meals m JOIN users u ON u.id = m.user_id LIMIT $1").unwrap();
        assert!(!f.select_star && !f.no_limit && f.comma_joined.is_empty());
        let f = shape_of("SELECT u.* FROM users u WHERE id = $1").unwrap();
        assert!(f.select_star);
        let f = shape_of("SELECT count(*) FROM meals").unwrap();
        assert!(!f.select_star, "count(*) is not SELECT *");
        let f = shape_of("SELECT id FROM (SELECT * FROM a, b) s FETCH FIRST 5 ROWS ONLY").unwrap();
        assert!(f.select_star && !f.no_limit);
        assert_eq!(f.comma_joined, vec!["a", "b"]);
        assert!(!shape_of("UPDATE t SET a = $1").unwrap().is_select);
        assert!(shape_of("SELEC nonsense").is_none());
    }
}
