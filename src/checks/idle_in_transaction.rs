//! `idle_in_transaction`: a session idle inside an open transaction for longer than
//! `idle_in_transaction_ms`. It holds its locks and keeps vacuum from removing dead rows.

use super::Check;
use crate::analyze::doctor::CheckInfo;
use crate::analyze::thresholds::{self as th, Thresholds};
use crate::analyze::{Finding, Priority, Severity};
use crate::checks::CheckId;
use crate::cli::Section;
use crate::snapshot::Snapshot;
use crate::util::{quote_ident, quote_literal};

use super::sessions::{session_finding, sessions_over, short};
use crate::collect::activity::Session;

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::IdleInTransaction,
        section: Section::Resources,
        summary: "session idle inside an open transaction",
    },
    severity: Severity::Warning,
    thresholds: &[("idle_in_transaction_ms", th::IDLE_IN_TRANSACTION_MS)],
    sql: &["doctor_sessions.sql"],
    missing: |s| s.activity.sessions.is_none().then_some("sessions"),
    run,
};

pub fn run(snap: &Snapshot, th: &Thresholds) -> Vec<Finding> {
    let idle = |s: &Session| {
        s.state_ms.filter(|_| {
            matches!(
                s.state.as_deref(),
                Some("idle in transaction") | Some("idle in transaction (aborted)")
            )
        })
    };
    let mut out = Vec::new();
    for (s, ms) in sessions_over(snap, idle) {
        if ms < th.idle_in_transaction_ms {
            continue;
        }
        let role = s.usename.as_deref().map(quote_ident);
        let (fix, rollback) = match &role {
            Some(r) => (
                format!(
                    "SELECT pg_terminate_backend({});\nALTER ROLE {r} SET idle_in_transaction_session_timeout = {};",
                    s.pid,
                    quote_literal(&format!("{}ms", (th.idle_in_transaction_ms * 5.0).round() as i64))
                ),
                Some(format!("ALTER ROLE {r} RESET idle_in_transaction_session_timeout;")),
            ),
            None => (format!("SELECT pg_terminate_backend({});", s.pid), None),
        };
        let what = format!(
            "has been idle inside an open transaction for {:.0} s (transaction open {:.0} s): it holds its locks and keeps vacuum from removing dead rows; last query: {}",
            ms / 1000.0,
            s.xact_ms.unwrap_or(ms) / 1000.0,
            short(s.query.as_deref())
        );
        out.push(
            session_finding(CHECK.info.id, CHECK.severity, Priority::High, s, what)
                .fix(fix, rollback),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testdata::sample_snapshot;

    #[test]
    fn a_session_idle_in_a_transaction_is_terminated_and_its_role_limited() {
        let f = run(&sample_snapshot(), &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].object, "pid 4101 (app@shop)");
        assert_eq!(
            f[0].fix_sql.as_deref(),
            Some("SELECT pg_terminate_backend(4101);\nALTER ROLE app SET idle_in_transaction_session_timeout = '300000ms';")
        );
    }

    #[test]
    fn a_brief_idle_transaction_is_not_reported() {
        let th = Thresholds {
            idle_in_transaction_ms: 1_000_000.0,
            ..Thresholds::default()
        };
        assert!(run(&sample_snapshot(), &th).is_empty());
    }
}
