//! Estimated workload and per-statement latency percentiles from pg_stat_statements aggregates.

use serde::{Deserialize, Serialize};

use crate::collect::statements::{StatementStats, StatementsSnapshot};
use crate::stats::{estimate_statement, estimate_workload, LatencySummary, Moments, QueryLatency};

/// One statement's aggregates as the estimator takes them.
pub fn moments(s: &StatementStats) -> Moments {
    Moments {
        calls: u64::try_from(s.calls).unwrap_or(0),
        mean_ms: s.mean_exec_time_ms,
        stddev_ms: s.stddev_exec_time_ms,
        min_ms: s.min_exec_time_ms,
        max_ms: s.max_exec_time_ms,
    }
}

/// Estimated latency of the whole workload (top-level statements, dbdoctor's own left out),
/// execution time only. `method` is always `estimated`.
pub fn workload_latency(snap: &StatementsSnapshot) -> LatencySummary {
    let m: Vec<Moments> = snap.workload().map(moments).collect();
    estimate_workload(&m)
}

/// Estimated latency of one statement.
pub fn statement_latency(s: &StatementStats) -> LatencySummary {
    estimate_statement(&moments(s))
}

/// One entry of `queries.statements[]`: the latency object of the JSON contract plus what
/// identifies the statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatementLatency {
    pub queryid: Option<i64>,
    pub role: Option<String>,
    pub database: Option<String>,
    /// `None` when hidden (`<insufficient privilege>`).
    pub query: Option<String>,
    #[serde(flatten)]
    pub latency: QueryLatency,
    pub max_ms: f64,
    pub total_exec_time_ms: f64,
    pub share_of_total_time_pct: f64,
}

/// `queries.latency` and `queries.statements[]` for the JSON report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueriesLatency {
    pub latency: QueryLatency,
    pub statements: Vec<StatementLatency>,
}

/// Per-statement estimates for the statements that count toward the workload, largest total time
/// first (the snapshot's order), at most `limit` of them.
pub fn statements_latency(snap: &StatementsSnapshot, limit: usize) -> Vec<StatementLatency> {
    snap.workload()
        .take(limit)
        .map(|s| {
            let l = statement_latency(s);
            StatementLatency {
                queryid: s.queryid,
                role: s.role.clone(),
                database: s.database.clone(),
                query: s.query.clone(),
                latency: l.to_query_latency(),
                max_ms: l.max_ms,
                total_exec_time_ms: s.total_exec_time_ms,
                share_of_total_time_pct: s.share_of_total_time_pct,
            }
        })
        .collect()
}

/// The whole `queries` latency block.
pub fn queries_latency(snap: &StatementsSnapshot, limit: usize) -> QueriesLatency {
    QueriesLatency {
        latency: workload_latency(snap).to_query_latency(),
        statements: statements_latency(snap, limit),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Method;

    fn stmt(id: i64, calls: i64, mean: f64, sd: f64, min: f64, max: f64) -> StatementStats {
        StatementStats {
            queryid: Some(id),
            query: Some(format!("SELECT {id}")),
            calls,
            total_exec_time_ms: mean * calls as f64,
            mean_exec_time_ms: mean,
            stddev_exec_time_ms: sd,
            min_exec_time_ms: min,
            max_exec_time_ms: max,
            toplevel: Some(true),
            ..Default::default()
        }
    }

    fn snap(statements: Vec<StatementStats>) -> StatementsSnapshot {
        let mut s = StatementsSnapshot {
            statements,
            block_size: 8192,
            ..Default::default()
        };
        s.recompute();
        s
    }

    #[test]
    fn workload_mixes_statements_by_calls() {
        let s = snap(vec![
            stmt(1, 9_000, 1.0, 0.3, 0.4, 4.0),
            stmt(2, 1_000, 50.0, 20.0, 20.0, 200.0),
        ]);
        let w = workload_latency(&s);
        assert_eq!(w.method, Method::Estimated);
        assert_eq!(w.count, 10_000);
        assert!((w.mean_ms - 5.9).abs() < 1e-9);
        // 10% of executions are the slow statement: p50 is fast, p95 and p99 are slow.
        assert!(w.p50_ms < 4.0, "{w:?}");
        assert!(
            w.p95_ms > 20.0 && w.p99_ms > w.p95_ms && w.p99_ms <= 200.0,
            "{w:?}"
        );
    }

    #[test]
    fn nested_and_idle_statements_are_left_out() {
        let mut nested = stmt(3, 1_000_000, 100.0, 1.0, 99.0, 101.0);
        nested.toplevel = Some(false);
        let s = snap(vec![
            stmt(1, 10, 1.0, 0.0, 1.0, 1.0),
            stmt(2, 0, 0.0, 0.0, 0.0, 0.0),
            nested,
        ]);
        let w = workload_latency(&s);
        assert_eq!(w.count, 10);
        assert_eq!(w.p99_ms, 1.0);
        assert_eq!(statements_latency(&s, 10).len(), 1);
    }

    #[test]
    fn json_contract() {
        let s = snap(vec![
            stmt(1, 100, 2.0, 1.0, 0.5, 9.0),
            stmt(2, 20, 20.0, 5.0, 10.0, 40.0),
        ]);
        let j = serde_json::to_value(queries_latency(&s, 1)).unwrap();
        for k in ["calls", "mean_ms", "p50_ms", "p95_ms", "p99_ms", "method"] {
            assert!(j["latency"].get(k).is_some(), "latency.{k}");
            assert!(j["statements"][0].get(k).is_some(), "statements[0].{k}");
        }
        assert_eq!(j["latency"]["method"], "estimated");
        assert_eq!(j["latency"]["calls"], 120);
        assert_eq!(j["statements"].as_array().unwrap().len(), 1);
        // Largest total time first.
        assert_eq!(j["statements"][0]["queryid"], 2);
        assert_eq!(j["statements"][0]["method"], "estimated");
    }
}
