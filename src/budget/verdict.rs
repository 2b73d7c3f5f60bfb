//! Verdicts: measured figures against budgets -> pass / warn / breach / no-data. Pure: no I/O.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::budget::classify::{classify, Access, QueryClass};
use crate::budget::config::{Budgets, LatencyLimits, Workload};
use crate::budget::probe::ProbeResult;
use crate::stats::Method;

/// A figure within this share of its limit (but not beyond it) is a warning.
pub const WARN_WITHIN_PCT: f64 = 10.0;
/// Measured error band of the percentile estimator, in percent of the figure: the workload P95
/// and P99 estimates were within −7.1 %…+3.2 % of the client-timed truth over four seeds
/// (DB_PERF.md §2), rounded up with margin. An estimate beyond a limit by less than this is a
/// warning, not a breach.
pub const ESTIMATE_BAND_PCT: f64 = 10.0;
/// What an estimate inside the band asks for.
pub const CONFIRM_NOTE: &str = "estimated: confirm with a probe";
/// What an estimate whose fit did not converge says, whatever its status.
pub const UNCONVERGED_NOTE: &str = "estimate did not converge: confirm with a probe";
/// A period shorter than this gives no rates (too few seconds to divide by).
pub const MIN_PERIOD_S: f64 = 1.0;
/// Longest statement text carried in a verdict.
pub const MAX_QUERY_CHARS: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Pass,
    Warn,
    Breach,
    NoData,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Breach => "breach",
            Status::NoData => "no-data",
        }
    }
}

/// Whether the limit is a ceiling (latency, resources) or a floor (throughput).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Bound {
    Max,
    Min,
}

/// Budget family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Latency,
    Throughput,
    Resource,
    Regression,
    /// A statement's plan changed since the baseline (`plan_regression`).
    Plan,
}

/// A statement that breaks (or nearly breaks) a budget.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Offender {
    pub queryid: Option<i64>,
    /// Normalized statement text (or the probe name), shortened.
    pub query: String,
    pub measured: f64,
    /// `exact`, `estimated` or `unconverged`: how `measured` was obtained.
    pub method: Method,
    pub status: Status,
}

impl Offender {
    /// The figure as text, `~` before an estimate.
    pub fn measured_text(&self) -> String {
        fmt_figure(self.measured, Some(self.method))
    }
}

/// One budget judged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// Stable identifier, e.g. `latency.simple.p95_ms`, `probe.meal_by_id.p95_ms`.
    pub id: String,
    pub kind: Kind,
    pub status: Status,
    pub bound: Bound,
    pub limit: f64,
    pub measured: Option<f64>,
    /// `ms`, `qps`, `%`, `iops`.
    pub unit: &'static str,
    /// `exact` (probes) or `estimated` (pg_stat_statements percentiles); absent when not a latency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<Method>,
    /// Where the figure came from: `pg_stat_statements`, `probe`, `pg_stat_activity`, `host`.
    pub source: &'static str,
    /// Latency only: `server` (pg_stat_statements: execution time inside the server) or
    /// `client` (probes: round trip as the client saw it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timing: Option<&'static str>,
    /// Why a figure beyond its limit is not a breach (an estimate inside its error band).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The statement or probe the measured figure belongs to (the worst one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queryid: Option<i64>,
    /// Every statement at warn or breach, worst first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub offenders: Vec<Offender>,
    /// Why there is no data, or what a regression compared against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Verdict {
    /// A verdict on `id` of `kind` against `limit` (`bound`, in `unit`) from `source`, with no
    /// figure yet (no data): each caller sets what it knows.
    fn base(
        id: String,
        kind: Kind,
        bound: Bound,
        limit: f64,
        unit: &'static str,
        source: &'static str,
    ) -> Self {
        Verdict {
            id,
            kind,
            status: Status::NoData,
            bound,
            limit,
            measured: None,
            unit,
            method: None,
            source,
            timing: None,
            note: None,
            subject: None,
            queryid: None,
            offenders: Vec::new(),
            reason: None,
        }
    }

    /// `statement: SELECT …` or `measured on: orders`: what was measured, when it has a name.
    pub fn subject_line(&self) -> Option<String> {
        let s = self.subject.as_ref()?;
        let what = if self.queryid.is_some() {
            "statement"
        } else {
            "measured on"
        };
        Some(format!("{what}: {s}"))
    }

    /// `measured vs limit` in words, for JUnit, GitHub and tables.
    pub fn explain(&self) -> String {
        if self.kind == Kind::Plan {
            return self.reason.clone().unwrap_or_default();
        }
        match self.measured {
            None => format!(
                "no data: {}",
                self.reason.as_deref().unwrap_or("nothing measured")
            ),
            Some(m) => {
                let op = match self.bound {
                    Bound::Max => "limit",
                    Bound::Min => "minimum",
                };
                let mut labels = Vec::new();
                match self.method {
                    Some(Method::Estimated) => labels.push("estimated"),
                    Some(Method::Unconverged) => labels.push("estimate did not converge"),
                    _ => {}
                }
                match self.timing {
                    Some("server") => labels.push("server time"),
                    Some("client") => labels.push("client time"),
                    _ => {}
                }
                let est = if labels.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", labels.join(", "))
                };
                let mut s = format!(
                    "measured {}{}{est}, {op} {}{}",
                    fmt_figure(m, self.method),
                    unit_suffix(self.unit),
                    fmt_num(self.limit),
                    unit_suffix(self.unit)
                );
                if let Some(over) = self.over_pct() {
                    if over > 0.0 {
                        s.push_str(&format!(" ({over:.0}% over)"));
                    }
                }
                if let Some(n) = &self.note {
                    s.push_str(&format!("; {n}"));
                }
                s
            }
        }
    }

    /// How far past the limit, in percent of the limit (negative: inside).
    pub fn over_pct(&self) -> Option<f64> {
        let m = self.measured?;
        if self.limit <= 0.0 {
            return None;
        }
        Some(match self.bound {
            Bound::Max => (m - self.limit) / self.limit * 100.0,
            Bound::Min => (self.limit - m) / self.limit * 100.0,
        })
    }
}

fn unit_suffix(u: &str) -> String {
    match u {
        "%" => "%".to_string(),
        "" => String::new(),
        u => format!(" {u}"),
    }
}

/// Numbers as people read them: 3 significant digits below 100, whole numbers above.
pub fn fmt_num(x: f64) -> String {
    // Never print `-0`: a zero is a zero whatever its sign bit.
    let x = if x == 0.0 { 0.0 } else { x };
    if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// A figure as text with `~` before it when it is an estimate (every output uses this).
pub fn fmt_figure(x: f64, method: Option<Method>) -> String {
    format!("{}{}", method.map_or("", Method::mark), fmt_num(x))
}

/// Status of a figure obtained by `method` against a limit, and the note that goes with it.
/// An estimate is a breach only beyond the limit by more than `ESTIMATE_BAND_PCT`; between the
/// limit and the band it is a warning to confirm with a probe. An unconverged estimate is judged
/// the same way (its figure still lies within the statement's min..max) and always says so.
pub fn judge_with(
    bound: Bound,
    limit: f64,
    measured: f64,
    method: Method,
) -> (Status, Option<String>) {
    let plain = judge(bound, limit, measured);
    if method == Method::Exact {
        return (plain, None);
    }
    let band = limit * ESTIMATE_BAND_PCT / 100.0;
    let beyond_band = match bound {
        Bound::Max => measured > limit + band,
        Bound::Min => measured < limit - band,
    };
    let status = if plain == Status::Breach && !beyond_band {
        Status::Warn
    } else {
        plain
    };
    let note = match method {
        Method::Unconverged if status >= Status::Warn => Some(UNCONVERGED_NOTE.to_string()),
        Method::Estimated if plain == Status::Breach && !beyond_band => {
            Some(CONFIRM_NOTE.to_string())
        }
        _ => None,
    };
    (status, note)
}

/// Status of a measured figure against a limit.
pub fn judge(bound: Bound, limit: f64, measured: f64) -> Status {
    let margin = limit * WARN_WITHIN_PCT / 100.0;
    match bound {
        Bound::Max if measured > limit => Status::Breach,
        Bound::Max if measured >= limit - margin => Status::Warn,
        Bound::Min if measured < limit => Status::Breach,
        Bound::Min if measured <= limit + margin => Status::Warn,
        _ => Status::Pass,
    }
}

/// A statement as pg_stat_statements saw it over the measured period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObservedStatement {
    pub queryid: i64,
    pub query: String,
    pub calls: u64,
    pub mean_ms: f64,
    /// Estimated percentiles; `None` when the collector could not estimate them.
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    /// How the percentiles were obtained (`estimated`, or `unconverged` when the fit failed).
    #[serde(default = "estimated")]
    pub method: Method,
}

fn estimated() -> Method {
    Method::Estimated
}

/// What pg_stat_statements contributed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Observed {
    /// `None`: pg_stat_statements could not be read (the reason says why).
    pub statements: Option<Vec<ObservedStatement>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unavailable_reason: Option<String>,
    /// Length of the measured period in seconds (window or since a mark); `None` when cumulative.
    pub period_s: Option<f64>,
}

/// Resource figures; `None` fields carry their reason.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ResourceSample {
    pub connections_used: Option<i64>,
    pub max_connections: Option<i64>,
    pub cpu_pct: Option<f64>,
    pub memory_pct: Option<f64>,
    pub disk_iops: Option<f64>,
    /// Why CPU, memory and IOPS are missing (remote database, no /proc/diskstats ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connections_reason: Option<String>,
}

/// A statement whose text did not parse: reported, never dropped.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unclassified {
    pub queryid: i64,
    pub query: String,
    pub calls: u64,
    pub error: String,
}

/// Observed throughput, for information only (it depends on the load offered).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ObservedRates {
    pub statements: usize,
    pub calls: u64,
    pub read_qps: Option<f64>,
    pub write_qps: Option<f64>,
}

/// Figures saved with `--save-baseline`, compared with `--baseline`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub schema_version: u32,
    /// P95 in ms per latency verdict id (`latency.simple.p95_ms`, `probe.x.p95_ms`).
    pub p95_ms: BTreeMap<String, f64>,
    /// How each `p95_ms` entry was obtained (absent in files written before it existed).
    #[serde(default)]
    pub method: BTreeMap<String, Method>,
    /// Achieved QPS per probe name.
    pub qps: BTreeMap<String, f64>,
    /// P95 per statement, keyed by queryid, so a regression compares a statement with itself
    /// (absent in older files: those compare verdict by verdict).
    #[serde(default)]
    pub statements: BTreeMap<String, BaselineStatement>,
    /// Plan fingerprints per queryid (absent in older files: no plan comparison).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub plans: crate::plans::regress::StoredPlans,
}

/// One statement's figure in a baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineStatement {
    pub p95_ms: f64,
    pub method: Method,
    /// The verdict the statement was judged under, e.g. `latency.simple.p95_ms`.
    pub verdict: String,
    pub query: String,
}

/// A statement's P95 behind a latency verdict (kept for baselines, not serialized).
#[derive(Debug, Clone, PartialEq)]
pub struct StatementFigure {
    pub queryid: i64,
    pub query: String,
    pub p95_ms: f64,
    pub method: Method,
}

pub const BASELINE_SCHEMA_VERSION: u32 = 1;

/// The judged budgets plus what they were judged from.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Judgement {
    pub verdicts: Vec<Verdict>,
    pub unclassified: Vec<Unclassified>,
    pub observed: ObservedRates,
    /// Every statement's P95 per `…p95_ms` verdict id, for per-statement baselines.
    #[serde(skip)]
    pub statement_p95: BTreeMap<String, Vec<StatementFigure>>,
}

impl Judgement {
    pub fn count(&self, s: Status) -> usize {
        self.verdicts.iter().filter(|v| v.status == s).count()
    }

    /// Figures to save as a baseline.
    pub fn baseline(&self, probes: &[ProbeResult]) -> Baseline {
        let mut b = Baseline {
            schema_version: BASELINE_SCHEMA_VERSION,
            ..Default::default()
        };
        for v in &self.verdicts {
            if v.kind == Kind::Latency && v.id.ends_with(".p95_ms") {
                if let Some(m) = v.measured {
                    b.p95_ms.insert(v.id.clone(), m);
                    if let Some(method) = v.method {
                        b.method.insert(v.id.clone(), method);
                    }
                }
            }
        }
        for (id, figures) in &self.statement_p95 {
            for f in figures {
                b.statements.insert(
                    f.queryid.to_string(),
                    BaselineStatement {
                        p95_ms: f.p95_ms,
                        method: f.method,
                        verdict: id.clone(),
                        query: f.query.clone(),
                    },
                );
            }
        }
        for p in probes {
            b.qps.insert(p.name.clone(), p.qps);
        }
        b
    }
}

pub fn shorten(q: &str) -> String {
    let one: String = q.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > MAX_QUERY_CHARS {
        let mut s: String = one.chars().take(MAX_QUERY_CHARS - 1).collect();
        s.push('…');
        s
    } else {
        one
    }
}

/// One latency metric of a group of statements.
struct Metric {
    name: &'static str,
    limit: Option<f64>,
    get: fn(&ObservedStatement) -> Option<f64>,
}

fn metrics(l: &LatencyLimits) -> [Metric; 3] {
    [
        Metric {
            name: "p95_ms",
            limit: l.p95_ms,
            get: |s| s.p95_ms,
        },
        Metric {
            name: "p99_ms",
            limit: l.p99_ms,
            get: |s| s.p99_ms,
        },
        Metric {
            name: "mean_ms",
            limit: l.mean_ms,
            get: |s| Some(s.mean_ms),
        },
    ]
}

/// Verdicts for a group of statements under one set of limits: the worst statement with at
/// least `min_calls` calls decides; fewer calls cannot decide (too few to estimate from).
fn group_verdicts(
    id_prefix: &str,
    limits: &LatencyLimits,
    stmts: &[&ObservedStatement],
    empty_reason: &str,
    min_calls: u64,
    j: &mut Judgement,
) {
    for m in metrics(limits) {
        let id = format!("{id_prefix}.{}", m.name);
        let is_mean = m.name == "mean_ms";
        // The mean is what pg_stat_statements records: not an estimate.
        let method_of = |s: &ObservedStatement| if is_mean { Method::Exact } else { s.method };
        let mut all: Vec<(&ObservedStatement, f64)> = stmts
            .iter()
            .filter_map(|s| (m.get)(s).map(|v| (*s, v)))
            .collect();
        all.sort_by(|a, b| b.1.total_cmp(&a.1));
        if m.name == "p95_ms" {
            j.statement_p95.insert(
                id.clone(),
                all.iter()
                    .map(|(s, v)| StatementFigure {
                        queryid: s.queryid,
                        query: shorten(&s.query),
                        p95_ms: *v,
                        method: s.method,
                    })
                    .collect(),
            );
        }
        let Some(limit) = m.limit else { continue };
        let figures: Vec<(&ObservedStatement, f64)> = all
            .iter()
            .copied()
            .filter(|(s, _)| s.calls >= min_calls)
            .collect();
        match figures.first() {
            None => j.verdicts.push(Verdict {
                timing: Some("server"),
                reason: Some(if stmts.is_empty() {
                    empty_reason.to_string()
                } else if !all.is_empty() {
                    format!(
                        "{} statement(s) ran, each with fewer than min_calls = {min_calls} calls: too few to decide",
                        all.len()
                    )
                } else {
                    format!("no {} estimate for these statements", m.name)
                }),
                ..Verdict::base(id, Kind::Latency, Bound::Max, limit, "ms", "pg_stat_statements")
            }),
            Some((worst, value)) => {
                let offenders = figures
                    .iter()
                    .filter_map(|(s, v)| {
                        let method = method_of(s);
                        let (st, _) = judge_with(Bound::Max, limit, *v, method);
                        (st >= Status::Warn).then(|| Offender {
                            queryid: Some(s.queryid),
                            query: shorten(&s.query),
                            measured: *v,
                            method,
                            status: st,
                        })
                    })
                    .collect();
                let method = method_of(worst);
                let (status, note) = judge_with(Bound::Max, limit, *value, method);
                j.verdicts.push(Verdict {
                    status,
                    measured: Some(*value),
                    method: Some(method),
                    timing: Some("server"),
                    note,
                    subject: Some(shorten(&worst.query)),
                    queryid: Some(worst.queryid),
                    offenders,
                    ..Verdict::base(
                        id,
                        Kind::Latency,
                        Bound::Max,
                        limit,
                        "ms",
                        "pg_stat_statements",
                    )
                })
            }
        }
    }
}

/// Judge everything. `resources` is `None` when it was not sampled.
pub fn judge_all(
    budgets: &Budgets,
    observed: &Observed,
    probes: &[ProbeResult],
    resources: &ResourceSample,
) -> Judgement {
    let mut j = Judgement::default();
    latency_from_statements(budgets, observed, &mut j);
    latency_from_probes(budgets, probes, &mut j);
    throughput(budgets, probes, &mut j);
    resource_verdicts(budgets, resources, &mut j);
    j
}

fn latency_from_statements(budgets: &Budgets, observed: &Observed, j: &mut Judgement) {
    let Some(stmts) = &observed.statements else {
        let reason = observed
            .unavailable_reason
            .clone()
            .unwrap_or_else(|| "pg_stat_statements could not be read".to_string());
        for (class, limits) in &budgets.latency {
            group_verdicts(
                &format!("latency.{}", class.as_str()),
                limits,
                &[],
                &reason,
                budgets.min_calls(),
                j,
            );
        }
        for sb in &budgets.statements {
            group_verdicts(
                &format!("statement.{}", sb.name),
                &sb.limits,
                &[],
                &reason,
                budgets.min_calls(),
                j,
            );
        }
        return;
    };
    let mut by_class: BTreeMap<QueryClass, Vec<&ObservedStatement>> = BTreeMap::new();
    let mut by_budget: Vec<Vec<&ObservedStatement>> = vec![Vec::new(); budgets.statements.len()];
    let (mut read_calls, mut write_calls) = (0u64, 0u64);
    for s in stmts {
        if s.calls == 0 || budgets.ignore.matches(s.queryid, &s.query) {
            continue;
        }
        j.observed.statements += 1;
        j.observed.calls += s.calls;
        let c = classify(&s.query);
        match c.access {
            Some(Access::Write) => write_calls += s.calls,
            Some(Access::Read) => read_calls += s.calls,
            None => {}
        }
        if let Some(i) = budgets
            .statements
            .iter()
            .position(|b| b.matcher.matches(s.queryid, &s.query))
        {
            by_budget[i].push(s);
            continue;
        }
        if let Some(err) = c.error {
            j.unclassified.push(Unclassified {
                queryid: s.queryid,
                query: shorten(&s.query),
                calls: s.calls,
                error: err,
            });
            continue;
        }
        by_class.entry(c.class).or_default().push(s);
    }
    // An empty or too short period has no rates ("no data"), never 0 QPS.
    if let Some(p) = observed
        .period_s
        .filter(|p| *p >= MIN_PERIOD_S && j.observed.calls > 0)
    {
        j.observed.read_qps = Some(read_calls as f64 / p);
        j.observed.write_qps = Some(write_calls as f64 / p);
    }
    for (class, limits) in &budgets.latency {
        let group = by_class.get(class).map(Vec::as_slice).unwrap_or(&[]);
        group_verdicts(
            &format!("latency.{}", class.as_str()),
            limits,
            group,
            &format!(
                "no {} statements ran in the measured period",
                class.as_str()
            ),
            budgets.min_calls(),
            j,
        );
    }
    for (sb, group) in budgets.statements.iter().zip(&by_budget) {
        group_verdicts(
            &format!("statement.{}", sb.name),
            &sb.limits,
            group,
            &format!("no statement matching {} ran", sb.matcher.describe()),
            budgets.min_calls(),
            j,
        );
    }
}

fn latency_from_probes(budgets: &Budgets, probes: &[ProbeResult], j: &mut Judgement) {
    for p in probes {
        let limits = budgets
            .statements
            .iter()
            .find(|b| b.matcher.matches(i64::MIN, &p.sql))
            .map(|b| b.limits)
            .or_else(|| budgets.latency.get(&p.class).copied());
        let Some(limits) = limits else { continue };
        let l = &p.latency;
        for (name, limit, value) in [
            ("p95_ms", limits.p95_ms, l.p95_ms),
            ("p99_ms", limits.p99_ms, l.p99_ms),
            ("mean_ms", limits.mean_ms, l.mean_ms),
        ] {
            let Some(limit) = limit else { continue };
            let (status, measured, reason) = if l.count == 0 {
                (
                    Status::NoData,
                    None,
                    Some("the probe ran no executions".to_string()),
                )
            } else {
                (judge(Bound::Max, limit, value), Some(value), None)
            };
            j.verdicts.push(Verdict {
                status,
                measured,
                method: Some(Method::Exact),
                timing: Some("client"),
                subject: Some(format!("probe {} ({})", p.name, p.class.as_str())),
                reason,
                ..Verdict::base(
                    format!("probe.{}.{name}", p.name),
                    Kind::Latency,
                    Bound::Max,
                    limit,
                    "ms",
                    "probe",
                )
            });
        }
    }
}

fn throughput(budgets: &Budgets, probes: &[ProbeResult], j: &mut Judgement) {
    let t = &budgets.throughput;
    for (w, limit) in [
        (Workload::Read, t.read_min_qps),
        (Workload::Write, t.write_min_qps),
        (Workload::Mixed, t.mixed_min_qps),
    ] {
        let Some(limit) = limit else { continue };
        let id = format!("throughput.{}_min_qps", w.as_str());
        let worst = probes
            .iter()
            .filter(|p| p.workload == w && p.executions > 0)
            .min_by(|a, b| a.qps.total_cmp(&b.qps));
        let v = match worst {
            None => Verdict {
                reason: Some(format!(
                    "throughput is capacity and is judged only from probes; no {} probe ran (add a [[probes]] entry{})",
                    w.as_str(),
                    if w == Workload::Mixed { " with workload = \"mixed\"" } else { "" }
                )),
                ..Verdict::base(id, Kind::Throughput, Bound::Min, limit, "qps", "probe")
            },
            Some(p) => Verdict {
                status: judge(Bound::Min, limit, p.qps),
                measured: Some(p.qps),
                subject: Some(format!("probe {} at concurrency {}", p.name, p.concurrency)),
                ..Verdict::base(id, Kind::Throughput, Bound::Min, limit, "qps", "probe")
            },
        };
        j.verdicts.push(v);
    }
}

fn resource_verdicts(budgets: &Budgets, r: &ResourceSample, j: &mut Judgement) {
    let l = &budgets.resources;
    let conn_pct = match (r.connections_used, r.max_connections) {
        (Some(u), Some(m)) if m > 0 => Some(u as f64 / m as f64 * 100.0),
        _ => None,
    };
    let host_reason = r
        .host_reason
        .clone()
        .unwrap_or_else(|| "not sampled".to_string());
    for (key, limit, measured, unit, source, reason, subject) in [
        (
            "cpu_max_pct",
            l.cpu_max_pct,
            r.cpu_pct,
            "%",
            "host",
            host_reason.clone(),
            None,
        ),
        (
            "memory_max_pct",
            l.memory_max_pct,
            r.memory_pct,
            "%",
            "host",
            host_reason.clone(),
            None,
        ),
        (
            "connections_max_pct",
            l.connections_max_pct,
            conn_pct,
            "%",
            "pg_stat_activity",
            r.connections_reason
                .clone()
                .unwrap_or_else(|| "not sampled".to_string()),
            r.connections_used
                .zip(r.max_connections)
                .map(|(u, m)| format!("{u} of max_connections {m}")),
        ),
        (
            "disk_max_iops",
            l.disk_max_iops,
            r.disk_iops,
            "iops",
            "host",
            host_reason.clone(),
            None,
        ),
    ] {
        let Some(limit) = limit else { continue };
        j.verdicts.push(Verdict {
            status: measured.map_or(Status::NoData, |m| judge(Bound::Max, limit, m)),
            measured,
            subject: if measured.is_some() { subject } else { None },
            reason: measured.is_none().then_some(reason),
            ..Verdict::base(
                format!("resources.{key}"),
                Kind::Resource,
                Bound::Max,
                limit,
                unit,
                source,
            )
        });
    }
}

/// With `--baseline`: a P95 or QPS worse than the baseline by more than `max_pct` is a breach,
/// even when the absolute budget passes. A baseline with per-statement figures compares each
/// statement with its own earlier P95 (by queryid) and the worst ratio decides; an older
/// baseline without them compares verdict with verdict.
pub fn regressions(j: &mut Judgement, probes: &[ProbeResult], base: &Baseline, max_pct: f64) {
    let mut extra = Vec::new();
    let allowed = |b: f64| b * (1.0 + max_pct / 100.0);
    for v in &j.verdicts {
        if v.kind != Kind::Latency || !v.id.ends_with(".p95_ms") {
            continue;
        }
        let per_statement = j
            .statement_p95
            .get(&v.id)
            .filter(|_| !base.statements.is_empty() && v.source == "pg_stat_statements");
        if let Some(figures) = per_statement {
            let mut pairs: Vec<(&StatementFigure, f64)> = figures
                .iter()
                .filter_map(|f| {
                    let b = base.statements.get(&f.queryid.to_string())?;
                    (b.p95_ms > 0.0).then_some((f, b.p95_ms))
                })
                .collect();
            pairs.sort_by(|a, b| (b.0.p95_ms / b.1).total_cmp(&(a.0.p95_ms / a.1)));
            let Some(&(worst, b)) = pairs.first() else {
                continue;
            };
            let offenders = pairs
                .iter()
                .filter(|(f, b)| f.p95_ms > allowed(*b))
                .map(|(f, _)| Offender {
                    queryid: Some(f.queryid),
                    query: f.query.clone(),
                    measured: f.p95_ms,
                    method: f.method,
                    status: Status::Breach,
                })
                .collect();
            extra.push(Verdict {
                status: if worst.p95_ms > allowed(b) {
                    Status::Breach
                } else {
                    Status::Pass
                },
                measured: Some(worst.p95_ms),
                method: Some(worst.method),
                timing: v.timing,
                subject: Some(worst.query.clone()),
                queryid: Some(worst.queryid),
                offenders,
                reason: Some(format!(
                    "same statement's baseline {} ms + {max_pct}% allowed regression",
                    fmt_num(b)
                )),
                ..Verdict::base(
                    format!("regression.{}", v.id),
                    Kind::Regression,
                    Bound::Max,
                    allowed(b),
                    "ms",
                    v.source,
                )
            });
            continue;
        }
        let (Some(m), Some(b)) = (v.measured, base.p95_ms.get(&v.id)) else {
            continue;
        };
        let limit = allowed(*b);
        extra.push(Verdict {
            status: if m > limit {
                Status::Breach
            } else {
                Status::Pass
            },
            measured: Some(m),
            method: v.method,
            timing: v.timing,
            subject: v.subject.clone(),
            queryid: v.queryid,
            reason: Some(format!(
                "baseline {} ms + {max_pct}% allowed regression",
                fmt_num(*b)
            )),
            ..Verdict::base(
                format!("regression.{}", v.id),
                Kind::Regression,
                Bound::Max,
                limit,
                "ms",
                v.source,
            )
        });
    }
    for p in probes {
        let Some(b) = base.qps.get(&p.name) else {
            continue;
        };
        let limit = b * (1.0 - max_pct / 100.0);
        extra.push(Verdict {
            status: if p.qps < limit {
                Status::Breach
            } else {
                Status::Pass
            },
            measured: Some(p.qps),
            subject: Some(format!("probe {}", p.name)),
            reason: Some(format!(
                "baseline {} qps - {max_pct}% allowed regression",
                fmt_num(*b)
            )),
            ..Verdict::base(
                format!("regression.probe.{}.qps", p.name),
                Kind::Regression,
                Bound::Min,
                limit,
                "qps",
                "probe",
            )
        });
    }
    j.verdicts.extend(extra);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::config::parse;
    use crate::stats::LatencySummary;

    fn budgets() -> Budgets {
        parse("b.toml", include_str!("../../budgets.toml")).unwrap()
    }

    fn stmt(id: i64, q: &str, calls: u64, mean: f64, p95: f64, p99: f64) -> ObservedStatement {
        ObservedStatement {
            queryid: id,
            query: q.to_string(),
            calls,
            mean_ms: mean,
            p95_ms: Some(p95),
            p99_ms: Some(p99),
            method: Method::Estimated,
        }
    }

    fn find<'a>(j: &'a Judgement, id: &str) -> &'a Verdict {
        j.verdicts
            .iter()
            .find(|v| v.id == id)
            .unwrap_or_else(|| panic!("no verdict {id}: {:#?}", j.verdicts))
    }

    #[test]
    fn judging_bounds() {
        assert_eq!(judge(Bound::Max, 10.0, 5.0), Status::Pass);
        assert_eq!(judge(Bound::Max, 10.0, 9.5), Status::Warn);
        assert_eq!(judge(Bound::Max, 10.0, 10.0), Status::Warn);
        assert_eq!(judge(Bound::Max, 10.0, 10.1), Status::Breach);
        assert_eq!(judge(Bound::Min, 100.0, 99.0), Status::Breach);
        assert_eq!(judge(Bound::Min, 100.0, 105.0), Status::Warn);
        assert_eq!(judge(Bound::Min, 100.0, 111.0), Status::Pass);
    }

    #[test]
    fn worst_statement_decides_and_is_named() {
        let obs = Observed {
            statements: Some(vec![
                stmt(1, "SELECT * FROM meals WHERE id = $1", 100, 1.0, 2.0, 3.0),
                stmt(2, "SELECT pg_sleep($1)", 10, 30.0, 31.0, 32.0),
                stmt(3, "SELECT a FROM t JOIN u USING (id)", 10, 5.0, 9.0, 12.0),
                stmt(4, "SELEC broken", 3, 1.0, 1.0, 1.0),
                stmt(5, "BEGIN", 100, 0.01, 0.01, 0.01),
            ]),
            unavailable_reason: None,
            period_s: Some(10.0),
        };
        let j = judge_all(&budgets(), &obs, &[], &ResourceSample::default());
        let v = find(&j, "latency.simple.p95_ms");
        assert_eq!(v.status, Status::Breach);
        assert_eq!(v.queryid, Some(2));
        assert_eq!(v.measured, Some(31.0));
        assert_eq!(v.method, Some(Method::Estimated));
        assert_eq!(v.offenders.len(), 1);
        assert_eq!(v.offenders[0].method, Method::Estimated);
        assert_eq!(v.offenders[0].measured_text(), "~31.0");
        assert_eq!(v.timing, Some("server"));
        assert_eq!(
            find(&j, "latency.simple.mean_ms").method,
            Some(Method::Exact)
        );
        assert!(
            v.explain()
                .contains("measured ~31.0 ms (estimated, server time), limit 10.0 ms (210% over)"),
            "{}",
            v.explain()
        );
        assert_eq!(find(&j, "latency.complex.p95_ms").status, Status::Pass);
        let a = find(&j, "latency.analytics.p95_ms");
        assert_eq!(a.status, Status::NoData);
        assert!(a
            .reason
            .as_deref()
            .unwrap()
            .contains("no analytics statements"));
        assert_eq!(j.unclassified.len(), 1);
        assert_eq!(j.unclassified[0].queryid, 4);
        // BEGIN is ignored by the default file.
        assert_eq!(j.observed.statements, 4);
        assert_eq!(j.observed.read_qps, Some(12.0));
    }

    #[test]
    fn throughput_without_probes_is_no_data() {
        let j = judge_all(
            &budgets(),
            &Observed::default(),
            &[],
            &ResourceSample::default(),
        );
        let v = find(&j, "throughput.read_min_qps");
        assert_eq!(v.status, Status::NoData);
        assert!(v.reason.as_deref().unwrap().contains("only from probes"));
    }

    fn probe(name: &str, qps: f64, p95: f64) -> ProbeResult {
        ProbeResult {
            name: name.into(),
            sql: "SELECT 1".into(),
            class: QueryClass::Simple,
            access: Some(Access::Read),
            workload: Workload::Read,
            concurrency: 4,
            allow_writes: false,
            executions: 1000,
            elapsed_s: 1.0,
            qps,
            latency: LatencySummary {
                count: 1000,
                mean_ms: p95 / 2.0,
                p50_ms: p95 / 2.0,
                p90_ms: p95,
                p95_ms: p95,
                p99_ms: p95,
                max_ms: p95,
                method: Method::Exact,
            },
            histogram: Vec::new(),
        }
    }

    #[test]
    fn probes_judge_throughput_and_exact_latency() {
        let j = judge_all(
            &budgets(),
            &Observed::default(),
            &[probe("a", 5000.0, 1.0), probe("b", 800.0, 12.0)],
            &ResourceSample::default(),
        );
        let t = find(&j, "throughput.read_min_qps");
        assert_eq!(t.status, Status::Breach);
        assert_eq!(t.measured, Some(800.0));
        let l = find(&j, "probe.b.p95_ms");
        assert_eq!(l.status, Status::Breach);
        assert_eq!(l.method, Some(Method::Exact));
        assert_eq!(find(&j, "probe.a.p95_ms").status, Status::Pass);
    }

    #[test]
    fn resources() {
        let r = ResourceSample {
            connections_used: Some(90),
            max_connections: Some(100),
            host_reason: Some("the database is on another host".into()),
            ..Default::default()
        };
        let j = judge_all(&budgets(), &Observed::default(), &[], &r);
        assert_eq!(
            find(&j, "resources.connections_max_pct").status,
            Status::Breach
        );
        let c = find(&j, "resources.cpu_max_pct");
        assert_eq!(c.status, Status::NoData);
        assert_eq!(c.reason.as_deref(), Some("the database is on another host"));
    }

    #[test]
    fn regression_beyond_the_allowance_is_a_breach() {
        let probes = [probe("a", 5000.0, 4.0)];
        let mut j = judge_all(
            &budgets(),
            &Observed::default(),
            &probes,
            &ResourceSample::default(),
        );
        assert_eq!(find(&j, "probe.a.p95_ms").status, Status::Pass);
        let mut base = j.baseline(&probes);
        base.p95_ms.insert("probe.a.p95_ms".into(), 2.0);
        base.qps.insert("a".into(), 5500.0);
        regressions(&mut j, &probes, &base, 20.0);
        assert_eq!(find(&j, "regression.probe.a.p95_ms").status, Status::Breach);
        assert_eq!(find(&j, "regression.probe.a.qps").status, Status::Pass);
    }

    #[test]
    fn an_estimate_inside_its_error_band_is_a_warning_to_confirm() {
        use Method::*;
        // Limit 10 ms, band 10 %: an estimate up to 11 ms is not enough for a breach. An
        // unconverged fit is judged with the same band and says it did not converge.
        // (measured, method, status, note when the case pins it)
        let cases = [
            (10.5, Exact, Status::Breach, Some(None)),
            (10.5, Estimated, Status::Warn, Some(Some(CONFIRM_NOTE))),
            (11.0, Estimated, Status::Warn, None),
            (11.01, Estimated, Status::Breach, Some(None)),
            (5.0, Estimated, Status::Pass, Some(None)),
            (
                50.0,
                Unconverged,
                Status::Breach,
                Some(Some(UNCONVERGED_NOTE)),
            ),
            (
                10.5,
                Unconverged,
                Status::Warn,
                Some(Some(UNCONVERGED_NOTE)),
            ),
            (5.0, Unconverged, Status::Pass, None),
        ];
        for (measured, method, status, note) in cases {
            let (got, got_note) = judge_with(Bound::Max, 10.0, measured, method);
            assert_eq!(got, status, "{measured} {method:?}");
            if let Some(note) = note {
                assert_eq!(got_note.as_deref(), note, "{measured} {method:?}");
            }
        }

        let obs = Observed {
            statements: Some(vec![
                stmt(1, "SELECT * FROM meals WHERE id = $1", 100, 1.0, 10.5, 12.0),
                ObservedStatement {
                    method: Unconverged,
                    ..stmt(2, "SELECT * FROM users WHERE id = $1", 100, 1.0, 9.0, 30.0)
                },
            ]),
            unavailable_reason: None,
            period_s: Some(10.0),
        };
        let j = judge_all(&budgets(), &obs, &[], &ResourceSample::default());
        let v = find(&j, "latency.simple.p95_ms");
        assert_eq!(v.status, Status::Warn);
        assert_eq!(v.note.as_deref(), Some(CONFIRM_NOTE));
        assert!(
            v.explain().ends_with("; estimated: confirm with a probe"),
            "{}",
            v.explain()
        );
        let v = find(&j, "latency.simple.p99_ms");
        assert_eq!((v.queryid, v.status), (Some(2), Status::Breach));
        assert_eq!(v.method, Some(Unconverged));
        assert_eq!(v.note.as_deref(), Some(UNCONVERGED_NOTE));
        assert!(
            v.explain().contains("estimate did not converge"),
            "{}",
            v.explain()
        );
        let json = serde_json::to_value(v).unwrap();
        assert_eq!(json["method"], "unconverged");
        assert_eq!(json["offenders"][0]["method"], "unconverged");
    }

    #[test]
    fn too_few_calls_cannot_decide_a_class_verdict() {
        let slow_once = stmt(1, "SELECT pg_sleep($1)", 1, 500.0, 500.0, 500.0);
        let fast = stmt(2, "SELECT * FROM meals WHERE id = $1", 50, 1.0, 2.0, 3.0);
        let obs = |v: Vec<ObservedStatement>| Observed {
            statements: Some(v),
            unavailable_reason: None,
            period_s: Some(10.0),
        };
        let b = budgets();
        assert_eq!(b.min_calls(), crate::budget::config::DEFAULT_MIN_CALLS);
        let j = judge_all(
            &b,
            &obs(vec![slow_once.clone(), fast]),
            &[],
            &ResourceSample::default(),
        );
        let v = find(&j, "latency.simple.p95_ms");
        assert_eq!((v.status, v.queryid), (Status::Pass, Some(2)));
        let j = judge_all(
            &b,
            &obs(vec![slow_once.clone()]),
            &[],
            &ResourceSample::default(),
        );
        let v = find(&j, "latency.simple.p95_ms");
        assert_eq!(v.status, Status::NoData);
        assert!(
            v.reason
                .as_deref()
                .unwrap()
                .contains("fewer than min_calls = 2"),
            "{v:?}"
        );
        // The key lowers the minimum.
        let b = parse(
            "b.toml",
            "version = 1\nmin_calls = 1\n[latency.simple]\np95_ms = 10\n",
        )
        .unwrap();
        let j = judge_all(&b, &obs(vec![slow_once]), &[], &ResourceSample::default());
        assert_eq!(find(&j, "latency.simple.p95_ms").status, Status::Breach);
    }

    #[test]
    fn empty_or_too_short_periods_have_no_rates_and_no_negative_zero() {
        let obs = Observed {
            statements: Some(vec![stmt(1, "SELECT 1", 10, 1.0, 1.0, 1.0)]),
            unavailable_reason: None,
            period_s: Some(0.2),
        };
        let j = judge_all(&budgets(), &obs, &[], &ResourceSample::default());
        assert_eq!(j.observed.read_qps, None);
        assert_eq!(j.observed.write_qps, None);
        let empty = Observed {
            statements: Some(Vec::new()),
            unavailable_reason: None,
            period_s: Some(30.0),
        };
        let j = judge_all(&budgets(), &empty, &[], &ResourceSample::default());
        assert_eq!(j.observed.read_qps, None);
        let v = find(&j, "latency.simple.p95_ms");
        assert_eq!((v.status, v.measured), (Status::NoData, None));
        assert!(v.explain().starts_with("no data"));
        assert_eq!(fmt_num(-0.0), "0.00");
        assert_eq!(fmt_figure(-0.0, Some(Method::Estimated)), "~0.00");
    }

    #[test]
    fn a_statement_regresses_against_itself_by_queryid() {
        let obs = |a: f64, b: f64| Observed {
            statements: Some(vec![
                stmt(1, "SELECT * FROM meals WHERE id = $1", 100, 1.0, a, a),
                stmt(2, "SELECT * FROM users WHERE id = $1", 100, 1.0, b, b),
            ]),
            unavailable_reason: None,
            period_s: Some(10.0),
        };
        let b = budgets();
        let before = judge_all(&b, &obs(1.0, 8.0), &[], &ResourceSample::default());
        let base = before.baseline(&[]);
        assert_eq!(base.statements["1"].p95_ms, 1.0);
        assert_eq!(base.statements["2"].method, Method::Estimated);
        assert_eq!(base.method["latency.simple.p95_ms"], Method::Estimated);
        // Statement 1 triples (1 -> 3 ms) while the worst statement (2) stays: comparing the class
        // worst with the class worst (3 vs 8) would see no regression.
        let mut after = judge_all(&b, &obs(3.0, 8.0), &[], &ResourceSample::default());
        regressions(&mut after, &[], &base, 20.0);
        let r = find(&after, "regression.latency.simple.p95_ms");
        assert_eq!((r.status, r.queryid), (Status::Breach, Some(1)));
        assert_eq!(r.offenders.len(), 1);
        // A baseline file written before per-statement figures still reads and compares verdicts.
        let old: Baseline = serde_json::from_str(
            r#"{"schema_version":1,"p95_ms":{"latency.simple.p95_ms":8.0},"qps":{}}"#,
        )
        .unwrap();
        assert!(old.statements.is_empty());
        let mut after = judge_all(&b, &obs(3.0, 8.0), &[], &ResourceSample::default());
        regressions(&mut after, &[], &old, 20.0);
        let r = find(&after, "regression.latency.simple.p95_ms");
        assert_eq!((r.status, r.queryid), (Status::Pass, Some(2)));
    }
}
