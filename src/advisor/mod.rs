//! The query-driven index advisor: from the statements that run, the btree indexes that would
//! help them, verified with HypoPG when it is installed and marked unverified when it is not.

pub mod candidates;
pub mod collect;
pub mod extract;
pub mod normalize;
pub mod verify;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use crate::analyze::finding::{Confidence, Finding, Priority, Severity};
use crate::checks::CheckId;
use crate::collect::capabilities::Capabilities;
use crate::collect::CollectError;
use crate::util::{qualified, quote_ident};

use candidates::{candidates_for, heuristic_pick, index_name, CandidateRules, TableInfo};
use extract::{extract, Extracted, TableName};
use verify::{Bar, CandKey, Explainer, Verdict, Work};

/// Version of the advisor's JSON shape (`advisor` in reports); additive changes only.
pub const ADVISOR_SCHEMA_VERSION: u32 = 1;
/// Statements called fewer times are not considered.
pub const DEFAULT_MIN_CALLS: i64 = 10;
/// Statements with a smaller total execution time are not considered.
pub const DEFAULT_MIN_TOTAL_TIME_MS: f64 = 0.0;
/// At most this many statements, by total time.
pub const DEFAULT_MAX_STATEMENTS: usize = 200;
/// Dexter's bar: a generic plan cheaper than this is not worth an index.
pub const DEFAULT_MIN_COST: f64 = 100.0;
/// Dexter's bar: an index must cut the statement's cost by at least this much.
pub const DEFAULT_MIN_SAVING_PCT: f64 = 50.0;
/// The bar for a statement filtering on a clock-relative window: its generic plan prices the
/// window at a third of the table (the planner's default for an unknown bound), so the saving it
/// shows is a lower bound of the real one.
pub const DEFAULT_RELATIVE_WINDOW_MIN_SAVING_PCT: f64 = 30.0;
/// HypoPG borrows oids from a small range (about 2,500); stay well under it.
pub const DEFAULT_MAX_HYPOTHETICAL: usize = 500;
/// Share of the analysed statements' total time above which a suggestion is high priority.
pub const HIGH_PRIORITY_TIME_SHARE_PCT: f64 = 10.0;

/// One statement as the advisor needs it (normalized text with `$n` placeholders).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatementInput {
    pub queryid: i64,
    pub query: String,
    pub calls: i64,
    /// Total execution time (plus planning time when tracked), milliseconds.
    pub total_time_ms: f64,
}

impl StatementInput {
    /// The advisor's input from the pg_stat_statements collector: statements of the connected
    /// database with a readable text, top level, merged per queryid across roles; planning time
    /// counts when it was tracked.
    pub fn from_snapshot(snap: &crate::collect::statements::StatementsSnapshot) -> Vec<Self> {
        let mut by_id: BTreeMap<i64, StatementInput> = BTreeMap::new();
        for st in &snap.statements {
            let (Some(queryid), Some(query)) = (st.queryid, st.query.as_ref()) else {
                continue;
            };
            if st.hidden || !st.is_workload() {
                continue;
            }
            if snap.all_databases && st.database.as_deref() != Some(snap.database.as_str()) {
                continue;
            }
            let e = by_id.entry(queryid).or_insert_with(|| StatementInput {
                queryid,
                query: query.clone(),
                calls: 0,
                total_time_ms: 0.0,
            });
            e.calls += st.calls;
            e.total_time_ms += st.total_exec_time_ms + st.total_plan_time_ms.unwrap_or(0.0);
        }
        by_id.into_values().collect()
    }
}

/// Thresholds; every one is documented in DB_PERF.md section 5.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdvisorOptions {
    pub min_calls: i64,
    pub min_total_time_ms: f64,
    pub max_statements: usize,
    pub min_cost: f64,
    pub min_saving_pct: f64,
    pub min_table_rows: f64,
    pub max_columns: usize,
    pub max_hypothetical: usize,
    /// Use HypoPG when it is installed (false forces the statistics-only heuristic).
    pub use_hypopg: bool,
    /// The saving bar for statements filtering on a clock-relative window
    /// (`created_at > now() - interval $2`), whose generic plan assumes a third of the table.
    #[serde(default = "default_relative_window_min_saving_pct")]
    pub relative_window_min_saving_pct: f64,
}

fn default_relative_window_min_saving_pct() -> f64 {
    DEFAULT_RELATIVE_WINDOW_MIN_SAVING_PCT
}

impl Default for AdvisorOptions {
    fn default() -> Self {
        let rules = CandidateRules::default();
        AdvisorOptions {
            min_calls: DEFAULT_MIN_CALLS,
            min_total_time_ms: DEFAULT_MIN_TOTAL_TIME_MS,
            max_statements: DEFAULT_MAX_STATEMENTS,
            min_cost: DEFAULT_MIN_COST,
            min_saving_pct: DEFAULT_MIN_SAVING_PCT,
            min_table_rows: rules.min_table_rows,
            max_columns: rules.max_columns,
            max_hypothetical: DEFAULT_MAX_HYPOTHETICAL,
            use_hypopg: true,
            relative_window_min_saving_pct: DEFAULT_RELATIVE_WINDOW_MIN_SAVING_PCT,
        }
    }
}

/// How suggestions were checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Costed by the planner with hypothetical indexes.
    Hypopg,
    /// From statistics alone: unverified.
    Heuristic,
}

/// A statement a suggestion helps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HelpedStatement {
    pub queryid: i64,
    pub calls: i64,
    pub total_time_ms: f64,
    /// Generic-plan costs; `None` in heuristic mode.
    pub cost_before: Option<f64>,
    pub cost_after: Option<f64>,
    pub query: String,
}

/// One suggested index with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    pub schema: String,
    pub table: String,
    pub columns: Vec<String>,
    pub index_name: String,
    pub verified: bool,
    pub statements: Vec<HelpedStatement>,
    pub calls: i64,
    pub total_time_ms: f64,
    /// HypoPG's estimate (pessimistic by design); `None` in heuristic mode.
    pub estimated_size_bytes: Option<i64>,
    pub table_rows: f64,
    pub table_bytes: i64,
    /// Rows written (inserted + updated + deleted) per hour: every write also updates the index.
    pub table_writes_per_hour: Option<f64>,
    pub create_sql: String,
    pub drop_sql: String,
}

/// What happened to one considered statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatementOutcome {
    pub queryid: i64,
    pub calls: i64,
    pub total_time_ms: f64,
    /// `helped`, `skipped`, `low_cost`, `no_gain`, `no_candidates`, `unverified`.
    pub outcome: String,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cost_before: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cost_after: Option<f64>,
    /// `suggested`, `served_by_index`, `not_worth_it` or `not_analysable` (see [`category_of`]).
    #[serde(default)]
    pub category: String,
    /// The statement text as pg_stat_statements holds it.
    #[serde(default)]
    pub query: String,
    /// The text that was explained when it differs (typed-literal parameters turned into casts).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub explained_as: Option<String>,
}

/// The user-facing class of an outcome: suggested (verified or not), already served by an
/// existing index, not worth an index (with the costs that say so), or not analysable (the
/// reason says why: parse error, EXPLAIN error, table not found).
pub fn category_of(outcome: &str, detail: &str) -> &'static str {
    match outcome {
        "helped" | "unverified" => "suggested",
        "skipped" => "not_analysable",
        "no_candidates" if detail.contains("already covered by index") => "served_by_index",
        "no_candidates" if detail.contains("not found") => "not_analysable",
        _ => "not_worth_it",
    }
}

/// Everything the advisor concluded; serializable into reports and snapshots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdvisorReport {
    pub schema_version: u32,
    pub mode: Mode,
    pub hypopg_version: Option<String>,
    /// How to enable verification when running heuristic.
    pub enable_verification: Option<String>,
    pub options: AdvisorOptions,
    pub suggestions: Vec<Suggestion>,
    pub statements: Vec<StatementOutcome>,
}

/// The advisor part of the doctor report (`advisor` in the JSON): how suggestions were checked
/// and what happened to every analysed statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdvisorSection {
    pub mode: Mode,
    pub hypopg_version: Option<String>,
    pub enable_verification: Option<String>,
    /// Suggested indexes (each is also a `missing_index` finding).
    pub suggestions: usize,
    /// Every analysed statement's outcome, heaviest first.
    pub statements: Vec<StatementOutcome>,
}

impl AdvisorSection {
    pub fn of(r: &AdvisorReport) -> Self {
        let mut statements = r.statements.clone();
        for o in &mut statements {
            if o.category.is_empty() {
                o.category = category_of(&o.outcome, &o.detail).to_string();
            }
        }
        statements.sort_by(|a, b| {
            b.total_time_ms
                .total_cmp(&a.total_time_ms)
                .then(a.queryid.cmp(&b.queryid))
        });
        AdvisorSection {
            mode: r.mode,
            hypopg_version: r.hypopg_version.clone(),
            enable_verification: r.enable_verification.clone(),
            suggestions: r.suggestions.len(),
            statements,
        }
    }
}

/// One line per analysed statement for `-v` and the markdown report:
/// `suggested  queryid 42  20 calls  cost 7000.0 -> 12.3: <detail>`.
pub fn outcome_line(o: &StatementOutcome) -> String {
    let costs = match (o.cost_before, o.cost_after) {
        (Some(b), Some(a)) => format!(", cost {b:.1} -> {a:.1}"),
        (Some(b), None) => format!(", cost {b:.1}"),
        _ => String::new(),
    };
    format!(
        "{} (queryid {}, {} calls, {:.0} ms{costs}): {}",
        o.category, o.queryid, o.calls, o.total_time_ms, o.detail
    )
}

/// Pick the statements worth analysing: above the call and time thresholds, heaviest first.
pub fn select_statements<'a>(
    statements: &'a [StatementInput],
    opts: &AdvisorOptions,
) -> Vec<&'a StatementInput> {
    let mut v: Vec<&StatementInput> = statements
        .iter()
        .filter(|s| s.calls >= opts.min_calls && s.total_time_ms >= opts.min_total_time_ms)
        .collect();
    v.sort_by(|a, b| {
        b.total_time_ms
            .total_cmp(&a.total_time_ms)
            .then(a.queryid.cmp(&b.queryid))
    });
    v.truncate(opts.max_statements);
    v
}

/// Why verification is off and the command that would turn it on.
fn enable_hint(caps: &Capabilities) -> String {
    match caps.extension("hypopg") {
        Some(e) if e.installed_version.is_none() => {
            "CREATE EXTENSION hypopg; (as a superuser, in this database)".to_string()
        }
        Some(_) => "run without the option that disables HypoPG".to_string(),
        None => format!(
            "install the HypoPG package on the server (Debian/Ubuntu: postgresql-{}-hypopg), \
             then CREATE EXTENSION hypopg; (as a superuser, in this database)",
            caps.major()
        ),
    }
}

struct Prepared<'a> {
    input: &'a StatementInput,
    /// (table oid, candidates) per table access with candidates.
    candidates: Vec<CandKey>,
    heuristic: Vec<CandKey>,
    skip: Option<(String, String)>,
}

/// Run the advisor over `statements`.
pub async fn advise(
    pool: &PgPool,
    caps: &Capabilities,
    statements: &[StatementInput],
    opts: &AdvisorOptions,
) -> Result<AdvisorReport, CollectError> {
    let selected = select_statements(statements, opts);
    // Typed-literal parameters (`interval $2`) cannot be prepared; their casts can.
    let explained: BTreeMap<i64, String> = selected
        .iter()
        .map(|s| (s.queryid, normalize::explainable(&s.query)))
        .collect();
    let mut parsed: Vec<(&StatementInput, Result<Extracted, String>)> = selected
        .iter()
        .map(|s| (*s, extract(&s.query).map_err(|e| e.to_string())))
        .collect();
    let names: BTreeSet<TableName> = parsed
        .iter()
        .filter_map(|(_, e)| e.as_ref().ok())
        .flat_map(|e| e.tables.iter().map(|t| t.table.clone()))
        .collect();
    let names: Vec<TableName> = names.into_iter().collect();
    let catalog = collect::collect(pool, &names).await?;
    for (_, e) in parsed.iter_mut() {
        if let Ok(x) = e {
            x.resolve(|t, c| {
                catalog
                    .lookup(t)
                    .is_some_and(|info| info.column(c).is_some())
            });
        }
    }
    let rules = CandidateRules {
        min_table_rows: opts.min_table_rows,
        max_columns: opts.max_columns,
    };
    let prepared: Vec<Prepared> = parsed
        .iter()
        .map(|(s, e)| prepare(s, e, &catalog, &rules))
        .collect();

    let hypopg = caps
        .extension("hypopg")
        .filter(|e| e.installed_version.is_some() && opts.use_hypopg);
    let mut report = AdvisorReport {
        schema_version: ADVISOR_SCHEMA_VERSION,
        mode: if hypopg.is_some() {
            Mode::Hypopg
        } else {
            Mode::Heuristic
        },
        hypopg_version: hypopg.and_then(|e| e.installed_version.clone()),
        enable_verification: hypopg.is_none().then(|| enable_hint(caps)),
        options: opts.clone(),
        suggestions: Vec::new(),
        statements: Vec::new(),
    };
    match hypopg {
        Some(ext) => {
            let schema = ext.schema.clone().unwrap_or_else(|| "public".to_string());
            let work: Vec<Work> = prepared
                .iter()
                .map(|p| Work {
                    query: explained
                        .get(&p.input.queryid)
                        .cloned()
                        .unwrap_or_else(|| p.input.query.clone()),
                    min_saving_pct: normalize::relative_time_window(&p.input.query)
                        .then_some(opts.relative_window_min_saving_pct),
                    candidates: p.candidates.clone(),
                })
                .collect();
            let bar = Bar {
                min_cost: opts.min_cost,
                min_saving_pct: opts.min_saving_pct,
            };
            let names = verify::table_names(catalog.tables.values());
            match run_hypopg(pool, &schema, caps.major(), names, &work, bar, opts).await {
                Ok(verified) => build_verified(&mut report, &prepared, &verified, &catalog),
                Err(e) if e.is_connection_lost() => return Err(e),
                Err(e) => {
                    // HypoPG is installed but unusable for this role (or failed): fall back, and
                    // never present the result as verified.
                    report.mode = Mode::Heuristic;
                    report.enable_verification = Some(format!(
                        "HypoPG {} is installed but verification failed ({e}); grant this role \
                         EXECUTE on the hypopg functions in schema {schema}",
                        report.hypopg_version.clone().unwrap_or_default()
                    ));
                    build_heuristic(&mut report, &prepared, &catalog);
                }
            }
        }
        None => build_heuristic(&mut report, &prepared, &catalog),
    }
    for o in &mut report.statements {
        o.category = category_of(&o.outcome, &o.detail).to_string();
        if let Some(x) = explained.get(&o.queryid).filter(|x| **x != o.query) {
            o.explained_as = Some(x.clone());
        }
    }
    Ok(report)
}

async fn run_hypopg(
    pool: &PgPool,
    schema: &str,
    major: i32,
    names: BTreeMap<i64, String>,
    work: &[Work],
    bar: Bar,
    opts: &AdvisorOptions,
) -> Result<verify::Verified, CollectError> {
    let mut ex = Explainer::open(pool, schema, major, names).await?;
    let result = verify::verify(&mut ex, work, bar, opts.max_hypothetical).await;
    let closed = ex.close().await;
    let verified = result?;
    closed?;
    Ok(verified)
}

fn prepare<'a>(
    s: &'a StatementInput,
    e: &Result<Extracted, String>,
    catalog: &collect::Catalog,
    rules: &CandidateRules,
) -> Prepared<'a> {
    let mut p = Prepared {
        input: s,
        candidates: Vec::new(),
        heuristic: Vec::new(),
        skip: None,
    };
    let x = match e {
        Ok(x) => x,
        Err(why) => {
            p.skip = Some(("skipped".into(), why.clone()));
            return p;
        }
    };
    let mut reasons = Vec::new();
    for access in &x.tables {
        let Some(info) = catalog.lookup(&access.table) else {
            reasons.push(format!("table {} not found", display_name(&access.table)));
            continue;
        };
        match candidates_for(access, info, rules) {
            Ok(ac) => {
                for c in &ac.candidates {
                    let key = (info.oid, c.clone());
                    if !p.candidates.contains(&key) {
                        p.candidates.push(key);
                    }
                }
                if let Some(h) = heuristic_pick(&ac, info) {
                    let key = (info.oid, h);
                    if !p.heuristic.contains(&key) {
                        p.heuristic.push(key);
                    }
                }
                if ac.candidates.is_empty() {
                    for (cols, idx) in &ac.covered {
                        reasons.push(format!(
                            "{} ({}) already covered by index {}",
                            qualified(&info.schema, &info.name),
                            cols.join(", "),
                            idx
                        ));
                    }
                }
            }
            Err(skip) => reasons.push(format!(
                "{}: {}",
                qualified(&info.schema, &info.name),
                skip.reason
            )),
        }
    }
    if p.candidates.is_empty() {
        let detail = if reasons.is_empty() {
            "no table with an indexable predicate".to_string()
        } else {
            reasons.join("; ")
        };
        p.skip = Some(("no_candidates".into(), detail));
    }
    p
}

fn display_name(t: &TableName) -> String {
    match &t.schema {
        Some(s) => format!("{s}.{}", t.name),
        None => t.name.clone(),
    }
}

fn outcome(s: &StatementInput, kind: &str, detail: String) -> StatementOutcome {
    StatementOutcome {
        queryid: s.queryid,
        calls: s.calls,
        total_time_ms: s.total_time_ms,
        category: category_of(kind, &detail).to_string(),
        outcome: kind.to_string(),
        detail,
        cost_before: None,
        cost_after: None,
        query: s.query.clone(),
        explained_as: None,
    }
}

fn new_suggestion(t: &TableInfo, columns: &[String], verified: bool) -> Suggestion {
    let name = index_name(&t.schema, &t.name, columns);
    let cols: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
    Suggestion {
        schema: t.schema.clone(),
        table: t.name.clone(),
        columns: columns.to_vec(),
        create_sql: format!(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS {} ON {} ({})",
            quote_ident(&name),
            qualified(&t.schema, &t.name),
            cols.join(", ")
        ),
        drop_sql: format!(
            "DROP INDEX CONCURRENTLY IF EXISTS {}",
            qualified(&t.schema, &name)
        ),
        index_name: name,
        verified,
        statements: Vec::new(),
        calls: 0,
        total_time_ms: 0.0,
        estimated_size_bytes: None,
        table_rows: t.rows,
        table_bytes: t.total_bytes,
        table_writes_per_hour: t.writes_per_hour,
    }
}

fn helped(s: &StatementInput, before: Option<f64>, after: Option<f64>) -> HelpedStatement {
    HelpedStatement {
        queryid: s.queryid,
        calls: s.calls,
        total_time_ms: s.total_time_ms,
        cost_before: before,
        cost_after: after,
        query: s.query.clone(),
    }
}

/// Drop a suggestion whose columns are a left prefix of another suggestion on the same table,
/// moving its statements over; then fix totals and order (most total time first).
fn finish(mut by_key: BTreeMap<CandKey, Suggestion>) -> Vec<Suggestion> {
    let keys: Vec<CandKey> = by_key.keys().cloned().collect();
    for k in &keys {
        // A verified suggestion never folds into an unverified one.
        let k_verified = by_key.get(k).is_some_and(|s| s.verified);
        let wider = keys
            .iter()
            .filter(|o| o.0 == k.0 && o.1.len() > k.1.len() && o.1.starts_with(&k.1))
            .filter(|o| !k_verified || by_key.get(*o).is_some_and(|s| s.verified))
            .max_by_key(|o| o.1.len())
            .cloned();
        if let Some(w) = wider {
            if let Some(narrow) = by_key.remove(k) {
                if let Some(target) = by_key.get_mut(&w) {
                    for st in narrow.statements {
                        if !target.statements.iter().any(|x| x.queryid == st.queryid) {
                            target.statements.push(st);
                        }
                    }
                }
            }
        }
    }
    let mut out: Vec<Suggestion> = by_key.into_values().collect();
    for s in &mut out {
        s.statements.sort_by(|a, b| {
            b.total_time_ms
                .total_cmp(&a.total_time_ms)
                .then(a.queryid.cmp(&b.queryid))
        });
        s.calls = s.statements.iter().map(|x| x.calls).sum();
        s.total_time_ms = s.statements.iter().map(|x| x.total_time_ms).sum();
    }
    out.sort_by(|a, b| {
        b.total_time_ms
            .total_cmp(&a.total_time_ms)
            .then(a.index_name.cmp(&b.index_name))
    });
    out
}

fn build_heuristic(report: &mut AdvisorReport, prepared: &[Prepared], catalog: &collect::Catalog) {
    let mut by_key: BTreeMap<CandKey, Suggestion> = BTreeMap::new();
    for p in prepared {
        if let Some((kind, why)) = &p.skip {
            report.statements.push(outcome(p.input, kind, why.clone()));
            continue;
        }
        if p.heuristic.is_empty() {
            report.statements.push(outcome(
                p.input,
                "no_candidates",
                "statistics do not show a selective equality column without an index".into(),
            ));
            continue;
        }
        add_heuristic(&mut by_key, p, catalog);
        report.statements.push(outcome(
            p.input,
            "unverified",
            "candidate from statistics alone; not costed by the planner".into(),
        ));
    }
    report.suggestions = finish(by_key);
}

/// Add a statement's statistics-only candidates to the suggestions (unverified).
fn add_heuristic(
    by_key: &mut BTreeMap<CandKey, Suggestion>,
    p: &Prepared,
    catalog: &collect::Catalog,
) {
    for key in &p.heuristic {
        let Some(t) = catalog.tables.get(&key.0) else {
            continue;
        };
        by_key
            .entry(key.clone())
            .or_insert_with(|| new_suggestion(t, &key.1, false))
            .statements
            .push(helped(p.input, None, None));
    }
}

fn build_verified(
    report: &mut AdvisorReport,
    prepared: &[Prepared],
    verified: &verify::Verified,
    catalog: &collect::Catalog,
) {
    let mut by_key: BTreeMap<CandKey, Suggestion> = BTreeMap::new();
    for (i, p) in prepared.iter().enumerate() {
        if let Some((kind, why)) = &p.skip {
            report.statements.push(outcome(p.input, kind, why.clone()));
            continue;
        }
        let mut o = outcome(p.input, "no_gain", String::new());
        match &verified.verdicts[i] {
            None => {
                o.outcome = "no_candidates".into();
                o.detail = "no candidate to test".into();
            }
            Some(Verdict::CannotExplain(e)) if !p.heuristic.is_empty() => {
                // This statement alone falls back to the statistics heuristic, unverified.
                add_heuristic(&mut by_key, p, catalog);
                o.outcome = "unverified".into();
                o.detail = format!(
                    "cannot be explained ({e}); candidate from statistics alone, not costed \
                     by the planner"
                );
            }
            Some(Verdict::CannotExplain(e)) => {
                o.outcome = "skipped".into();
                o.detail = format!("cannot be explained: {e}");
            }
            Some(Verdict::LowCost { cost }) => {
                o.outcome = "low_cost".into();
                o.detail = format!(
                    "generic plan cost {cost:.1} is below {:.0}: already cheap",
                    report.options.min_cost
                );
                o.cost_before = Some(*cost);
            }
            Some(Verdict::NoGain {
                cost_before,
                best_cost,
            }) => {
                o.detail = format!(
                    "best hypothetical plan costs {best_cost:.1} of {cost_before:.1}: \
                     needs a {:.0}% cut",
                    report.options.min_saving_pct
                );
                o.cost_before = Some(*cost_before);
                o.cost_after = Some(*best_cost);
            }
            Some(Verdict::LostTogether {
                cost_before,
                cost_after,
            }) => {
                o.detail =
                    "its index lost to another suggested index once all were in place".to_string();
                o.cost_before = Some(*cost_before);
                o.cost_after = Some(*cost_after);
            }
            Some(Verdict::Helped {
                cost_before,
                cost_after,
                indexes,
            }) => {
                o.outcome = "helped".into();
                o.cost_before = Some(*cost_before);
                o.cost_after = Some(*cost_after);
                let mut names = Vec::new();
                for key in indexes {
                    let Some(t) = catalog.tables.get(&key.0) else {
                        continue;
                    };
                    let s = by_key.entry(key.clone()).or_insert_with(|| {
                        let mut s = new_suggestion(t, &key.1, true);
                        s.estimated_size_bytes = verified.sizes.get(key).copied();
                        s
                    });
                    s.statements
                        .push(helped(p.input, Some(*cost_before), Some(*cost_after)));
                    names.push(s.index_name.clone());
                }
                o.detail = format!(
                    "cost {cost_before:.1} -> {cost_after:.1} with {}",
                    names.join(", ")
                );
            }
        }
        report.statements.push(o);
    }
    report.suggestions = finish(by_key);
}

/// `missing_index` findings for `doctor` (and from there `migrate plan`).
pub fn findings(report: &AdvisorReport) -> Vec<Finding> {
    let total_ms: f64 = report.statements.iter().map(|s| s.total_time_ms).sum();
    report
        .suggestions
        .iter()
        .map(|s| {
            let share_pct = if total_ms > 0.0 {
                100.0 * s.total_time_ms / total_ms
            } else {
                0.0
            };
            let table = qualified(&s.schema, &s.table);
            let cols = s.columns.join(", ");
            let n = s.statements.len();
            let (severity, priority, confidence, message) = if s.verified {
                let best_cut = s
                    .statements
                    .iter()
                    .filter_map(|x| match (x.cost_before, x.cost_after) {
                        (Some(b), Some(a)) if b > 0.0 => Some(100.0 * (1.0 - a / b)),
                        _ => None,
                    })
                    .fold(0.0_f64, f64::max);
                (
                    Severity::Warning,
                    if share_pct >= HIGH_PRIORITY_TIME_SHARE_PCT {
                        Priority::High
                    } else {
                        Priority::Medium
                    },
                    Confidence::High,
                    format!(
                        "an index on {table} ({cols}) cuts the planned cost of {n} statement{} \
                         ({} calls, {:.0} ms total) by up to {best_cut:.0}% (verified with HypoPG)",
                        if n == 1 { "" } else { "s" },
                        s.calls,
                        s.total_time_ms
                    ),
                )
            } else {
                (
                    Severity::Info,
                    Priority::Low,
                    Confidence::Low,
                    format!(
                        "unverified: an index on {table} ({cols}) may help {n} statement{} \
                         ({} calls, {:.0} ms total); to verify: {}",
                        if n == 1 { "" } else { "s" },
                        s.calls,
                        s.total_time_ms,
                        match (report.mode, report.enable_verification.as_deref()) {
                            (Mode::Hypopg, _) =>
                                "the planner could not cost the statement \
                                 (its reason is in advisor.statements)",
                            (_, Some(e)) => e,
                            (_, None) => "install HypoPG",
                        }
                    ),
                )
            };
            let mut detail = serde_json::to_value(s).unwrap_or(serde_json::Value::Null);
            if let serde_json::Value::Object(m) = &mut detail {
                m.insert("mode".into(), serde_json::json!(report.mode));
                m.insert("time_share_pct".into(), serde_json::json!(share_pct));
                if let Some(e) = &report.enable_verification {
                    m.insert("enable_verification".into(), serde_json::json!(e));
                }
            }
            Finding::new(
                CheckId::MissingIndex,
                severity,
                priority,
                qualified(&s.schema, &s.index_name),
                message,
            )
            .table(table)
            .detail(detail)
            .fix(s.create_sql.clone(), Some(s.drop_sql.clone()))
            .confidence(confidence)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(id: i64, calls: i64, ms: f64) -> StatementInput {
        StatementInput {
            queryid: id,
            query: format!("SELECT {id}"),
            calls,
            total_time_ms: ms,
        }
    }

    #[test]
    fn selection_by_calls_and_time() {
        let s = vec![input(1, 5, 100.0), input(2, 50, 10.0), input(3, 50, 900.0)];
        let opts = AdvisorOptions {
            max_statements: 1,
            ..Default::default()
        };
        let picked = select_statements(&s, &opts);
        assert_eq!(picked.len(), 1);
        assert_eq!(picked[0].queryid, 3);
    }

    #[test]
    fn from_collector_snapshot() {
        use crate::collect::statements::{StatementStats, StatementsSnapshot};
        let st = |id: Option<i64>, db: &str, calls: i64, top: Option<bool>| StatementStats {
            queryid: id,
            database: Some(db.into()),
            query: Some("SELECT 1".into()),
            toplevel: top,
            calls,
            total_exec_time_ms: 10.0,
            total_plan_time_ms: Some(1.0),
            ..Default::default()
        };
        let snap = StatementsSnapshot {
            database: "app".into(),
            all_databases: true,
            statements: vec![
                st(Some(1), "app", 5, Some(true)),
                st(Some(1), "app", 7, None),
                st(Some(2), "other", 9, Some(true)),
                st(Some(3), "app", 9, Some(false)),
                st(None, "app", 9, Some(true)),
            ],
            ..Default::default()
        };
        let v = StatementInput::from_snapshot(&snap);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].queryid, 1);
        assert_eq!(v[0].calls, 12);
        assert!((v[0].total_time_ms - 22.0).abs() < 1e-9);
    }

    fn table() -> TableInfo {
        TableInfo {
            oid: 7,
            schema: "Shop".into(),
            name: "orders".into(),
            relkind: "r".into(),
            rows: 1e6,
            total_bytes: 1,
            writes: 0,
            writes_per_hour: Some(3.0),
            analyzed: true,
            columns: vec![],
            indexes: vec![],
        }
    }

    #[test]
    fn findings_carry_fix_and_rollback() {
        let mut s = new_suggestion(
            &table(),
            &["user_id".to_string(), "order".to_string()],
            true,
        );
        s.statements
            .push(helped(&input(1, 10, 50.0), Some(1000.0), Some(10.0)));
        let report = AdvisorReport {
            schema_version: 1,
            mode: Mode::Hypopg,
            hypopg_version: Some("1.3.1".into()),
            enable_verification: None,
            options: AdvisorOptions::default(),
            suggestions: finish(BTreeMap::from([((7, s.columns.clone()), s)])),
            statements: vec![],
        };
        let f = findings(&report);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].check, CheckId::MissingIndex);
        assert_eq!(
            f[0].fix_sql.as_deref(),
            Some(
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_user_id_order_idx \
                 ON \"Shop\".orders (user_id, \"order\")"
            )
        );
        assert_eq!(
            f[0].rollback_sql.as_deref(),
            Some("DROP INDEX CONCURRENTLY IF EXISTS \"Shop\".orders_user_id_order_idx")
        );
        assert_eq!(f[0].confidence, Some(Confidence::High));
        assert!(f[0].message.contains("99%"), "{}", f[0].message);
        assert_eq!(f[0].table.as_deref(), Some("\"Shop\".orders"));
    }

    #[test]
    fn narrower_suggestion_folds_into_wider() {
        let t = table();
        let mut a = new_suggestion(&t, &["user_id".to_string()], true);
        a.statements.push(helped(&input(1, 10, 50.0), None, None));
        let mut b = new_suggestion(&t, &["user_id".to_string(), "at".to_string()], true);
        b.statements.push(helped(&input(2, 20, 70.0), None, None));
        let out = finish(BTreeMap::from([
            ((7, a.columns.clone()), a),
            ((7, b.columns.clone()), b),
        ]));
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].columns, vec!["user_id", "at"]);
        assert_eq!(out[0].statements.len(), 2);
        assert_eq!(out[0].calls, 30);
    }
}
