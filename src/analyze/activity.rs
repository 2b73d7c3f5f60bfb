//! Activity and resource checks: long-running and idle-in-transaction sessions, blocked
//! sessions with their blockers (any lock type), connection use, cache hit ratio, host load.

use std::collections::BTreeMap;

use serde_json::json;

use crate::analyze::doctor::{needs, Input, Sink};
use crate::analyze::indexes::round2;
use crate::analyze::{Finding, Priority, Severity};
use crate::collect::activity::Session;
use crate::util::{human_bytes, quote_ident, quote_literal};

pub fn run(input: &Input, sink: &mut Sink) {
    let snap = input.snap;
    let a = &snap.activity;
    let sessions = a.sessions.as_deref();
    sink.check(
        "long_running_query",
        sessions,
        || needs(snap, "sessions"),
        |s, out| long_running(input, s, out),
    );
    sink.check(
        "idle_in_transaction",
        sessions,
        || needs(snap, "sessions"),
        |s, out| idle_in_tx(input, s, out),
    );
    sink.check(
        "blocking_locks",
        sessions,
        || needs(snap, "sessions"),
        |s, out| blocking(input, s, out),
    );
    sink.check(
        "connections_usage",
        sessions,
        || needs(snap, "sessions"),
        |s, out| connections(input, s, out),
    );
    sink.check(
        "cache_hit_ratio",
        a.database.as_ref(),
        || needs(snap, "database"),
        |db, out| cache_hit(input, db, out),
    );
    let host = snap.host.as_ref().filter(|_| snap.local);
    let host_missing = || crate::snapshot::Skipped {
        what: String::new(),
        reason: if snap.host.is_some() {
            "the database does not run on the host dbdoctor ran on (remote connection)".into()
        } else {
            "host not sampled".into()
        },
        enable: Some("run dbdoctor on the database host (unix socket or localhost)".into()),
    };
    sink.check("host_cpu", host, host_missing, |h, out| {
        if h.cpu_usage_pct > input.th.cpu_pct {
            out.push(
                Finding::new(
                    "host_cpu",
                    Severity::Warning,
                    Priority::Medium,
                    "host",
                    format!(
                        "the database host's CPU was {:.0}% busy while sampled ({} cores, load {:.2}), above {:.0}%",
                        h.cpu_usage_pct, h.cpu_count, h.load_average_1m, input.th.cpu_pct
                    ),
                )
                .detail(json!({"cpu_usage_pct": round2(h.cpu_usage_pct), "cpu_count": h.cpu_count, "load_average_1m": h.load_average_1m})),
            );
        }
    });
    sink.check("host_memory", host, host_missing, |h, out| {
        let used = h.memory_total_bytes.saturating_sub(h.memory_available_bytes);
        let p = used as f64 / (h.memory_total_bytes.max(1)) as f64 * 100.0;
        if p > input.th.memory_pct {
            out.push(
                Finding::new(
                    "host_memory",
                    Severity::Warning,
                    Priority::Medium,
                    "host",
                    format!(
                        "the database host uses {:.0}% of its memory ({} of {}), above {:.0}%",
                        p,
                        human_bytes(used as i64),
                        human_bytes(h.memory_total_bytes as i64),
                        input.th.memory_pct
                    ),
                )
                .detail(json!({"memory_used_pct": round2(p), "memory_total_bytes": h.memory_total_bytes, "memory_available_bytes": h.memory_available_bytes})),
            );
        }
    });
}

fn who(s: &Session) -> String {
    format!(
        "pid {} ({}@{})",
        s.pid,
        s.usename.as_deref().unwrap_or("?"),
        s.database.as_deref().unwrap_or("?")
    )
}

fn short(q: Option<&str>) -> String {
    let q = q.unwrap_or("<not visible>");
    let one: String = q.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 120 {
        format!("{}...", one.chars().take(117).collect::<String>())
    } else {
        one
    }
}

fn session_detail(s: &Session) -> serde_json::Value {
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

fn long_running(input: &Input, sessions: &[Session], out: &mut Vec<Finding>) {
    let th = input.th;
    for s in sessions {
        let Some(ms) = s.query_ms else { continue };
        if s.state.as_deref() != Some("active") || ms < th.long_running_query_ms {
            continue;
        }
        let critical = ms >= th.long_running_query_critical_ms;
        out.push(
            Finding::new(
                "long_running_query",
                if critical {
                    Severity::Critical
                } else {
                    Severity::Warning
                },
                if critical {
                    Priority::High
                } else {
                    Priority::Medium
                },
                who(s),
                format!(
                    "{} has been running one query for {:.0} s: {}",
                    who(s),
                    ms / 1000.0,
                    short(s.query.as_deref())
                ),
            )
            .detail(session_detail(s))
            .fix(format!("SELECT pg_cancel_backend({});", s.pid), None),
        );
    }
}

fn idle_in_tx(input: &Input, sessions: &[Session], out: &mut Vec<Finding>) {
    let th = input.th;
    for s in sessions {
        let Some(ms) = s.state_ms else { continue };
        let idle = matches!(
            s.state.as_deref(),
            Some("idle in transaction") | Some("idle in transaction (aborted)")
        );
        if !idle || ms < th.idle_in_transaction_ms {
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
        out.push(
            Finding::new(
                "idle_in_transaction",
                Severity::Warning,
                Priority::High,
                who(s),
                format!(
                    "{} has been idle inside an open transaction for {:.0} s (transaction open {:.0} s): it holds its locks and keeps vacuum from removing dead rows; last query: {}",
                    who(s),
                    ms / 1000.0,
                    s.xact_ms.unwrap_or(ms) / 1000.0,
                    short(s.query.as_deref())
                ),
            )
            .detail(session_detail(s))
            .fix(fix, rollback),
        );
    }
}

fn blocking(input: &Input, sessions: &[Session], out: &mut Vec<Finding>) {
    let th = input.th;
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
                "blocking_locks",
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
}

/// Connection counts: total client sessions, usable slots, by state.
pub struct ConnectionUse {
    pub total: usize,
    pub usable: i64,
    pub pct: f64,
    pub by_state: BTreeMap<String, usize>,
}

pub fn connection_use(input: &Input, sessions: &[Session]) -> ConnectionUse {
    let max = i64::from(input.snap.capabilities.max_connections);
    let reserved = input
        .snap
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

fn connections(input: &Input, sessions: &[Session], out: &mut Vec<Finding>) {
    let th = input.th;
    let c = connection_use(input, sessions);
    if c.pct <= th.connections_pct {
        return;
    }
    let critical = c.pct > th.connections_critical_pct;
    out.push(
        Finding::new(
            "connections_usage",
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
            "max_connections": input.snap.capabilities.max_connections,
            "used_pct": round2(c.pct),
            "by_state": c.by_state,
        })),
    );
}

fn cache_hit(input: &Input, db: &crate::collect::activity::DatabaseStats, out: &mut Vec<Finding>) {
    let th = input.th;
    let total = db.blks_hit + db.blks_read;
    if total < th.cache_hit_min_blocks {
        return;
    }
    let ratio = db.blks_hit as f64 / total as f64 * 100.0;
    if ratio >= th.cache_hit_ratio_pct {
        return;
    }
    out.push(
        Finding::new(
            "cache_hit_ratio",
            Severity::Warning,
            Priority::Medium,
            quote_ident(&db.name),
            format!(
                "database {} found {:.2}% of the blocks it needed in shared buffers (below {:.0}%): {} blocks came from the OS or disk; the working set may not fit shared_buffers, or large sequential scans are evicting it",
                quote_ident(&db.name),
                ratio,
                th.cache_hit_ratio_pct,
                db.blks_read
            ),
        )
        .detail(json!({
            "blks_hit": db.blks_hit,
            "blks_read": db.blks_read,
            "hit_pct": round2(ratio),
            "stats_since": input.stats.since,
        })),
    );
}
