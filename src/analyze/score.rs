//! The health score: 100 minus points per finding by severity, capped per check so one noisy
//! check cannot hide the rest; every deduction is listed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::analyze::{Finding, Severity};
use crate::checks::CheckId;

pub const POINTS_CRITICAL: u32 = 15;
pub const POINTS_WARNING: u32 = 5;
pub const POINTS_INFO: u32 = 1;
/// No single check takes more than this many points.
pub const CHECK_CAP_POINTS: u32 = 30;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deduction {
    pub check: CheckId,
    pub critical: usize,
    pub warning: usize,
    pub info: usize,
    pub points: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthScore {
    /// 0-100, 100 = nothing found.
    pub score: u32,
    pub deductions: Vec<Deduction>,
}

pub fn score(findings: &[Finding]) -> HealthScore {
    let mut by_check: BTreeMap<CheckId, Deduction> = BTreeMap::new();
    for f in findings {
        let d = by_check.entry(f.check).or_insert_with(|| Deduction {
            check: f.check,
            critical: 0,
            warning: 0,
            info: 0,
            points: 0,
        });
        match f.severity {
            Severity::Critical => d.critical += 1,
            Severity::Warning => d.warning += 1,
            Severity::Info => d.info += 1,
        }
    }
    let mut deductions: Vec<Deduction> = by_check
        .into_values()
        .map(|mut d| {
            let raw = d.critical as u32 * POINTS_CRITICAL
                + d.warning as u32 * POINTS_WARNING
                + d.info as u32 * POINTS_INFO;
            d.points = raw.min(CHECK_CAP_POINTS);
            d
        })
        .collect();
    deductions.sort_by(|a, b| b.points.cmp(&a.points).then(a.check.cmp(&b.check)));
    let total: u32 = deductions.iter().map(|d| d.points).sum();
    HealthScore {
        score: 100u32.saturating_sub(total),
        deductions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::Priority;

    #[test]
    fn deductions_add_up_and_are_capped() {
        let f = |c, s| Finding::new(c, s, Priority::Low, "x", "m");
        let mut v = vec![
            f(CheckId::SlowQuery, Severity::Critical),
            f(CheckId::HostCpu, Severity::Info),
        ];
        v.extend((0..10).map(|_| f(CheckId::DeadTuples, Severity::Warning)));
        let s = score(&v);
        assert_eq!(s.deductions[0].check, CheckId::DeadTuples);
        assert_eq!(s.deductions[0].points, CHECK_CAP_POINTS);
        assert_eq!(s.score, 100 - 30 - 15 - 1);
        assert_eq!(score(&[]).score, 100);
    }
}
