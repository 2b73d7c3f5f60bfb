//! Statements as the query checks and the report see them: pg_stat_statements figures per
//! statement, the hot ones, and each statement's shape parsed with pg_query (`SELECT *`, no
//! LIMIT, comma joins). The checks themselves are `crate::checks::{slow_query, select_star,
//! unbounded_result, implicit_join}`.

use pg_query::NodeEnum;
use serde::{Deserialize, Serialize};

use crate::analyze::thresholds::{StatementLimit, Thresholds};
use crate::collect::statements::StatementStats;
use crate::snapshot::Snapshot;

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
    Some(st.workload().map(|s| statement_view(s, th)).collect())
}

/// How the query checks see one collected statement.
pub fn statement_view(s: &StatementStats, th: &Thresholds) -> StatementView {
    let limit = statement_limit(s, th);
    StatementView {
        queryid: s.queryid,
        query: view_text(s).to_string(),
        calls: s.calls,
        total_ms: s.total_exec_time_ms,
        mean_ms: s.mean_exec_time_ms,
        rows: s.rows,
        temp_blks_written: s.temp_blks_written,
        threshold_ms: limit.map(|l| l.mean_ms),
        threshold_source: limit.map(|l| l.source.clone()),
        hidden: s.hidden,
    }
}

/// The budgets.toml limit of the statement's class, when one applies.
pub fn statement_limit<'a>(s: &StatementStats, th: &'a Thresholds) -> Option<&'a StatementLimit> {
    s.queryid.and_then(|q| th.statement_limits.get(&q))
}

/// A statement's text as its view shows it.
fn view_text(s: &StatementStats) -> &str {
    s.query.as_deref().unwrap_or(HIDDEN_TEXT)
}

const HIDDEN_TEXT: &str = "<insufficient privilege>";

/// The views of the `n` statements with the most total time (ties by text), without a view of
/// every other statement.
pub fn hot_views(snap: &Snapshot, th: &Thresholds, n: usize) -> Vec<StatementView> {
    let Some(st) = snap.statements.as_ref() else {
        return Vec::new();
    };
    let mut v: Vec<&StatementStats> = st.workload().collect();
    v.sort_by(|a, b| {
        b.total_exec_time_ms
            .total_cmp(&a.total_exec_time_ms)
            .then(view_text(a).cmp(view_text(b)))
    });
    v.truncate(n);
    v.into_iter().map(|s| statement_view(s, th)).collect()
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
