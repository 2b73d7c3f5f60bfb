//! budgets.toml: the schema, and a strict loader whose every error is one `file:line:column: message`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use regex::Regex;
use serde::Deserialize;
use serde_spanned::Spanned;

use crate::budget::classify::QueryClass;
use crate::error::Error;
use crate::util::{join_lines, line_col};

/// The only format version this build understands.
pub const BUDGETS_FORMAT_VERSION: i64 = 1;
/// Probe defaults when the file does not say.
pub const DEFAULT_PROBE_CONCURRENCY: u32 = 1;
pub const DEFAULT_PROBE_DURATION_MS: u64 = 10_000;
pub const MAX_PROBE_CONCURRENCY: i64 = 1024;

/// Validated budgets.
#[derive(Debug, Clone, Default)]
pub struct Budgets {
    pub version: i64,
    /// Latency limits per class; a class without an entry is not judged.
    pub latency: BTreeMap<QueryClass, LatencyLimits>,
    pub throughput: ThroughputLimits,
    pub resources: ResourceLimits,
    pub statements: Vec<StatementBudget>,
    pub ignore: Ignore,
    pub probes: Vec<Probe>,
    /// `min_calls`: a statement with fewer calls cannot decide a class verdict (`None`: default).
    pub min_calls: Option<u64>,
}

/// Calls a statement needs before its figures decide a class verdict, when the file is silent.
pub const DEFAULT_MIN_CALLS: u64 = 2;

impl Budgets {
    /// The effective `min_calls`.
    pub fn min_calls(&self) -> u64 {
        self.min_calls.unwrap_or(DEFAULT_MIN_CALLS)
    }
}

/// Upper limits on a latency distribution, in milliseconds. `None`: not judged.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LatencyLimits {
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub mean_ms: Option<f64>,
}

/// Minimum sustained throughput (capacity), judged from probes only.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ThroughputLimits {
    pub read_min_qps: Option<f64>,
    pub write_min_qps: Option<f64>,
    pub mixed_min_qps: Option<f64>,
}

/// Resource ceilings.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ResourceLimits {
    pub cpu_max_pct: Option<f64>,
    pub memory_max_pct: Option<f64>,
    pub connections_max_pct: Option<f64>,
    pub disk_max_iops: Option<f64>,
}

/// How a per-statement budget finds its statement.
#[derive(Debug, Clone)]
pub enum Matcher {
    QueryId(i64),
    Pattern(Regex),
}

impl Matcher {
    pub fn matches(&self, queryid: i64, text: &str) -> bool {
        match self {
            Matcher::QueryId(q) => *q == queryid,
            Matcher::Pattern(r) => r.is_match(text),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Matcher::QueryId(q) => format!("queryid {q}"),
            Matcher::Pattern(r) => format!("pattern /{}/", r.as_str()),
        }
    }
}

/// A latency budget for the statements a matcher selects (replaces the class budget for them).
#[derive(Debug, Clone)]
pub struct StatementBudget {
    pub name: String,
    pub matcher: Matcher,
    /// Overrides the parsed class of the matched statements.
    pub class: Option<QueryClass>,
    pub limits: LatencyLimits,
}

/// Statements left out of every verdict.
#[derive(Debug, Clone, Default)]
pub struct Ignore {
    pub queryids: Vec<i64>,
    pub patterns: Vec<Regex>,
}

impl Ignore {
    pub fn matches(&self, queryid: i64, text: &str) -> bool {
        self.queryids.contains(&queryid) || self.patterns.iter().any(|p| p.is_match(text))
    }
}

/// Which throughput budget a probe's achieved QPS is judged against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Workload {
    Read,
    Write,
    Mixed,
}

impl Workload {
    pub fn as_str(self) -> &'static str {
        match self {
            Workload::Read => "read",
            Workload::Write => "write",
            Workload::Mixed => "mixed",
        }
    }
}

/// When a probe (or its warm-up) stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    Duration(Duration),
    /// Total executions across all connections.
    Iterations(u64),
}

/// A generator of values for one `$n` parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamGen {
    /// Uniform integer in `[min, max]`.
    Int { min: i64, max: i64 },
    /// Uniform float in `[min, max)`.
    Float { min: f64, max: f64 },
    /// Increasing integers from `start` (unique keys for inserts).
    Sequence { start: i64 },
    /// One of the values, uniformly.
    List(ListValues),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ListValues {
    Text(Vec<String>),
    Int(Vec<i64>),
    Float(Vec<f64>),
    Bool(Vec<bool>),
}

/// A statement dbdoctor runs itself to measure exact latency and capacity.
#[derive(Debug, Clone)]
pub struct Probe {
    pub name: String,
    pub sql: String,
    /// From the file, else from classification at run time.
    pub class: Option<QueryClass>,
    pub workload: Option<Workload>,
    pub concurrency: u32,
    pub stop: Stop,
    pub warmup: Option<Stop>,
    pub allow_writes: bool,
    pub params: Vec<ParamGen>,
}

// ---------------------------------------------------------------------------------------------
// The file as written. Every limit keeps its span so semantic errors can point at it.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    version: Option<Spanned<i64>>,
    min_calls: Option<Spanned<i64>>,
    latency: Option<RawLatency>,
    throughput: Option<RawThroughput>,
    resources: Option<RawResources>,
    #[serde(default)]
    statements: Vec<Spanned<RawStatement>>,
    ignore: Option<RawIgnore>,
    #[serde(default)]
    probes: Vec<Spanned<RawProbe>>,
    /// `dbdoctor doctor`'s alerting thresholds share the file; that command validates them.
    #[serde(default, rename = "thresholds")]
    _thresholds: Option<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLatency {
    simple: Option<Spanned<RawLimits>>,
    complex: Option<Spanned<RawLimits>>,
    analytics: Option<Spanned<RawLimits>>,
    bulk: Option<Spanned<RawLimits>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    p95_ms: Option<Spanned<f64>>,
    p99_ms: Option<Spanned<f64>>,
    mean_ms: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThroughput {
    read_min_qps: Option<Spanned<f64>>,
    write_min_qps: Option<Spanned<f64>>,
    mixed_min_qps: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResources {
    cpu_max_pct: Option<Spanned<f64>>,
    memory_max_pct: Option<Spanned<f64>>,
    connections_max_pct: Option<Spanned<f64>>,
    disk_max_iops: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStatement {
    name: Option<Spanned<String>>,
    queryid: Option<Spanned<i64>>,
    pattern: Option<Spanned<String>>,
    class: Option<Spanned<String>>,
    p95_ms: Option<Spanned<f64>>,
    p99_ms: Option<Spanned<f64>>,
    mean_ms: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIgnore {
    #[serde(default)]
    queryids: Vec<i64>,
    #[serde(default)]
    patterns: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProbe {
    name: Spanned<String>,
    sql: Spanned<String>,
    class: Option<Spanned<String>>,
    workload: Option<Spanned<String>>,
    concurrency: Option<Spanned<i64>>,
    duration: Option<Spanned<String>>,
    iterations: Option<Spanned<i64>>,
    warmup: Option<Spanned<String>>,
    warmup_iterations: Option<Spanned<i64>>,
    #[serde(default)]
    allow_writes: bool,
    #[serde(default)]
    params: Vec<Spanned<RawParam>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParam {
    kind: Spanned<String>,
    min: Option<Spanned<toml::Value>>,
    max: Option<Spanned<toml::Value>>,
    start: Option<Spanned<i64>>,
    values: Option<Spanned<Vec<toml::Value>>>,
}

// ---------------------------------------------------------------------------------------------

/// Read and validate a budgets file. Every problem is an [`Error::Usage`] (exit 2).
/// The name searched for when `--budgets` is not given.
pub const BUDGETS_FILE: &str = "budgets.toml";

/// The budgets file `doctor` and `budget` use: `--budgets` as given, else the nearest
/// budgets.toml from `start` upwards, stopping at the repository root (the first folder that
/// holds `.git`); outside a repository only `start` itself is searched.
pub fn discover(explicit: Option<&Path>, start: &Path) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(p.to_path_buf());
    }
    let inside_repo = start.ancestors().any(|d| d.join(".git").exists());
    for dir in start.ancestors() {
        let candidate = dir.join(BUDGETS_FILE);
        if candidate.is_file() {
            return Some(candidate);
        }
        if !inside_repo || dir.join(".git").exists() {
            break;
        }
    }
    None
}

/// `discover` from the current directory; a found file is named relative to it when it can be.
pub fn discover_here(explicit: Option<&Path>) -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    let found = discover(explicit, &cwd)?;
    if explicit.is_some() {
        return Some(found);
    }
    // `../budgets.toml` reads better than an absolute path in messages and reports.
    let mut rel = PathBuf::new();
    for dir in cwd.ancestors() {
        if found.parent() == Some(dir) {
            rel.push(BUDGETS_FILE);
            return Some(rel);
        }
        rel.push("..");
    }
    Some(found)
}

/// The budgets file for `budget`, which cannot run without one (exit 2, naming where it looked).
pub fn require(explicit: Option<&Path>) -> Result<PathBuf, Error> {
    discover_here(explicit).ok_or_else(|| {
        Error::Usage(format!(
            "no {BUDGETS_FILE} in the current directory or above it up to the repository root; pass --budgets FILE"
        ))
    })
}

pub fn load(path: &Path) -> Result<Budgets, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Usage(format!("cannot read budgets file {}: {e}", path.display())))?;
    parse(&path.display().to_string(), &text)
}

/// Validate budgets text; `file` only names it in messages.
pub fn parse(file: &str, text: &str) -> Result<Budgets, Error> {
    let src = Source { file, text };
    let raw: RawFile = toml::from_str(text).map_err(|e| src.toml_error(&e))?;
    src.validate(raw)
}

struct Source<'a> {
    file: &'a str,
    text: &'a str,
}

impl Source<'_> {
    /// `file:line:column: message` for a byte offset.
    fn at(&self, offset: usize, msg: impl AsRef<str>) -> Error {
        let (line, col) = line_col(self.text, offset);
        Error::Usage(format!(
            "{}:{line}:{col}: {}",
            self.file,
            join_lines(msg.as_ref(), "; ")
        ))
    }

    fn at_span<T>(&self, s: &Spanned<T>, msg: impl AsRef<str>) -> Error {
        self.at(s.span().start, msg)
    }

    fn toml_error(&self, e: &toml::de::Error) -> Error {
        let offset = e.span().map(|s| s.start).unwrap_or(0);
        let msg = e.message();
        if let Some(rest) = msg.strip_prefix("unknown field `") {
            let key = rest.split('`').next().unwrap_or("");
            let expected = expected_keys(msg);
            let hint = match closest(key, &expected) {
                Some(k) => format!("; did you mean `{k}`?"),
                None if expected.is_empty() => String::new(),
                None => format!(
                    "; valid keys: {}",
                    expected
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            return self.at(offset, format!("unknown key `{key}`{hint}"));
        }
        let msg = msg
            .replace("expected f64", "expected a number")
            .replace("expected i64", "expected an integer")
            .replace("expected a boolean", "expected true or false");
        // Name the key when the error points at a `key = value` line.
        let key = self.key_before(offset);
        match key {
            Some(k) if msg.starts_with("invalid type") || msg.starts_with("invalid value") => {
                self.at(offset, format!("`{k}`: {msg}"))
            }
            _ => self.at(offset, msg),
        }
    }

    /// The key of a `key = value` line whose value starts at `offset`.
    fn key_before(&self, offset: usize) -> Option<String> {
        let start = self.text[..offset.min(self.text.len())]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let head = &self.text[start..offset.min(self.text.len())];
        let (k, _) = head.split_once('=')?;
        let k = k.trim();
        (!k.is_empty() && !k.starts_with('[')).then(|| k.to_string())
    }

    fn validate(&self, raw: RawFile) -> Result<Budgets, Error> {
        let version = match raw.version {
            None => {
                return Err(self.at(
                    0,
                    format!("missing key `version` (add `version = {BUDGETS_FORMAT_VERSION}` at the top)"),
                ))
            }
            Some(v) if *v.get_ref() != BUDGETS_FORMAT_VERSION => {
                return Err(self.at_span(
                    &v,
                    format!(
                        "unsupported budgets format version {} (this dbdoctor reads version {BUDGETS_FORMAT_VERSION})",
                        v.get_ref()
                    ),
                ))
            }
            Some(v) => *v.get_ref(),
        };
        let mut b = Budgets {
            version,
            ..Default::default()
        };
        if let Some(m) = raw.min_calls {
            if *m.get_ref() < 1 {
                return Err(self.at_span(&m, "`min_calls` must be at least 1"));
            }
            b.min_calls = Some(*m.get_ref() as u64);
        }
        if let Some(l) = raw.latency {
            for (class, limits) in [
                (QueryClass::Simple, l.simple),
                (QueryClass::Complex, l.complex),
                (QueryClass::Analytics, l.analytics),
                (QueryClass::Bulk, l.bulk),
            ] {
                if let Some(limits) = limits {
                    let span = limits.span();
                    let r = limits.into_inner();
                    let lim = self.latency_limits(span.start, &r.p95_ms, &r.p99_ms, &r.mean_ms)?;
                    b.latency.insert(class, lim);
                }
            }
        }
        if let Some(t) = raw.throughput {
            b.throughput = ThroughputLimits {
                read_min_qps: self.positive("read_min_qps", &t.read_min_qps)?,
                write_min_qps: self.positive("write_min_qps", &t.write_min_qps)?,
                mixed_min_qps: self.positive("mixed_min_qps", &t.mixed_min_qps)?,
            };
        }
        if let Some(r) = raw.resources {
            b.resources = ResourceLimits {
                cpu_max_pct: self.percent("cpu_max_pct", &r.cpu_max_pct)?,
                memory_max_pct: self.percent("memory_max_pct", &r.memory_max_pct)?,
                connections_max_pct: self.percent("connections_max_pct", &r.connections_max_pct)?,
                disk_max_iops: self.positive("disk_max_iops", &r.disk_max_iops)?,
            };
        }
        for s in raw.statements {
            let span = s.span();
            let s = s.into_inner();
            let matcher = match (&s.queryid, &s.pattern) {
                (Some(q), None) => Matcher::QueryId(*q.get_ref()),
                (None, Some(p)) => Matcher::Pattern(self.regex("pattern", p)?),
                (Some(_), Some(p)) => {
                    return Err(self.at_span(
                        p,
                        "a [[statements]] entry takes `queryid` or `pattern`, not both",
                    ))
                }
                (None, None) => {
                    return Err(self.at(
                        span.start,
                        "a [[statements]] entry needs `queryid` or `pattern`",
                    ))
                }
            };
            let limits = self.latency_limits(span.start, &s.p95_ms, &s.p99_ms, &s.mean_ms)?;
            let class = match &s.class {
                Some(c) => Some(self.class(c)?),
                None => None,
            };
            let name = match &s.name {
                Some(n) if n.get_ref().trim().is_empty() => {
                    return Err(self.at_span(n, "`name` must not be empty"))
                }
                Some(n) => n.get_ref().clone(),
                None => matcher.describe(),
            };
            b.statements.push(StatementBudget {
                name,
                matcher,
                class,
                limits,
            });
        }
        if let Some(i) = raw.ignore {
            b.ignore.queryids = i.queryids;
            for p in &i.patterns {
                b.ignore.patterns.push(self.regex("patterns", p)?);
            }
        }
        let mut names: Vec<String> = Vec::new();
        for p in raw.probes {
            let probe = self.probe(p)?;
            if names.contains(&probe.name) {
                return Err(Error::Usage(format!(
                    "{}: two probes are named `{}`",
                    self.file, probe.name
                )));
            }
            names.push(probe.name.clone());
            b.probes.push(probe);
        }
        Ok(b)
    }

    fn latency_limits(
        &self,
        table_start: usize,
        p95: &Option<Spanned<f64>>,
        p99: &Option<Spanned<f64>>,
        mean: &Option<Spanned<f64>>,
    ) -> Result<LatencyLimits, Error> {
        let lim = LatencyLimits {
            p95_ms: self.positive("p95_ms", p95)?,
            p99_ms: self.positive("p99_ms", p99)?,
            mean_ms: self.positive("mean_ms", mean)?,
        };
        if let (Some(a), Some(b), Some(s)) = (lim.p95_ms, lim.p99_ms, p99) {
            if b < a {
                return Err(
                    self.at_span(s, format!("`p99_ms` ({b}) must be at least `p95_ms` ({a})"))
                );
            }
        }
        if lim.p95_ms.is_none() && lim.p99_ms.is_none() && lim.mean_ms.is_none() {
            return Err(self.at(
                table_start,
                "a latency budget needs at least one of `p95_ms`, `p99_ms`, `mean_ms`",
            ));
        }
        Ok(lim)
    }

    fn positive(&self, key: &str, v: &Option<Spanned<f64>>) -> Result<Option<f64>, Error> {
        match v {
            None => Ok(None),
            Some(s) => {
                let x = *s.get_ref();
                if !x.is_finite() || x <= 0.0 {
                    Err(self.at_span(s, format!("`{key}` must be greater than 0, got {x}")))
                } else {
                    Ok(Some(x))
                }
            }
        }
    }

    fn percent(&self, key: &str, v: &Option<Spanned<f64>>) -> Result<Option<f64>, Error> {
        let x = self.positive(key, v)?;
        if let (Some(x), Some(s)) = (x, v) {
            if x > 100.0 {
                return Err(
                    self.at_span(s, format!("`{key}` is a percentage: at most 100, got {x}"))
                );
            }
        }
        Ok(x)
    }

    fn regex(&self, key: &str, p: &Spanned<String>) -> Result<Regex, Error> {
        if p.get_ref().is_empty() {
            return Err(self.at_span(p, format!("`{key}` must not be empty")));
        }
        Regex::new(p.get_ref()).map_err(|e| {
            let why = e.to_string();
            // The regex crate explains over several lines; its last line says what is wrong.
            let why = why
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            self.at_span(
                p,
                format!("`{key}`: invalid regular expression: {}", why.trim()),
            )
        })
    }

    fn class(&self, c: &Spanned<String>) -> Result<QueryClass, Error> {
        match c.get_ref().as_str() {
            "simple" => Ok(QueryClass::Simple),
            "complex" => Ok(QueryClass::Complex),
            "analytics" => Ok(QueryClass::Analytics),
            "bulk" => Ok(QueryClass::Bulk),
            other => Err(self.at_span(
                c,
                format!(
                    "`class` must be one of simple, complex, analytics, bulk, got \"{other}\"{}",
                    hint(other, &["simple", "complex", "analytics", "bulk"])
                ),
            )),
        }
    }

    fn duration(&self, key: &str, s: &Spanned<String>) -> Result<Duration, Error> {
        crate::util::parse_duration(key, s.get_ref()).map_err(|_| {
            self.at_span(
                s,
                format!(
                    "`{key}`: invalid duration \"{}\" (use e.g. 500ms, 10s, 2m)",
                    s.get_ref()
                ),
            )
        })
    }

    fn count(&self, key: &str, v: &Spanned<i64>, max: i64) -> Result<u64, Error> {
        let x = *v.get_ref();
        if x <= 0 {
            return Err(self.at_span(v, format!("`{key}` must be greater than 0, got {x}")));
        }
        if x > max {
            return Err(self.at_span(v, format!("`{key}` must be at most {max}, got {x}")));
        }
        Ok(x as u64)
    }

    fn probe(&self, p: Spanned<RawProbe>) -> Result<Probe, Error> {
        let span = p.span();
        let p = p.into_inner();
        let name = p.name.get_ref().trim().to_string();
        if name.is_empty() {
            return Err(self.at_span(&p.name, "probe `name` must not be empty"));
        }
        let sql = p
            .sql
            .get_ref()
            .trim()
            .trim_end_matches(';')
            .trim()
            .to_string();
        if sql.is_empty() {
            return Err(self.at_span(&p.sql, format!("probe `{name}`: `sql` must not be empty")));
        }
        let n_params = match crate::budget::classify::param_count(&sql) {
            Ok(n) => n,
            Err(why) => {
                return Err(self.at_span(
                    &p.sql,
                    format!("probe `{name}`: `sql` does not parse: {why}"),
                ))
            }
        };
        let class = match &p.class {
            Some(c) => Some(self.class(c)?),
            None => None,
        };
        let workload = match &p.workload {
            None => None,
            Some(w) => Some(match w.get_ref().as_str() {
                "read" => Workload::Read,
                "write" => Workload::Write,
                "mixed" => Workload::Mixed,
                other => {
                    return Err(self.at_span(
                        w,
                        format!(
                            "`workload` must be one of read, write, mixed, got \"{other}\"{}",
                            hint(other, &["read", "write", "mixed"])
                        ),
                    ))
                }
            }),
        };
        let concurrency = match &p.concurrency {
            Some(c) => self.count("concurrency", c, MAX_PROBE_CONCURRENCY)? as u32,
            None => DEFAULT_PROBE_CONCURRENCY,
        };
        let stop = match (&p.duration, &p.iterations) {
            (Some(_), Some(i)) => {
                return Err(self.at_span(i, "a probe takes `duration` or `iterations`, not both"))
            }
            (Some(d), None) => Stop::Duration(self.duration("duration", d)?),
            (None, Some(i)) => Stop::Iterations(self.count("iterations", i, i64::MAX)?),
            (None, None) => Stop::Duration(Duration::from_millis(DEFAULT_PROBE_DURATION_MS)),
        };
        let warmup = match (&p.warmup, &p.warmup_iterations) {
            (Some(_), Some(i)) => {
                return Err(
                    self.at_span(i, "a probe takes `warmup` or `warmup_iterations`, not both")
                )
            }
            (Some(d), None) => Some(Stop::Duration(self.duration("warmup", d)?)),
            (None, Some(i)) => Some(Stop::Iterations(self.count(
                "warmup_iterations",
                i,
                i64::MAX,
            )?)),
            (None, None) => None,
        };
        let mut params = Vec::new();
        for g in &p.params {
            params.push(self.param(g)?);
        }
        if params.len() != n_params {
            return Err(self.at(
                span.start,
                format!(
                    "probe `{name}`: its SQL uses {n_params} parameter(s) but {} [[probes.params]] given",
                    params.len()
                ),
            ));
        }
        Ok(Probe {
            name,
            sql,
            class,
            workload,
            concurrency,
            stop,
            warmup,
            allow_writes: p.allow_writes,
            params,
        })
    }

    fn param(&self, g: &Spanned<RawParam>) -> Result<ParamGen, Error> {
        let r = g.get_ref();
        let kind = r.kind.get_ref().as_str();
        let unexpected = |key: &str, present: bool| -> Result<(), Error> {
            if present {
                Err(self.at_span(
                    &r.kind,
                    format!("a `{kind}` parameter does not take `{key}`"),
                ))
            } else {
                Ok(())
            }
        };
        match kind {
            "int" => {
                unexpected("start", r.start.is_some())?;
                unexpected("values", r.values.is_some())?;
                let min = self.int_bound(g, "min", &r.min)?;
                let max = self.int_bound(g, "max", &r.max)?;
                if max.1 < min.1 {
                    return Err(self.at(
                        max.0,
                        format!("`max` ({}) is below `min` ({})", max.1, min.1),
                    ));
                }
                Ok(ParamGen::Int {
                    min: min.1,
                    max: max.1,
                })
            }
            "float" => {
                unexpected("start", r.start.is_some())?;
                unexpected("values", r.values.is_some())?;
                let min = self.float_bound(g, "min", &r.min)?;
                let max = self.float_bound(g, "max", &r.max)?;
                if max.1 < min.1 {
                    return Err(self.at(
                        max.0,
                        format!("`max` ({}) is below `min` ({})", max.1, min.1),
                    ));
                }
                Ok(ParamGen::Float {
                    min: min.1,
                    max: max.1,
                })
            }
            "sequence" => {
                unexpected("min", r.min.is_some())?;
                unexpected("max", r.max.is_some())?;
                unexpected("values", r.values.is_some())?;
                Ok(ParamGen::Sequence {
                    start: r.start.as_ref().map_or(1, |s| *s.get_ref()),
                })
            }
            "list" => {
                unexpected("min", r.min.is_some())?;
                unexpected("max", r.max.is_some())?;
                unexpected("start", r.start.is_some())?;
                let Some(values) = &r.values else {
                    return Err(self.at_span(g, "a `list` parameter needs `values`"));
                };
                self.list(values).map(ParamGen::List)
            }
            other => Err(self.at_span(
                &r.kind,
                format!(
                    "parameter `kind` must be one of int, float, sequence, list, got \"{other}\"{}",
                    hint(other, &["int", "float", "sequence", "list"])
                ),
            )),
        }
    }

    fn int_bound(
        &self,
        g: &Spanned<RawParam>,
        key: &str,
        v: &Option<Spanned<toml::Value>>,
    ) -> Result<(usize, i64), Error> {
        match v {
            None => Err(self.at_span(g, format!("an `int` parameter needs `{key}`"))),
            Some(s) => match s.get_ref() {
                toml::Value::Integer(i) => Ok((s.span().start, *i)),
                other => Err(self.at_span(
                    s,
                    format!(
                        "`{key}`: invalid type: {}, expected an integer",
                        other.type_str()
                    ),
                )),
            },
        }
    }

    fn float_bound(
        &self,
        g: &Spanned<RawParam>,
        key: &str,
        v: &Option<Spanned<toml::Value>>,
    ) -> Result<(usize, f64), Error> {
        match v {
            None => Err(self.at_span(g, format!("a `float` parameter needs `{key}`"))),
            Some(s) => match s.get_ref() {
                toml::Value::Integer(i) => Ok((s.span().start, *i as f64)),
                toml::Value::Float(f) if f.is_finite() => Ok((s.span().start, *f)),
                other => Err(self.at_span(
                    s,
                    format!(
                        "`{key}`: invalid type: {}, expected a number",
                        other.type_str()
                    ),
                )),
            },
        }
    }

    fn list(&self, values: &Spanned<Vec<toml::Value>>) -> Result<ListValues, Error> {
        let v = values.get_ref();
        let Some(first) = v.first() else {
            return Err(self.at_span(values, "`values` must not be empty"));
        };
        let mismatch = || {
            self.at_span(
                values,
                "`values` must all have the same type (strings, integers, floats or booleans)",
            )
        };
        Ok(match first {
            toml::Value::String(_) => ListValues::Text(
                v.iter()
                    .map(|x| x.as_str().map(str::to_string).ok_or_else(mismatch))
                    .collect::<Result<_, _>>()?,
            ),
            toml::Value::Integer(_) => ListValues::Int(
                v.iter()
                    .map(|x| x.as_integer().ok_or_else(mismatch))
                    .collect::<Result<_, _>>()?,
            ),
            toml::Value::Float(_) => ListValues::Float(
                v.iter()
                    .map(|x| x.as_float().ok_or_else(mismatch))
                    .collect::<Result<_, _>>()?,
            ),
            toml::Value::Boolean(_) => ListValues::Bool(
                v.iter()
                    .map(|x| x.as_bool().ok_or_else(mismatch))
                    .collect::<Result<_, _>>()?,
            ),
            _ => return Err(mismatch()),
        })
    }
}

/// The keys listed in serde's "expected one of `a`, `b`" / "expected `a`".
fn expected_keys(msg: &str) -> Vec<String> {
    let Some((_, tail)) = msg.split_once("expected") else {
        return Vec::new();
    };
    tail.split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, k)| k.to_string())
        .collect()
}

fn hint(got: &str, valid: &[&str]) -> String {
    let valid: Vec<String> = valid.iter().map(|s| s.to_string()).collect();
    closest(got, &valid)
        .map(|k| format!("; did you mean \"{k}\"?"))
        .unwrap_or_default()
}

/// The valid key nearest to `key`, when it is plausibly a typo (see `crate::suggest`).
pub fn closest(key: &str, valid: &[String]) -> Option<String> {
    crate::suggest::closest(key, valid.iter().map(String::as_str))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
version = 1

[latency.simple]
p95_ms = 10
p99_ms = 20
mean_ms = 5

[throughput]
read_min_qps = 1000

[resources]
connections_max_pct = 80

[[statements]]
name = "meal by id"
pattern = "(?i)from meals where id = \\$1"
p95_ms = 2

[ignore]
queryids = [42]
patterns = ["^BEGIN"]

[[probes]]
name = "meal_by_id"
sql = "SELECT name FROM meals WHERE id = $1"
concurrency = 4
iterations = 1000
warmup = "1s"

[[probes.params]]
kind = "int"
min = 1
max = 1000
"#;

    fn err(text: &str) -> String {
        match parse("budgets.toml", text) {
            Ok(_) => panic!("expected an error for:\n{text}"),
            Err(e) => {
                assert!(matches!(e, Error::Usage(_)));
                assert_eq!(e.exit_code(), crate::exit::USAGE);
                let s = e.to_string();
                assert!(!s.contains('\n'), "one line: {s}");
                s
            }
        }
    }

    #[test]
    fn min_calls_key() {
        let b = parse("budgets.toml", "version = 1\nmin_calls = 20\n").unwrap();
        assert_eq!(b.min_calls(), 20);
        let b = parse("budgets.toml", "version = 1\n").unwrap();
        assert_eq!(b.min_calls(), DEFAULT_MIN_CALLS);
        assert_eq!(
            err("version = 1\nmin_calls = 0\n"),
            "budgets.toml:2:13: `min_calls` must be at least 1"
        );
    }

    #[test]
    fn the_good_file_loads() {
        let b = parse("budgets.toml", GOOD).unwrap();
        assert_eq!(b.latency[&QueryClass::Simple].p95_ms, Some(10.0));
        assert_eq!(b.throughput.read_min_qps, Some(1000.0));
        assert_eq!(b.statements.len(), 1);
        assert!(b.ignore.matches(42, "x"));
        assert!(b.ignore.matches(1, "BEGIN"));
        assert_eq!(b.probes[0].concurrency, 4);
        assert_eq!(b.probes[0].stop, Stop::Iterations(1000));
        assert_eq!(
            b.probes[0].params,
            vec![ParamGen::Int { min: 1, max: 1000 }]
        );
    }

    #[test]
    fn the_repository_default_loads() {
        let b = parse("budgets.toml", include_str!("../../budgets.toml")).unwrap();
        assert_eq!(b.latency[&QueryClass::Simple].p95_ms, Some(10.0));
        assert_eq!(b.latency[&QueryClass::Complex].p95_ms, Some(100.0));
        assert_eq!(b.latency[&QueryClass::Analytics].p95_ms, Some(1000.0));
        assert_eq!(b.latency[&QueryClass::Bulk].p95_ms, Some(5000.0));
        assert_eq!(b.throughput.read_min_qps, Some(1000.0));
        assert_eq!(b.throughput.write_min_qps, Some(100.0));
        assert_eq!(b.throughput.mixed_min_qps, Some(500.0));
        assert_eq!(b.resources.cpu_max_pct, Some(70.0));
        assert_eq!(b.resources.memory_max_pct, Some(80.0));
        assert_eq!(b.resources.connections_max_pct, Some(80.0));
        assert_eq!(b.resources.disk_max_iops, Some(1000.0));
    }

    #[test]
    fn unknown_key_suggests_the_closest() {
        let e = err("version = 1\n[latency.simple]\np59_ms = 10\n");
        assert_eq!(
            e,
            "budgets.toml:3:1: unknown key `p59_ms`; did you mean `p95_ms`?"
        );
        let e = err("version = 1\n[throughput]\nread_qps = 10\n");
        assert!(
            e.starts_with("budgets.toml:3:1: unknown key `read_qps`; did you mean `read_min_qps`?"),
            "{e}"
        );
        let e = err("version = 1\n[latencies.simple]\np95_ms = 10\n");
        assert!(
            e.starts_with("budgets.toml:2:2: unknown key `latencies`; did you mean `latency`?"),
            "{e}"
        );
        let e = err("version = 1\n[[probes]]\nname = \"a\"\nsql = \"select 1\"\nconcurency = 2\n");
        assert!(
            e.starts_with(
                "budgets.toml:5:1: unknown key `concurency`; did you mean `concurrency`?"
            ),
            "{e}"
        );
    }

    #[test]
    fn wrong_types() {
        let e = err("version = 1\n[latency.simple]\np95_ms = \"10\"\n");
        assert!(
            e.starts_with("budgets.toml:3:10: `p95_ms`: invalid type: string"),
            "{e}"
        );
        assert!(e.contains("expected a number"), "{e}");
        let e =
            err("version = 1\n[[probes]]\nname = \"a\"\nsql = \"select 1\"\nconcurrency = 2.5\n");
        assert!(
            e.starts_with("budgets.toml:5:15: `concurrency`: invalid type"),
            "{e}"
        );
        let e = err("version = \"1\"\n");
        assert!(
            e.starts_with("budgets.toml:1:11: `version`: invalid type"),
            "{e}"
        );
    }

    #[test]
    fn zero_and_negative_limits() {
        let e = err("version = 1\n[latency.simple]\np95_ms = 0\n");
        assert_eq!(
            e,
            "budgets.toml:3:10: `p95_ms` must be greater than 0, got 0"
        );
        let e = err("version = 1\n[throughput]\nwrite_min_qps = -5\n");
        assert_eq!(
            e,
            "budgets.toml:3:17: `write_min_qps` must be greater than 0, got -5"
        );
        let e = err("version = 1\n[resources]\ncpu_max_pct = 170\n");
        assert!(
            e.starts_with("budgets.toml:3:15: `cpu_max_pct` is a percentage"),
            "{e}"
        );
        let e = err("version = 1\n[[probes]]\nname = \"a\"\nsql = \"select 1\"\nconcurrency = 0\n");
        assert!(
            e.starts_with("budgets.toml:5:15: `concurrency` must be greater than 0"),
            "{e}"
        );
    }

    #[test]
    fn p99_below_p95() {
        let e = err("version = 1\n[latency.complex]\np95_ms = 100\np99_ms = 50\n");
        assert_eq!(
            e,
            "budgets.toml:4:10: `p99_ms` (50) must be at least `p95_ms` (100)"
        );
        let e = err("version = 1\n[[statements]]\nqueryid = 7\np95_ms = 100\np99_ms = 50\n");
        assert!(e.starts_with("budgets.toml:5:10: `p99_ms` (50)"), "{e}");
    }

    #[test]
    fn bad_regex() {
        let e = err("version = 1\n[[statements]]\npattern = \"meals (\"\np95_ms = 1\n");
        assert!(
            e.starts_with("budgets.toml:3:11: `pattern`: invalid regular expression"),
            "{e}"
        );
        let e = err("version = 1\n[ignore]\npatterns = [\"ok\", \"[z-a]\"]\n");
        assert!(
            e.starts_with("budgets.toml:3:19: `patterns`: invalid regular expression"),
            "{e}"
        );
    }

    #[test]
    fn empty_sql() {
        let e = err("version = 1\n[[probes]]\nname = \"a\"\nsql = \"  \"\n");
        assert_eq!(e, "budgets.toml:4:7: probe `a`: `sql` must not be empty");
        let e = err("version = 1\n[[probes]]\nname = \"a\"\nsql = \"selec 1\"\n");
        assert!(
            e.starts_with("budgets.toml:4:7: probe `a`: `sql` does not parse"),
            "{e}"
        );
    }

    #[test]
    fn the_doctor_thresholds_table_is_left_to_the_doctor() {
        let b = parse("b", "version = 1\n[thresholds]\nslow_query_ms = 250\n").unwrap();
        assert!(b.latency.is_empty());
        // Its neighbours are still checked.
        let e = err("version = 1\n[thresholds]\nslow_query_ms = 250\n[latency.simple]\np95 = 1\n");
        assert!(e.starts_with("budgets.toml:5:1: unknown key `p95`"), "{e}");
    }

    #[test]
    fn version_is_required_and_known() {
        let e = err("[latency.simple]\np95_ms = 10\n");
        assert!(
            e.starts_with("budgets.toml:1:1: missing key `version`"),
            "{e}"
        );
        let e = err("version = 2\n");
        assert!(
            e.starts_with("budgets.toml:1:11: unsupported budgets format version 2"),
            "{e}"
        );
    }

    #[test]
    fn probe_parameters() {
        let base = "version = 1\n[[probes]]\nname = \"a\"\nsql = \"select $1::int\"\n";
        let e = err(base);
        assert!(e.contains("uses 1 parameter(s) but 0"), "{e}");
        let e = err(&format!(
            "{base}[[probes.params]]\nkind = \"integer\"\nmin = 1\nmax = 2\n"
        ));
        assert!(
            e.starts_with("budgets.toml:6:8: parameter `kind` must be one of"),
            "{e}"
        );
        assert!(e.contains("did you mean"), "{e}");
        let e = err(&format!(
            "{base}[[probes.params]]\nkind = \"int\"\nmin = 5\nmax = 2\n"
        ));
        assert!(
            e.starts_with("budgets.toml:8:7: `max` (2) is below `min` (5)"),
            "{e}"
        );
        let e = err(&format!(
            "{base}[[probes.params]]\nkind = \"list\"\nvalues = []\n"
        ));
        assert!(
            e.starts_with("budgets.toml:7:10: `values` must not be empty"),
            "{e}"
        );
        let e = err(&format!(
            "{base}[[probes.params]]\nkind = \"list\"\nvalues = [1, \"a\"]\n"
        ));
        assert!(e.contains("same type"), "{e}");
        let ok = parse(
            "b",
            &format!("{base}[[probes.params]]\nkind = \"list\"\nvalues = [\"easy\", \"hard\"]\n"),
        )
        .unwrap();
        assert_eq!(
            ok.probes[0].params[0],
            ParamGen::List(ListValues::Text(vec!["easy".into(), "hard".into()]))
        );
    }

    #[test]
    fn duration_and_iterations_exclusive() {
        let e = err("version = 1\n[[probes]]\nname = \"a\"\nsql = \"select 1\"\nduration = \"5s\"\niterations = 10\n");
        assert!(
            e.starts_with("budgets.toml:6:14: a probe takes `duration` or `iterations`"),
            "{e}"
        );
        let e = err(
            "version = 1\n[[probes]]\nname = \"a\"\nsql = \"select 1\"\nduration = \"5 parsecs\"\n",
        );
        assert!(
            e.starts_with("budgets.toml:5:12: `duration`: invalid duration"),
            "{e}"
        );
    }

    #[test]
    fn statement_needs_a_matcher_and_a_limit() {
        let e = err("version = 1\n[[statements]]\np95_ms = 1\n");
        assert!(e.contains("needs `queryid` or `pattern`"), "{e}");
        let e = err("version = 1\n[[statements]]\nqueryid = 1\n");
        assert!(e.contains("at least one of"), "{e}");
    }

    #[test]
    fn syntax_errors_are_one_line_with_position() {
        let e = err("version = 1\n[latency.simple\n");
        assert!(e.starts_with("budgets.toml:2:"), "{e}");
    }

    #[test]
    fn discovery_walks_up_to_the_repository_root_and_no_further() {
        let tmp = tempfile::tempdir().unwrap();
        let outer = tmp.path();
        let repo = outer.join("repo");
        let deep = repo.join("services/api");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        // Above the repository root: never used.
        std::fs::write(outer.join(BUDGETS_FILE), "version = 1\n").unwrap();
        assert_eq!(discover(None, &deep), None);
        std::fs::write(repo.join(BUDGETS_FILE), "version = 1\n").unwrap();
        assert_eq!(discover(None, &deep), Some(repo.join(BUDGETS_FILE)));
        // The nearest wins.
        std::fs::write(deep.join(BUDGETS_FILE), "version = 1\n").unwrap();
        assert_eq!(discover(None, &deep), Some(deep.join(BUDGETS_FILE)));
        // --budgets overrides, even when it does not exist.
        let given = outer.join("other.toml");
        assert_eq!(discover(Some(&given), &deep), Some(given.clone()));
        // Outside any repository only the starting folder counts.
        let loose = outer.join("loose/sub");
        std::fs::create_dir_all(&loose).unwrap();
        assert_eq!(discover(None, &loose), None);
        std::fs::write(loose.join(BUDGETS_FILE), "version = 1\n").unwrap();
        assert_eq!(discover(None, &loose), Some(loose.join(BUDGETS_FILE)));
    }

    #[test]
    fn closest_keys() {
        let v = vec![
            "p95_ms".to_string(),
            "p99_ms".to_string(),
            "mean_ms".to_string(),
        ];
        assert_eq!(closest("p59_ms", &v).as_deref(), Some("p95_ms"));
        assert_eq!(closest("man_ms", &v).as_deref(), Some("mean_ms"));
        assert_eq!(closest("completely_else", &v), None);
    }
}
