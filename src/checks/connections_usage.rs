//! `connections_usage`: client connections above `connections_pct` of `max_connections` minus
//! the superuser reserve; critical above `connections_critical_pct`.

use serde_json::json;

use super::Check;
use crate::analyze::doctor::CheckInfo;
use crate::analyze::thresholds::{self as th, Thresholds};
use crate::analyze::{Finding, Priority, Severity};
use crate::checks::CheckId;
use crate::cli::Section;
use crate::snapshot::Snapshot;
use crate::util::round2;

use super::sessions::connection_use;

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::ConnectionsUsage,
        section: Section::Resources,
        summary: "client connections near max_connections",
    },
    severity: Severity::Warning,
    thresholds: &[
        ("connections_pct", th::CONNECTIONS_PCT),
        ("connections_critical_pct", th::CONNECTIONS_CRITICAL_PCT),
    ],
    sql: &["doctor_sessions.sql", "capabilities.sql"],
    missing: |s| s.activity.sessions.is_none().then_some("sessions"),
    run,
};

pub fn run(snap: &Snapshot, th: &Thresholds) -> Vec<Finding> {
    let mut out = Vec::new();
    let c = connection_use(snap, snap.activity.sessions.as_deref().unwrap_or(&[]));
    if c.pct <= th.connections_pct {
        return out;
    }
    let critical = c.pct > th.connections_critical_pct;
    out.push(
        Finding::new(
            CheckId::ConnectionsUsage,
            if critical { Severity::Critical } else { Severity::Warning },
            Priority::High,
            "server",
            format!(
                "{} client connections use {:.0}% of the {} available (max_connections minus superuser reserve): new connections will be refused soon; use a connection pooler or close idle sessions",
                c.total, c.pct, c.usable
            ),
        )
        .detail(json!({
            "connections": c.total,
            "usable": c.usable,
            "max_connections": snap.capabilities.max_connections,
            "used_pct": round2(c.pct),
            "by_state": c.by_state,
        })),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testdata::sample_snapshot;

    #[test]
    fn connections_near_the_maximum_are_reported() {
        let mut s = sample_snapshot();
        s.capabilities.max_connections = 8;
        let f = run(&s, &Thresholds::default());
        assert_eq!(f.len(), 1);
        // 5 of 8 - 3 reserved: all taken.
        assert_eq!(f[0].severity, Severity::Critical);
        assert_eq!(f[0].detail["used_pct"], 100.0);
    }

    #[test]
    fn a_few_connections_are_not_reported() {
        assert!(run(&sample_snapshot(), &Thresholds::default()).is_empty());
    }
}
