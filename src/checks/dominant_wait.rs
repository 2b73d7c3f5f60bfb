//! `dominant_wait`: during `--window`, Lock, IO or LWLock waits hold most of the active session
//! time sampled from pg_stat_activity. The aggregation is `analyze::wait_profile`.

use super::Check;
use crate::analyze::doctor::CheckInfo;
use crate::analyze::thresholds::Thresholds;
use crate::analyze::wait_profile::{
    dominant_wait, profile, DOMINANT_WAIT_MIN_SESSION_SAMPLES, DOMINANT_WAIT_PCT,
};
use crate::analyze::{Finding, Severity};
use crate::checks::CheckId;
use crate::cli::Section;
use crate::snapshot::Snapshot;

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::DominantWait,
        section: Section::Queries,
        summary: "one Lock, IO or LWLock wait type holds most of the active time (--window)",
    },
    severity: Severity::Warning,
    thresholds: &[
        ("DOMINANT_WAIT_PCT", DOMINANT_WAIT_PCT),
        (
            "DOMINANT_WAIT_MIN_SESSION_SAMPLES",
            DOMINANT_WAIT_MIN_SESSION_SAMPLES as f64,
        ),
    ],
    sql: &["wait_sample*.sql"],
    // Only a window samples pg_stat_activity; without one there is nothing to judge and
    // nothing is missing (the window is a choice, not a privilege).
    missing: |_| None,
    run,
};

pub fn run(snap: &Snapshot, _th: &Thresholds) -> Vec<Finding> {
    snap.wait_samples
        .as_ref()
        .and_then(profile)
        .as_ref()
        .and_then(dominant_wait)
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silent_without_a_window() {
        let snap = crate::analyze::testdata::sample_snapshot();
        assert!(snap.wait_samples.is_none());
        assert!(run(&snap, &Thresholds::default()).is_empty());
    }

    #[test]
    fn names_the_lock_waits_of_a_window() {
        use crate::collect::wait_samples::{ActiveSession, WaitSample, WaitSamples};
        let waiting = |event: &str| ActiveSession {
            wait_event_type: Some("Lock".into()),
            wait_event: Some(event.into()),
            statement: "UPDATE counters SET n = n + $1".into(),
        };
        let mut snap = crate::analyze::testdata::sample_snapshot();
        snap.wait_samples = Some(WaitSamples {
            interval_ms: 100,
            window_ms: 3000.0,
            samples: (0..30)
                .map(|i| WaitSample {
                    at_ms: i * 100,
                    sessions: vec![waiting("transactionid"), waiting("tuple")],
                })
                .collect(),
            ..Default::default()
        });
        let f = run(&snap, &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].object, "Lock");
        assert_eq!(f[0].severity, Severity::Warning);
    }
}
