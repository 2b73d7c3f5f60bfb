//! `host_memory`: memory use of the database host above `memory_pct`. Only when the database
//! runs on the host dbdoctor ran on (a local connection).

use serde_json::json;

use super::Check;
use crate::analyze::doctor::CheckInfo;
use crate::analyze::thresholds::{self as th, Thresholds};
use crate::analyze::{Finding, Severity};
use crate::checks::CheckId;
use crate::cli::Section;
use crate::snapshot::Snapshot;
use crate::util::{human_bytes, round2};

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::HostMemory,
        section: Section::Resources,
        summary: "memory use of the database host",
    },
    severity: Severity::Warning,
    thresholds: &[("memory_pct", th::MEMORY_PCT)],
    sql: &[],
    missing: super::needs_local_host,
    run,
};

pub fn run(snap: &Snapshot, th: &Thresholds) -> Vec<Finding> {
    super::host_finding(snap, &CHECK, |h| {
        let used = h
            .memory_total_bytes
            .saturating_sub(h.memory_available_bytes);
        let p = used as f64 / (h.memory_total_bytes.max(1)) as f64 * 100.0;
        (p > th.memory_pct).then(|| {
            (
                format!(
                    "the database host uses {:.0}% of its memory ({} of {}), above {:.0}%",
                    p,
                    human_bytes(used as i64),
                    human_bytes(h.memory_total_bytes as i64),
                    th.memory_pct
                ),
                json!({"memory_used_pct": round2(p), "memory_total_bytes": h.memory_total_bytes, "memory_available_bytes": h.memory_available_bytes}),
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testdata::sample_snapshot;

    #[test]
    fn a_host_short_of_memory_is_reported() {
        let th = Thresholds {
            memory_pct: 40.0,
            ..Thresholds::default()
        };
        let f = run(&sample_snapshot(), &th);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].detail["memory_used_pct"], 50.0);
    }

    #[test]
    fn a_host_with_free_memory_is_not_reported() {
        // The sample uses half of its memory, under the default 80%.
        assert!(run(&sample_snapshot(), &Thresholds::default()).is_empty());
    }
}
