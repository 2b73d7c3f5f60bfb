//! What the session checks share: how a session is named and described, and how many of the
//! usable connections are taken.

use std::collections::BTreeMap;

use serde_json::json;

use crate::analyze::{Finding, Priority, Severity};
use crate::checks::CheckId;
use crate::collect::activity::Session;
use crate::snapshot::Snapshot;
use crate::util::round2;

/// `pid 4101 (app@shop)`.
pub fn who(s: &Session) -> String {
    format!(
        "pid {} ({}@{})",
        s.pid,
        s.usename.as_deref().unwrap_or("?"),
        s.database.as_deref().unwrap_or("?")
    )
}

/// The query on one line, cut to 120 characters.
pub fn short(q: Option<&str>) -> String {
    let q = q.unwrap_or("<not visible>");
    let one: String = q.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 120 {
        format!("{}...", one.chars().take(117).collect::<String>())
    } else {
        one
    }
}

/// The numbers of a session that a finding's `detail` carries.
pub fn session_detail(s: &Session) -> serde_json::Value {
    json!({
        "pid": s.pid,
        "user": s.usename,
        "database": s.database,
        "application_name": s.application_name,
        "state": s.state,
        "query_ms": s.query_ms.map(round2),
        "xact_ms": s.xact_ms.map(round2),
        "state_ms": s.state_ms.map(round2),
        "wait_event_type": s.wait_event_type,
        "wait_event": s.wait_event,
        "query": s.query,
    })
}

/// The sessions of the snapshot that `keep` selects, each with the number `keep` returns (how
/// long it has been in the state the check looks for, in ms).
pub fn sessions_over<'a>(
    snap: &'a Snapshot,
    keep: impl Fn(&Session) -> Option<f64> + 'a,
) -> impl Iterator<Item = (&'a Session, f64)> + 'a {
    snap.activity
        .sessions
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .filter_map(move |s| keep(s).map(|ms| (s, ms)))
}

/// A finding about session `s`: its object is `who(s)`, its message `who(s)` followed by
/// `what`, its detail the session's numbers.
pub fn session_finding(
    id: CheckId,
    severity: Severity,
    priority: Priority,
    s: &Session,
    what: String,
) -> Finding {
    Finding::new(id, severity, priority, who(s), format!("{} {what}", who(s)))
        .detail(session_detail(s))
}

/// Client connections against the usable maximum, by state (dbdoctor's own session counted).
pub struct ConnectionUse {
    pub total: usize,
    pub usable: i64,
    pub pct: f64,
    pub by_state: BTreeMap<String, usize>,
}

pub fn connection_use(snap: &Snapshot, sessions: &[Session]) -> ConnectionUse {
    let max = i64::from(snap.capabilities.max_connections);
    let reserved = snap
        .schema
        .settings
        .as_ref()
        .map_or(0, |s| i64::from(s.superuser_reserved_connections));
    let usable = (max - reserved).max(1);
    // Our own session is excluded from the collected list but holds a slot too.
    let total = sessions.len() + 1;
    let mut by_state = BTreeMap::new();
    for s in sessions {
        *by_state
            .entry(s.state.clone().unwrap_or_else(|| "not visible".into()))
            .or_insert(0) += 1;
    }
    *by_state.entry("active".into()).or_insert(0) += 1;
    ConnectionUse {
        total,
        usable,
        pct: total as f64 / usable as f64 * 100.0,
        by_state,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testdata::sample_snapshot;

    #[test]
    fn connection_use_counts_this_session_against_the_usable_maximum() {
        let s = sample_snapshot();
        let c = connection_use(&s, s.activity.sessions.as_deref().unwrap());
        // 4 sessions plus dbdoctor's, of 100 - 3 reserved.
        assert_eq!((c.total, c.usable), (5, 97));
        assert_eq!(c.by_state["active"], 3);
    }

    #[test]
    fn long_queries_are_shortened_on_one_line() {
        let q = format!("SELECT\n{}", "x, ".repeat(100));
        let s = short(Some(&q));
        assert_eq!(s.chars().count(), 120);
        assert!(s.starts_with("SELECT x,") && s.ends_with("..."));
        assert_eq!(short(None), "<not visible>");
    }
}
