//! `host_cpu`: CPU use of the database host above `cpu_pct` while sampled. Only when the
//! database runs on the host dbdoctor ran on (a local connection).

use serde_json::json;

use super::Check;
use crate::analyze::doctor::CheckInfo;
use crate::analyze::thresholds::{self as th, Thresholds};
use crate::analyze::{Finding, Severity};
use crate::checks::CheckId;
use crate::cli::Section;
use crate::snapshot::Snapshot;
use crate::util::round2;

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::HostCpu,
        section: Section::Resources,
        summary: "CPU use of the database host",
    },
    severity: Severity::Warning,
    thresholds: &[("cpu_pct", th::CPU_PCT)],
    sql: &[],
    missing: super::needs_local_host,
    run,
};

pub fn run(snap: &Snapshot, th: &Thresholds) -> Vec<Finding> {
    super::host_finding(snap, &CHECK, |h| {
        (h.cpu_usage_pct > th.cpu_pct).then(|| {
            (
                format!(
                    "the database host's CPU was {:.0}% busy while sampled ({} cores, load {:.2}), above {:.0}%",
                    h.cpu_usage_pct, h.cpu_count, h.load_average_1m, th.cpu_pct
                ),
                json!({"cpu_usage_pct": round2(h.cpu_usage_pct), "cpu_count": h.cpu_count, "load_average_1m": h.load_average_1m}),
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testdata::sample_snapshot;

    #[test]
    fn a_busy_host_is_reported() {
        let f = run(&sample_snapshot(), &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].detail["cpu_usage_pct"], 85.5);
    }

    #[test]
    fn a_quiet_host_is_not_reported() {
        let th = Thresholds {
            cpu_pct: 90.0,
            ..Thresholds::default()
        };
        assert!(run(&sample_snapshot(), &th).is_empty());
    }
}
