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
    /// Statements whose plan changed since `--baseline` (each also a `plan_regression` verdict).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub plan_changes: Vec<crate::plans::regress::PlanChange>,
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
            plan_changes: Vec::new(),
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

/// What `render` writes for [`sample_report`]: the text of each writer's snapshot test.
#[cfg(test)]
pub fn sample_output(
    render: fn(&BudgetReport, &mut dyn std::io::Write) -> anyhow::Result<()>,
) -> String {
    let mut out = Vec::new();
    render(&sample_report(), &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// A hand-built report for the writers' snapshot tests: one of each verdict status, a probe, an
/// unparseable statement.
#[cfg(test)]
pub fn sample_report() -> BudgetReport {
    use crate::budget::classify::{Access, QueryClass};
    use crate::budget::config::{parse, Workload};
    use crate::budget::probe::Bucket;
    use crate::budget::verdict::{judge_all, Observed, ObservedStatement};
    use crate::stats::{LatencySummary, Method};

    let budgets = parse(
        "budgets.toml",
        "version = 1\n[latency.simple]\np95_ms = 10\n[latency.complex]\np95_ms = 100\n\
         [latency.analytics]\np95_ms = 1000\n[throughput]\nread_min_qps = 1000\nwrite_min_qps = 100\n\
         [resources]\nconnections_max_pct = 80\ncpu_max_pct = 70\n",
    )
    .unwrap();
    let st = |queryid, query: &str, calls, mean_ms, p95| ObservedStatement {
        queryid,
        query: query.to_string(),
        calls,
        mean_ms,
        p95_ms: Some(p95),
        p99_ms: Some(p95 * 1.2),
        method: Method::Estimated,
    };
    let observed = Observed {
        statements: Some(vec![
            st(11, "SELECT pg_sleep($1)", 5, 50.0, 50.2),
            st(12, "SELECT * FROM meals WHERE id = $1", 900, 0.2, 0.4),
            st(
                13,
                "SELECT m.name FROM meals m JOIN users u ON u.id = m.user_id WHERE u.email = $1",
                40,
                60.0,
                95.0,
            ),
            st(14, "SELEC broken <text>", 2, 1.0, 1.0),
        ]),
        unavailable_reason: None,
        period_s: Some(60.0),
    };
    let probe = ProbeResult {
        name: "meal_by_id".into(),
        sql: "SELECT name FROM meals WHERE id = $1".into(),
        class: QueryClass::Simple,
        access: Some(Access::Read),
        workload: Workload::Read,
        concurrency: 4,
        allow_writes: false,
        executions: 20000,
        elapsed_s: 10.0,
        qps: 2000.0,
        latency: LatencySummary {
            count: 20000,
            mean_ms: 0.8,
            p50_ms: 0.6,
            p90_ms: 1.4,
            p95_ms: 2.1,
            p99_ms: 4.8,
            max_ms: 12.5,
            method: Method::Exact,
        },
        histogram: vec![
            Bucket {
                le_ms: Some(0.5),
                count: 6000,
            },
            Bucket {
                le_ms: Some(1.0),
                count: 9000,
            },
            Bucket {
                le_ms: Some(2.5),
                count: 4200,
            },
            Bucket {
                le_ms: Some(5.0),
                count: 700,
            },
            Bucket {
                le_ms: Some(10.0),
                count: 90,
            },
            Bucket {
                le_ms: Some(25.0),
                count: 10,
            },
        ],
    };
    let resources = ResourceSample {
        connections_used: Some(12),
        max_connections: Some(100),
        host_reason: Some("the database (db.internal) is not on this host".into()),
        ..Default::default()
    };
    let j = judge_all(
        &budgets,
        &observed,
        std::slice::from_ref(&probe),
        &resources,
    );
    let mut r = BudgetReport::new(
        "postgres://app@db.internal:5432/shop".into(),
        "budgets.toml".into(),
        Measurement {
            mode: "since",
            period_s: Some(60.0),
            reset_detected: false,
        },
        j,
        vec![probe],
        resources,
        false,
    );
    r.generated_at = "2026-01-02T03:04:05Z".parse().unwrap();
    r.dbdoctor_version = "0.0.0-test";
    r
}
