//! Where the time goes: the share of active session time per wait event and per statement,
//! from the pg_stat_activity samples of `doctor --window`, and the `dominant_wait` finding.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::analyze::finding::{Finding, Priority, Severity};
use crate::checks::CheckId;
use crate::collect::wait_samples::WaitSamples;

/// Lock, IO or LWLock waits (one wait event type, all its events together) above this share of
/// the active session time dominate.
pub const DOMINANT_WAIT_PCT: f64 = 50.0;
/// Below this many session samples the shares are too thin to name a dominant wait.
pub const DOMINANT_WAIT_MIN_SESSION_SAMPLES: u64 = 20;
/// Rows listed per table of the profile.
const LISTED: usize = 10;

/// The label of a session that is running without a reported wait.
pub const CPU: &str = "CPU";

/// One wait event's share. Field names are a JSON API: add, never rename.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaitShare {
    /// `Lock`, `IO`, `LWLock`, ..., or `CPU` when the session reported no wait.
    pub wait_event_type: String,
    pub wait_event: String,
    pub session_samples: u64,
    pub pct: f64,
}

/// One wait event type's share (all its events together).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaitTypeShare {
    pub wait_event_type: String,
    pub session_samples: u64,
    pub pct: f64,
}

/// One statement's share of the active time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatementShare {
    #[serde(default)]
    pub queryid: Option<i64>,
    pub query: String,
    pub session_samples: u64,
    pub pct: f64,
    /// The wait (or CPU) this statement spent most of its samples in, as `type:event`.
    pub top_wait: String,
}

/// The `wait_profile` section of the doctor report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaitProfile {
    pub samples: u64,
    pub interval_ms: u64,
    pub window_ms: f64,
    /// Sessions seen running, summed over the samples: the unit of every share.
    pub session_samples: u64,
    /// Running sessions per sample, on average.
    pub average_active_sessions: f64,
    /// Samples that read the row cap (more sessions ran than were counted).
    pub capped_samples: u64,
    /// Time the sampling queries took, as a share of the window (the sampler's own load).
    pub sampling_overhead_pct: f64,
    /// Highest share first, every type.
    pub by_wait_type: Vec<WaitTypeShare>,
    /// Highest share first; at most 10 rows.
    pub by_wait: Vec<WaitShare>,
    /// Highest share first; at most 10 rows.
    pub by_statement: Vec<StatementShare>,
}

fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 * 1000.0 / whole as f64).round() / 10.0
    }
}

/// Aggregate the samples. `None` when nothing was sampled.
pub fn profile(s: &WaitSamples) -> Option<WaitProfile> {
    if s.samples.is_empty() {
        return None;
    }
    let mut by_wait: HashMap<(String, String), u64> = HashMap::new();
    let mut by_stmt: HashMap<&str, HashMap<(String, String), u64>> = HashMap::new();
    let mut total = 0u64;
    for sample in &s.samples {
        for a in &sample.sessions {
            let key = match (&a.wait_event_type, &a.wait_event) {
                (Some(t), e) => (t.clone(), e.clone().unwrap_or_default()),
                (None, _) => (CPU.to_string(), CPU.to_string()),
            };
            total += 1;
            *by_wait.entry(key.clone()).or_default() += 1;
            *by_stmt
                .entry(a.statement.as_str())
                .or_default()
                .entry(key)
                .or_default() += 1;
        }
    }
    let mut types: HashMap<&str, u64> = HashMap::new();
    for ((t, _), n) in &by_wait {
        *types.entry(t.as_str()).or_default() += n;
    }
    let mut by_type: Vec<WaitTypeShare> = types
        .into_iter()
        .map(|(t, n)| WaitTypeShare {
            wait_event_type: t.to_string(),
            session_samples: n,
            pct: pct(n, total),
        })
        .collect();
    by_type.sort_by(|a, b| {
        b.session_samples
            .cmp(&a.session_samples)
            .then_with(|| a.wait_event_type.cmp(&b.wait_event_type))
    });
    let mut waits: Vec<WaitShare> = by_wait
        .into_iter()
        .map(|((t, e), n)| WaitShare {
            wait_event_type: t,
            wait_event: e,
            session_samples: n,
            pct: pct(n, total),
        })
        .collect();
    waits.sort_by(|a, b| {
        b.session_samples
            .cmp(&a.session_samples)
            .then_with(|| a.wait_event_type.cmp(&b.wait_event_type))
            .then_with(|| a.wait_event.cmp(&b.wait_event))
    });
    waits.truncate(LISTED);
    let mut stmts: Vec<StatementShare> = by_stmt
        .into_iter()
        .map(|(key, waits)| {
            let n: u64 = waits.values().sum();
            let ((t, e), _) = waits
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
                .expect("a statement seen has a wait");
            let known = s.statements.get(key);
            StatementShare {
                queryid: known.and_then(|k| k.queryid),
                query: known
                    .map(|k| k.query.clone())
                    .unwrap_or_else(|| key.to_string()),
                session_samples: n,
                pct: pct(n, total),
                top_wait: if t == CPU {
                    CPU.to_string()
                } else {
                    format!("{t}:{e}")
                },
            }
        })
        .collect();
    stmts.sort_by(|a, b| {
        b.session_samples
            .cmp(&a.session_samples)
            .then_with(|| a.query.cmp(&b.query))
    });
    stmts.truncate(LISTED);
    let samples = s.samples.len() as u64;
    Some(WaitProfile {
        samples,
        interval_ms: s.interval_ms,
        window_ms: s.window_ms,
        session_samples: total,
        average_active_sessions: (total as f64 / samples as f64 * 100.0).round() / 100.0,
        capped_samples: s.capped_samples,
        sampling_overhead_pct: if s.window_ms > 0.0 {
            (s.sampling_ms / s.window_ms * 1000.0).round() / 10.0
        } else {
            0.0
        },
        by_wait_type: by_type,
        by_wait: waits,
        by_statement: stmts,
    })
}

/// `dominant_wait`: Lock, IO or LWLock waits (one wait event type) hold more than
/// `DOMINANT_WAIT_PCT` of the active session time, over at least
/// `DOMINANT_WAIT_MIN_SESSION_SAMPLES` session samples. A row lock queue splits into
/// `transactionid` (the first waiter) and `tuple` (the others): the type is what dominates.
pub fn dominant_wait(p: &WaitProfile) -> Option<Finding> {
    if p.session_samples < DOMINANT_WAIT_MIN_SESSION_SAMPLES {
        return None;
    }
    let top = p.by_wait_type.first()?;
    let kind = top.wait_event_type.as_str();
    if !matches!(kind, "Lock" | "IO" | "LWLock") || top.pct <= DOMINANT_WAIT_PCT {
        return None;
    }
    let advice = match kind {
        "Lock" => "sessions wait on locks others hold: find the blockers with pg_blocking_pids() and shorten the transactions that hold them (long transactions, DDL, idle in transaction)",
        "IO" => "sessions wait on reads or writes of data files or WAL: check the cache hit ratio, missing indexes behind large reads, and the storage's latency",
        _ => "sessions wait on an internal lightweight lock: the event names the contended structure (buffer mapping, WAL insertion, lock manager, ...)",
    };
    let events: Vec<&WaitShare> = p
        .by_wait
        .iter()
        .filter(|w| w.wait_event_type == kind)
        .collect();
    let listed: Vec<String> = events
        .iter()
        .map(|w| format!("{} {:.1}%", w.wait_event, w.pct))
        .collect();
    let prefix = format!("{kind}:");
    let statement = p
        .by_statement
        .iter()
        .find(|s| s.top_wait.starts_with(&prefix));
    let mut message = format!(
        "{kind} waits took {:.1}% of the active session time over the window ({} of {} session samples, {:.2} active sessions on average; {})",
        top.pct,
        top.session_samples,
        p.session_samples,
        p.average_active_sessions,
        listed.join(", ")
    );
    if let Some(s) = statement {
        message.push_str(&format!("; most of it in: {}", s.query));
    }
    message.push_str(&format!("; {advice}"));
    let mut f = Finding::new(
        CheckId::DominantWait,
        Severity::Warning,
        Priority::High,
        kind,
        message,
    );
    f.detail = serde_json::json!({
        "wait_event_type": kind,
        "pct": top.pct,
        "session_samples": top.session_samples,
        "total_session_samples": p.session_samples,
        "events": events,
        "threshold_pct": DOMINANT_WAIT_PCT,
        "queryid": statement.and_then(|s| s.queryid),
    });
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::wait_samples::{ActiveSession, SampledStatement, WaitSample};

    fn session(t: Option<&str>, e: Option<&str>, stmt: &str) -> ActiveSession {
        ActiveSession {
            wait_event_type: t.map(str::to_string),
            wait_event: e.map(str::to_string),
            statement: stmt.to_string(),
        }
    }

    /// `n` samples, each with the given sessions.
    fn samples(n: usize, each: Vec<ActiveSession>) -> WaitSamples {
        let mut s = WaitSamples {
            interval_ms: 100,
            window_ms: n as f64 * 100.0,
            sampling_ms: n as f64 * 2.0,
            ..Default::default()
        };
        for i in 0..n {
            s.samples.push(WaitSample {
                at_ms: i as u64 * 100,
                sessions: each.clone(),
            });
        }
        s.statements.insert(
            "42".into(),
            SampledStatement {
                queryid: Some(42),
                query: "UPDATE t SET v = $1 WHERE id = $2".into(),
            },
        );
        s
    }

    #[test]
    fn shares_count_session_samples_and_name_cpu() {
        // 3 sessions waiting on a row lock, 1 on CPU, over 10 samples.
        let s = samples(
            10,
            vec![
                session(Some("Lock"), Some("transactionid"), "42"),
                session(Some("Lock"), Some("transactionid"), "42"),
                session(Some("Lock"), Some("transactionid"), "42"),
                session(None, None, "SELECT 1"),
            ],
        );
        let p = profile(&s).unwrap();
        assert_eq!((p.samples, p.session_samples), (10, 40));
        assert_eq!(p.average_active_sessions, 4.0);
        assert_eq!(p.by_wait[0].wait_event_type, "Lock");
        assert_eq!(p.by_wait[0].pct, 75.0);
        assert_eq!(
            (p.by_wait[1].wait_event_type.as_str(), p.by_wait[1].pct),
            (CPU, 25.0)
        );
        assert_eq!(p.by_statement[0].queryid, Some(42));
        assert_eq!(p.by_statement[0].top_wait, "Lock:transactionid");
        // A statement without a query id is keyed (and shown) by its masked text.
        assert_eq!(p.by_statement[1].query, "SELECT 1");
        assert_eq!(p.by_statement[1].top_wait, CPU);
        assert_eq!(p.sampling_overhead_pct, 2.0);
        let f = dominant_wait(&p).expect("a dominant lock wait");
        assert_eq!(f.check, CheckId::DominantWait);
        assert_eq!(f.object, "Lock");
        assert!(f.message.contains("transactionid 75.0%"), "{}", f.message);
        assert!(f.message.contains("UPDATE t SET"), "{}", f.message);
    }

    #[test]
    fn no_dominant_wait_at_half_or_on_cpu_or_with_few_samples() {
        // Exactly half is not "most".
        let half = samples(
            10,
            vec![
                session(Some("IO"), Some("DataFileRead"), "a"),
                session(None, None, "b"),
            ],
        );
        assert!(dominant_wait(&profile(&half).unwrap()).is_none());
        // CPU dominating is not a wait.
        let cpu = samples(30, vec![session(None, None, "b")]);
        assert!(dominant_wait(&profile(&cpu).unwrap()).is_none());
        // A Client wait (the application is slow to read) is not one dbdoctor names.
        let client = samples(30, vec![session(Some("Client"), Some("ClientRead"), "b")]);
        assert!(dominant_wait(&profile(&client).unwrap()).is_none());
        // 100% LWLock, but over 5 session samples only.
        let thin = samples(5, vec![session(Some("LWLock"), Some("WALWrite"), "b")]);
        assert!(dominant_wait(&profile(&thin).unwrap()).is_none());
        let thick = samples(25, vec![session(Some("LWLock"), Some("WALWrite"), "b")]);
        assert_eq!(
            dominant_wait(&profile(&thick).unwrap()).unwrap().object,
            "LWLock"
        );
    }

    #[test]
    fn a_row_lock_queue_split_over_two_events_still_dominates() {
        // The first waiter waits on the transaction, the others on the tuple: 50% each.
        let s = samples(
            10,
            vec![
                session(Some("Lock"), Some("transactionid"), "42"),
                session(Some("Lock"), Some("tuple"), "42"),
            ],
        );
        let p = profile(&s).unwrap();
        assert_eq!(p.by_wait_type[0].pct, 100.0);
        assert!(p.by_wait.iter().all(|w| w.pct == 50.0));
        assert_eq!(dominant_wait(&p).unwrap().object, "Lock");
    }

    #[test]
    fn empty_windows_and_idle_databases() {
        assert!(profile(&WaitSamples::default()).is_none());
        let idle = samples(10, vec![]);
        let p = profile(&idle).unwrap();
        assert_eq!(p.session_samples, 0);
        assert!(p.by_wait.is_empty() && dominant_wait(&p).is_none());
    }
}
