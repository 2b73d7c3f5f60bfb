//! `slow_query`: a statement slower on average than its threshold (`slow_query_ms`, or its own
//! limit from budgets.toml); critical at ten times it, high priority when it takes a large
//! share of all statement time.

use serde_json::json;

use super::Check;
use crate::analyze::doctor::CheckInfo;
use crate::analyze::queries::{shorten, statement_views, StatementView};
use crate::analyze::thresholds::{self as th, Thresholds};
use crate::analyze::{Finding, Priority, Severity};
use crate::checks::CheckId;
use crate::cli::Section;
use crate::snapshot::Snapshot;
use crate::util::round2;

/// A slow statement this many times over its threshold is critical.
pub const SLOW_CRITICAL_FACTOR: f64 = 10.0;
/// A statement taking this share of all statement time or more is high priority.
pub const HIGH_SHARE_PCT: f64 = 10.0;

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::SlowQuery,
        section: Section::Queries,
        summary: "statement slower on average than its threshold",
    },
    severity: Severity::Warning,
    thresholds: &[
        ("slow_query_ms", th::SLOW_QUERY_MS),
        ("SLOW_CRITICAL_FACTOR", SLOW_CRITICAL_FACTOR),
        ("HIGH_SHARE_PCT", HIGH_SHARE_PCT),
    ],
    sql: &["statements_1_*.sql"],
    missing: |s| s.statements.is_none().then_some("statements"),
    run,
};

fn total_time(all: &[StatementView]) -> f64 {
    all.iter()
        .map(|s| s.total_ms)
        .sum::<f64>()
        .max(f64::MIN_POSITIVE)
}

pub fn run(snap: &Snapshot, th: &Thresholds) -> Vec<Finding> {
    let mut out = Vec::new();
    let all = statement_views(snap, th).unwrap_or_default();
    let total = total_time(&all);
    for s in &all {
        let limit = s.threshold_ms.unwrap_or(th.slow_query_ms);
        if s.calls == 0 || s.mean_ms <= limit {
            continue;
        }
        let share = s.total_ms / total * 100.0;
        let critical = s.mean_ms >= limit * SLOW_CRITICAL_FACTOR;
        out.push(
            Finding::new(
                CheckId::SlowQuery,
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
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testdata::sample_snapshot;

    #[test]
    fn a_statement_over_its_threshold_is_reported() {
        let f = run(&sample_snapshot(), &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].object, "queryid 101");
        assert_eq!(f[0].detail["threshold_source"], "thresholds.slow_query_ms");
        assert_eq!(f[0].priority, Priority::High);
    }

    #[test]
    fn statements_under_the_threshold_are_not_reported() {
        let th = Thresholds {
            slow_query_ms: 200.0,
            ..Thresholds::default()
        };
        assert!(run(&sample_snapshot(), &th).is_empty());
    }
}
