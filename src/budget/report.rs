//! The finished budget report every output format renders; its JSON shape is an API.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::budget::probe::ProbeResult;
use crate::budget::verdict::{
    Judgement, ObservedRates, ResourceSample, Status, Unclassified, Verdict,
};

/// Bump only for incompatible changes; adding fields keeps the version.
pub const BUDGET_SCHEMA_VERSION: u32 = 1;

/// How the pg_stat_statements figures were taken.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measurement {
    /// `cumulative` (since the last reset), `window` (`--window`) or `since` (`--since FILE`).
    pub mode: &'static str,
    /// Seconds covered; `None` when cumulative and the reset time is unknown.
    pub period_s: Option<f64>,
    /// pg_stat_statements was reset during the measured period (some executions are lost).
    pub reset_detected: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub verdicts: usize,
    pub pass: usize,
    pub warn: usize,
    pub breach: usize,
    pub no_data: usize,
    /// `breach` when any budget is breached (or, with --require-data, has no data), else `pass`.
    pub result: &'static str,
    pub require_data: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct BudgetReport {
    pub schema_version: u32,
    pub dbdoctor_version: &'static str,
    pub generated_at: DateTime<Utc>,
    /// Password-free description of the database.
    pub database: String,
    pub budgets_file: String,
    pub measurement: Measurement,
    pub summary: Summary,
    pub verdicts: Vec<Verdict>,
    pub probes: Vec<ProbeResult>,
    /// Statements whose text did not parse: classed `unknown`, listed here.
    pub unclassified: Vec<Unclassified>,
    /// Observed traffic, for information: throughput budgets are judged from probes only.
    pub observed: ObservedRates,
    pub resources: ResourceSample,
}

impl BudgetReport {
    pub fn new(
        database: String,
        budgets_file: String,
        measurement: Measurement,
        judgement: Judgement,
        probes: Vec<ProbeResult>,
        resources: ResourceSample,
        require_data: bool,
    ) -> Self {
        let breach = judgement.count(Status::Breach);
        let no_data = judgement.count(Status::NoData);
        let failed = breach > 0 || (require_data && no_data > 0);
        BudgetReport {
            schema_version: BUDGET_SCHEMA_VERSION,
            dbdoctor_version: env!("CARGO_PKG_VERSION"),
            generated_at: Utc::now(),
            database,
            budgets_file,
            measurement,
            summary: Summary {
                verdicts: judgement.verdicts.len(),
                pass: judgement.count(Status::Pass),
                warn: judgement.count(Status::Warn),
                breach,
                no_data,
                result: if failed { "breach" } else { "pass" },
                require_data,
            },
            verdicts: judgement.verdicts,
            probes,
            unclassified: judgement.unclassified,
            observed: judgement.observed,
            resources,
        }
    }

    /// Whether this verdict fails the run.
    pub fn fails(&self, v: &Verdict) -> bool {
        v.status == Status::Breach || (self.summary.require_data && v.status == Status::NoData)
    }

    pub fn failed(&self) -> bool {
        self.summary.result == "breach"
    }
}
