//! Verdicts: measured figures against budgets -> pass / warn / breach / no-data. Pure: no I/O.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::budget::classify::{classify, Access, QueryClass};
use crate::budget::config::{Budgets, LatencyLimits, Workload};
use crate::budget::probe::ProbeResult;
use crate::stats::Method;

/// A figure within this share of its limit (but not beyond it) is a warning.
pub const WARN_WITHIN_PCT: f64 = 10.0;
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
}

/// A statement that breaks (or nearly breaks) a budget.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Offender {
    pub queryid: Option<i64>,
    /// Normalized statement text (or the probe name), shortened.
    pub query: String,
    pub measured: f64,
    pub status: Status,
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
    /// `measured vs limit` in words, for JUnit, GitHub and tables.
    pub fn explain(&self) -> String {
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
                let est = match self.method {
                    Some(Method::Estimated) => " (estimated)",
                    _ => "",
                };
                let mut s = format!(
                    "measured {}{}{est}, {op} {}{}",
                    fmt_num(m),
                    unit_suffix(self.unit),
                    fmt_num(self.limit),
                    unit_suffix(self.unit)
                );
                if let Some(over) = self.over_pct() {
                    if over > 0.0 {
                        s.push_str(&format!(" ({over:.0}% over)"));
                    }
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
    if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
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
    /// Achieved QPS per probe name.
    pub qps: BTreeMap<String, f64>,
}

pub const BASELINE_SCHEMA_VERSION: u32 = 1;

/// The judged budgets plus what they were judged from.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Judgement {
    pub verdicts: Vec<Verdict>,
    pub unclassified: Vec<Unclassified>,
    pub observed: ObservedRates,
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
                }
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

/// Verdicts for a group of statements under one set of limits: the worst statement decides.
fn group_verdicts(
    id_prefix: &str,
    limits: &LatencyLimits,
    stmts: &[&ObservedStatement],
    empty_reason: &str,
    out: &mut Vec<Verdict>,
) {
    for m in metrics(limits) {
        let Some(limit) = m.limit else { continue };
        let mut figures: Vec<(&ObservedStatement, f64)> = stmts
            .iter()
            .filter_map(|s| (m.get)(s).map(|v| (*s, v)))
            .collect();
        figures.sort_by(|a, b| b.1.total_cmp(&a.1));
        let id = format!("{id_prefix}.{}", m.name);
        let method = if m.name == "mean_ms" {
            // The mean is what pg_stat_statements records: not an estimate.
            Method::Exact
        } else {
            Method::Estimated
        };
        match figures.first() {
            None => out.push(Verdict {
                id,
                kind: Kind::Latency,
                status: Status::NoData,
                bound: Bound::Max,
                limit,
                measured: None,
                unit: "ms",
                method: None,
                source: "pg_stat_statements",
                subject: None,
                queryid: None,
                offenders: Vec::new(),
                reason: Some(if stmts.is_empty() {
                    empty_reason.to_string()
                } else {
                    format!("no {} estimate for these statements", m.name)
                }),
            }),
            Some((worst, value)) => {
                let offenders = figures
                    .iter()
                    .filter_map(|(s, v)| {
                        let st = judge(Bound::Max, limit, *v);
                        (st >= Status::Warn).then(|| Offender {
                            queryid: Some(s.queryid),
                            query: shorten(&s.query),
                            measured: *v,
                            status: st,
                        })
                    })
                    .collect();
                out.push(Verdict {
                    id,
                    kind: Kind::Latency,
                    status: judge(Bound::Max, limit, *value),
                    bound: Bound::Max,
                    limit,
                    measured: Some(*value),
                    unit: "ms",
                    method: Some(method),
                    source: "pg_stat_statements",
                    subject: Some(shorten(&worst.query)),
                    queryid: Some(worst.queryid),
                    offenders,
                    reason: None,
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
                &mut j.verdicts,
            );
        }
        for sb in &budgets.statements {
            group_verdicts(
                &format!("statement.{}", sb.name),
                &sb.limits,
                &[],
                &reason,
                &mut j.verdicts,
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
    if let Some(p) = observed.period_s.filter(|p| *p > 0.0) {
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
            &mut j.verdicts,
        );
    }
    for (sb, group) in budgets.statements.iter().zip(&by_budget) {
        group_verdicts(
            &format!("statement.{}", sb.name),
            &sb.limits,
            group,
            &format!("no statement matching {} ran", sb.matcher.describe()),
            &mut j.verdicts,
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
                id: format!("probe.{}.{name}", p.name),
                kind: Kind::Latency,
                status,
                bound: Bound::Max,
                limit,
                measured,
                unit: "ms",
                method: Some(Method::Exact),
                source: "probe",
                subject: Some(format!("probe {} ({})", p.name, p.class.as_str())),
                queryid: None,
                offenders: Vec::new(),
                reason,
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
                id,
                kind: Kind::Throughput,
                status: Status::NoData,
                bound: Bound::Min,
                limit,
                measured: None,
                unit: "qps",
                method: None,
                source: "probe",
                subject: None,
                queryid: None,
                offenders: Vec::new(),
                reason: Some(format!(
                    "throughput is capacity and is judged only from probes; no {} probe ran (add a [[probes]] entry{})",
                    w.as_str(),
                    if w == Workload::Mixed { " with workload = \"mixed\"" } else { "" }
                )),
            },
            Some(p) => Verdict {
                id,
                kind: Kind::Throughput,
                status: judge(Bound::Min, limit, p.qps),
                bound: Bound::Min,
                limit,
                measured: Some(p.qps),
                unit: "qps",
                method: None,
                source: "probe",
                subject: Some(format!("probe {} at concurrency {}", p.name, p.concurrency)),
                queryid: None,
                offenders: Vec::new(),
                reason: None,
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
            id: format!("resources.{key}"),
            kind: Kind::Resource,
            status: measured.map_or(Status::NoData, |m| judge(Bound::Max, limit, m)),
            bound: Bound::Max,
            limit,
            measured,
            unit,
            method: None,
            source,
            subject: if measured.is_some() { subject } else { None },
            queryid: None,
            offenders: Vec::new(),
            reason: measured.is_none().then_some(reason),
        });
    }
}

/// With `--baseline`: a P95 or QPS worse than the baseline by more than `max_pct` is a breach,
/// even when the absolute budget passes.
pub fn regressions(j: &mut Judgement, probes: &[ProbeResult], base: &Baseline, max_pct: f64) {
    let mut extra = Vec::new();
    for v in &j.verdicts {
        if v.kind != Kind::Latency || !v.id.ends_with(".p95_ms") {
            continue;
        }
        let (Some(m), Some(b)) = (v.measured, base.p95_ms.get(&v.id)) else {
            continue;
        };
        let limit = b * (1.0 + max_pct / 100.0);
        extra.push(Verdict {
            id: format!("regression.{}", v.id),
            kind: Kind::Regression,
            status: if m > limit {
                Status::Breach
            } else {
                Status::Pass
            },
            bound: Bound::Max,
            limit,
            measured: Some(m),
            unit: "ms",
            method: v.method,
            source: v.source,
            subject: v.subject.clone(),
            queryid: v.queryid,
            offenders: Vec::new(),
            reason: Some(format!(
                "baseline {} ms + {max_pct}% allowed regression",
                fmt_num(*b)
            )),
        });
    }
    for p in probes {
        let Some(b) = base.qps.get(&p.name) else {
            continue;
        };
        let limit = b * (1.0 - max_pct / 100.0);
        extra.push(Verdict {
            id: format!("regression.probe.{}.qps", p.name),
            kind: Kind::Regression,
            status: if p.qps < limit {
                Status::Breach
            } else {
                Status::Pass
            },
            bound: Bound::Min,
            limit,
            measured: Some(p.qps),
            unit: "qps",
            method: None,
            source: "probe",
            subject: Some(format!("probe {}", p.name)),
            queryid: None,
            offenders: Vec::new(),
            reason: Some(format!(
                "baseline {} qps - {max_pct}% allowed regression",
                fmt_num(*b)
            )),
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
        assert!(
            v.explain()
                .contains("measured 31.0 ms (estimated), limit 10.0 ms (210% over)"),
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
}
