//! `blocking_locks`: a session that other sessions have waited on for longer than
//! `blocked_wait_ms`. One finding per blocker, with every session it blocks.

use std::collections::BTreeMap;

use serde_json::json;

use super::Check;
use crate::analyze::doctor::CheckInfo;
use crate::analyze::thresholds::{self as th, Thresholds};
use crate::analyze::{Finding, Priority, Severity};
use crate::checks::CheckId;
use crate::cli::Section;
use crate::collect::activity::Session;
use crate::snapshot::Snapshot;

use super::sessions::{session_detail, short, who};

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::BlockingLocks,
        section: Section::Resources,
        summary: "session waiting for a lock another session holds",
    },
    severity: Severity::Warning,
    thresholds: &[("blocked_wait_ms", th::BLOCKED_WAIT_MS)],
    sql: &["doctor_sessions.sql"],
    missing: |s| s.activity.sessions.is_none().then_some("sessions"),
    run,
};

pub fn run(snap: &Snapshot, th: &Thresholds) -> Vec<Finding> {
    let mut out = Vec::new();
    let sessions = snap.activity.sessions.as_deref().unwrap_or(&[]);
    let by_pid: BTreeMap<i32, &Session> = sessions.iter().map(|s| (s.pid, s)).collect();
    // Blocker pid -> the sessions it blocks (waiting long enough to matter).
    let mut blockers: BTreeMap<i32, Vec<&Session>> = BTreeMap::new();
    for s in sessions {
        if s.blocked_by.is_empty() || s.query_ms.unwrap_or(0.0) < th.blocked_wait_ms {
            continue;
        }
        for b in &s.blocked_by {
            blockers.entry(*b).or_default().push(s);
        }
    }
    for (pid, waiting) in blockers {
        let blocker = by_pid.get(&pid).copied();
        let longest = waiting
            .iter()
            .filter_map(|w| w.query_ms)
            .fold(0.0_f64, f64::max);
        let idle = blocker.is_some_and(|b| {
            b.state
                .as_deref()
                .is_some_and(|st| st.starts_with("idle in transaction"))
        });
        let blocker_desc = match blocker {
            Some(b) => format!(
                "{} ({}: {})",
                who(b),
                b.state.as_deref().unwrap_or("state not visible"),
                short(b.query.as_deref())
            ),
            None => format!("pid {pid} (not a visible client session)"),
        };
        let locks: Vec<String> = waiting
            .iter()
            .filter_map(|w| w.waiting_for.clone())
            .collect();
        out.push(
            Finding::new(
                CheckId::BlockingLocks,
                if longest >= th.long_running_query_ms {
                    Severity::Critical
                } else {
                    Severity::Warning
                },
                Priority::High,
                format!("pid {pid}"),
                format!(
                    "{} blocks {} session(s) for up to {:.1} s, waiting for {}",
                    blocker_desc,
                    waiting.len(),
                    longest / 1000.0,
                    if locks.is_empty() {
                        "a lock".to_string()
                    } else {
                        locks.join("; ")
                    }
                ),
            )
            .detail(json!({
                "blocker": blocker.map(session_detail),
                "blocked": waiting.iter().map(|w| {
                    let mut d = session_detail(w);
                    d["waiting_for"] = json!(w.waiting_for);
                    d["blocked_by"] = json!(w.blocked_by);
                    d
                }).collect::<Vec<_>>(),
            }))
            .fix(
                if idle {
                    format!("SELECT pg_terminate_backend({pid});")
                } else {
                    format!("SELECT pg_cancel_backend({pid});")
                },
                None,
            ),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testdata::sample_snapshot;

    #[test]
    fn a_blocker_is_reported_with_the_sessions_it_blocks() {
        let f = run(&sample_snapshot(), &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].object, "pid 4101");
        assert_eq!(f[0].detail["blocked"][0]["pid"], 4102);
        // The blocker idles in a transaction: terminate, a cancel would not end it.
        assert_eq!(
            f[0].fix_sql.as_deref(),
            Some("SELECT pg_terminate_backend(4101);")
        );
    }

    #[test]
    fn a_short_wait_is_not_reported() {
        let th = Thresholds {
            blocked_wait_ms: 30_000.0,
            ..Thresholds::default()
        };
        assert!(run(&sample_snapshot(), &th).is_empty());
    }
}
