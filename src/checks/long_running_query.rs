//! `long_running_query`: a query running for longer than `long_running_query_ms`; critical past
//! `long_running_query_critical_ms`. The fix cancels it.

use super::Check;
use crate::analyze::doctor::CheckInfo;
use crate::analyze::thresholds::{self as th, Thresholds};
use crate::analyze::{Finding, Priority, Severity};
use crate::checks::CheckId;
use crate::cli::Section;
use crate::snapshot::Snapshot;

use super::sessions::{session_finding, sessions_over, short};
use crate::collect::activity::Session;

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::LongRunningQuery,
        section: Section::Resources,
        summary: "query running for a long time",
    },
    severity: Severity::Warning,
    thresholds: &[
        ("long_running_query_ms", th::LONG_RUNNING_QUERY_MS),
        (
            "long_running_query_critical_ms",
            th::LONG_RUNNING_QUERY_CRITICAL_MS,
        ),
    ],
    sql: &["doctor_sessions.sql"],
    missing: |s| s.activity.sessions.is_none().then_some("sessions"),
    run,
};

pub fn run(snap: &Snapshot, th: &Thresholds) -> Vec<Finding> {
    let active = |s: &Session| s.query_ms.filter(|_| s.state.as_deref() == Some("active"));
    sessions_over(snap, active)
        .filter(|(_, ms)| *ms >= th.long_running_query_ms)
        .map(|(s, ms)| {
            let critical = ms >= th.long_running_query_critical_ms;
            let (severity, priority) = if critical {
                (Severity::Critical, Priority::High)
            } else {
                (Severity::Warning, Priority::Medium)
            };
            let what = format!(
                "has been running one query for {:.0} s: {}",
                ms / 1000.0,
                short(s.query.as_deref())
            );
            session_finding(CHECK.info.id, severity, priority, s, what)
                .fix(format!("SELECT pg_cancel_backend({});", s.pid), None)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testdata::sample_snapshot;

    #[test]
    fn an_active_query_past_the_threshold_is_reported() {
        let f = run(&sample_snapshot(), &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].object, "pid 4103 (report@shop)");
        assert_eq!(
            f[0].fix_sql.as_deref(),
            Some("SELECT pg_cancel_backend(4103);")
        );
    }

    #[test]
    fn short_or_idle_queries_are_not_reported() {
        let th = Thresholds {
            long_running_query_ms: 100_000.0,
            ..Thresholds::default()
        };
        assert!(run(&sample_snapshot(), &th).is_empty());
    }
}
