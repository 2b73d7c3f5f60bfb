//! The doctor analysis: the registry of check ids, which checks run, and the pure pass from a
//! Snapshot (plus thresholds) to findings and skipped checks.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::analyze::thresholds::Thresholds;
use crate::analyze::{finding::sort_findings, Finding};
use crate::cli::Section;
use crate::error::Error;
use crate::snapshot::{Skipped, Snapshot};

/// One check: its stable id (an API), the report section it belongs to, and the data it needs.
#[derive(Debug, Clone, Copy)]
pub struct CheckInfo {
    pub id: &'static str,
    pub section: Section,
    pub summary: &'static str,
}

/// Every doctor check, in report order. Ids are documented in DB_PERF.md.
pub const CHECKS: &[CheckInfo] = &[
    c(
        "unused_index",
        Section::Indexes,
        "index never scanned since the statistics were reset",
    ),
    c(
        "duplicate_index",
        Section::Indexes,
        "index identical to another on the same table",
    ),
    c(
        "redundant_index",
        Section::Indexes,
        "index whose columns are a left prefix of another's",
    ),
    c(
        "invalid_index",
        Section::Indexes,
        "index left invalid by a failed concurrent build",
    ),
    c(
        "fk_without_index",
        Section::Indexes,
        "foreign key whose columns no index leads with",
    ),
    c(
        "missing_index",
        Section::Indexes,
        "big table read by sequential scans far more than by index",
    ),
    c(
        "index_bloat",
        Section::Indexes,
        "btree index much larger than its rows need",
    ),
    c(
        "table_bloat",
        Section::Tables,
        "table much larger than its rows need",
    ),
    c(
        "dead_tuples",
        Section::Tables,
        "dead rows beyond the table's autovacuum trigger",
    ),
    c(
        "table_without_pk",
        Section::Tables,
        "table without a primary key",
    ),
    c(
        "sequence_overflow",
        Section::Tables,
        "sequence close to its own maximum or its column type's",
    ),
    c(
        "xid_wraparound",
        Section::Resources,
        "transaction ID or multixact age near wraparound",
    ),
    c(
        "long_running_query",
        Section::Resources,
        "query running for a long time",
    ),
    c(
        "idle_in_transaction",
        Section::Resources,
        "session idle inside an open transaction",
    ),
    c(
        "blocking_locks",
        Section::Resources,
        "session waiting for a lock another session holds",
    ),
    c(
        "connections_usage",
        Section::Resources,
        "client connections near max_connections",
    ),
    c(
        "cache_hit_ratio",
        Section::Resources,
        "share of block reads served from shared buffers",
    ),
    c(
        "host_cpu",
        Section::Resources,
        "CPU use of the database host",
    ),
    c(
        "host_memory",
        Section::Resources,
        "memory use of the database host",
    ),
    c(
        "slow_query",
        Section::Queries,
        "statement slower on average than its threshold",
    ),
    c(
        "select_star",
        Section::Queries,
        "hot statement fetching every column",
    ),
    c(
        "unbounded_result",
        Section::Queries,
        "hot statement returning many rows per call with no LIMIT",
    ),
    c(
        "implicit_join",
        Section::Queries,
        "hot statement joining tables with commas",
    ),
    c(
        "plan_seq_scan_selective",
        Section::Queries,
        "plan reads a large table sequentially to keep few rows",
    ),
    c(
        "plan_spill_work_mem",
        Section::Queries,
        "plan's sort, hash or materialize needs more than work_mem",
    ),
    c(
        "plan_nested_loop_large_outer",
        Section::Queries,
        "plan's nested loop repeats a non-index inner side for many rows",
    ),
    c(
        "plan_index_filter_inefficient",
        Section::Queries,
        "plan's index scan fetches rows its filter mostly discards",
    ),
    c(
        "plan_large_offset",
        Section::Queries,
        "plan pages with OFFSET over many rows",
    ),
    c(
        "plan_stale_statistics",
        Section::Queries,
        "plan reads a table modified far beyond its analyze threshold",
    ),
    c(
        "plan_row_misestimate",
        Section::Queries,
        "plan's row estimate far from the rows actually returned",
    ),
    c(
        "plan_srf_default_rows",
        Section::Queries,
        "plan's set-returning function at the default 1000-row estimate",
    ),
];

/// The pg_stat_statements self-checks (src/analyze/statements.rs), run with the doctor checks.
pub const SELF_CHECK_IDS: &[&str] = crate::analyze::statements::CHECK_IDS;

const fn c(id: &'static str, section: Section, summary: &'static str) -> CheckInfo {
    CheckInfo {
        id,
        section,
        summary,
    }
}

pub fn check_info(id: &str) -> Option<&'static CheckInfo> {
    CHECKS
        .iter()
        .find(|c| c.id == id)
        .or_else(|| crate::checks::info(id))
}

/// Which checks run: `--checks`, `--skip-checks` and `--only` sections.
#[derive(Debug, Clone, Default)]
pub struct CheckSelection {
    pub only_checks: Vec<String>,
    pub skip_checks: Vec<String>,
    pub sections: Vec<Section>,
    /// Ids from other modules (pg_stat_statements self-checks, the index advisor) that the
    /// selection should accept.
    pub extra_ids: Vec<String>,
}

impl CheckSelection {
    /// Reject unknown check ids (a typo must not silently run everything).
    pub fn validate(&self) -> Result<(), Error> {
        for id in self.only_checks.iter().chain(&self.skip_checks) {
            if check_info(id).is_none()
                && !SELF_CHECK_IDS.contains(&id.as_str())
                && !self.extra_ids.iter().any(|e| e == id)
            {
                let known: Vec<&str> = CHECKS
                    .iter()
                    .map(|c| c.id)
                    .chain(crate::checks::ALL.iter().map(|c| c.info.id))
                    .chain(SELF_CHECK_IDS.iter().copied())
                    .collect();
                let hint = crate::suggest::hint(id, known.iter().copied());
                return Err(Error::Usage(format!(
                    "unknown check id '{id}'{hint} (known: {})",
                    known.join(", ")
                )));
            }
        }
        Ok(())
    }

    pub fn runs(&self, id: &str) -> bool {
        if !self.only_checks.is_empty() && !self.only_checks.iter().any(|c| c == id) {
            return false;
        }
        if self.skip_checks.iter().any(|c| c == id) {
            return false;
        }
        if !self.sections.is_empty() {
            // Ids from other modules (pg_stat_statements self-checks) belong to the queries section.
            let section = check_info(id).map_or(Section::Queries, |i| i.section);
            return self.sections.contains(&section);
        }
        true
    }
}

/// How old the cumulative statistics are, and where that figure comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatsWindow {
    pub since: DateTime<Utc>,
    /// `stats_reset` or `server start` (a lower bound when statistics survive restarts).
    pub source: String,
    pub age_days: f64,
    /// The counters are this server's only (a replica does not see the primary's reads).
    pub replica: bool,
}

impl StatsWindow {
    pub fn of(snap: &Snapshot) -> StatsWindow {
        let caps = &snap.capabilities;
        let (since, source) = match caps.stats_reset {
            Some(t) => (t, "stats_reset"),
            None => (caps.server_started, "server start"),
        };
        let age_days = (caps.server_now - since).num_seconds().max(0) as f64 / 86_400.0;
        StatsWindow {
            since,
            source: source.to_string(),
            age_days,
            replica: caps.is_replica,
        }
    }

    /// `statistics since 2026-11-20 (stats_reset, 6.0 days)` plus a replica note.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "statistics since {} ({}, {:.1} days)",
            self.since.format("%Y-%m-%d %H:%M UTC"),
            self.source,
            self.age_days
        );
        if self.replica {
            s.push_str(
                "; replica statistics: reads on the primary and other replicas are not counted",
            );
        }
        s
    }
}

/// What the check families read.
pub struct Input<'a> {
    pub snap: &'a Snapshot,
    pub th: &'a Thresholds,
    pub stats: StatsWindow,
}

/// Findings plus the checks that could not run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub findings: Vec<Finding>,
    pub skipped: Vec<Skipped>,
    pub checks_run: Vec<String>,
}

/// Collects the findings of the checks that are selected, and skipped entries for those whose
/// data is missing.
pub struct Sink<'s> {
    sel: &'s CheckSelection,
    pub analysis: Analysis,
}

impl<'s> Sink<'s> {
    pub fn wants(&self, id: &str) -> bool {
        self.sel.runs(id)
    }

    /// Run `f` for check `id` when selected and its data is present, else record why not.
    pub fn check<T>(
        &mut self,
        id: &str,
        data: Option<T>,
        missing: impl FnOnce() -> Skipped,
        f: impl FnOnce(T, &mut Vec<Finding>),
    ) {
        if !self.wants(id) {
            return;
        }
        match data {
            Some(d) => {
                self.analysis.checks_run.push(id.to_string());
                f(d, &mut self.analysis.findings);
            }
            None => {
                let mut s = missing();
                s.what = id.to_string();
                self.analysis.skipped.push(s);
            }
        }
    }

    pub fn skip(&mut self, id: &str, reason: impl Into<String>, enable: Option<String>) {
        if self.wants(id) {
            self.analysis.skipped.push(Skipped {
                what: id.to_string(),
                reason: reason.into(),
                enable,
            });
        }
    }
}

/// The `detail.columns` list of a finding (empty when it has none).
fn detail_columns(f: &Finding) -> Vec<&str> {
    f.detail["columns"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c.as_str()).collect())
        .unwrap_or_default()
}

/// For a check that needs two parts: the first one that is missing (`first` when it is absent,
/// else `second`).
pub fn needs_either(snap: &Snapshot, first: &str, first_present: bool, second: &str) -> Skipped {
    needs(snap, if first_present { second } else { first })
}

/// A skipped entry for a check whose collector part is missing, reusing that part's reason.
pub fn needs(snap: &Snapshot, part: &str) -> Skipped {
    match snap.skipped.iter().find(|s| s.what == part) {
        Some(s) => Skipped {
            what: String::new(),
            reason: format!("{part} not collected: {}", s.reason),
            enable: s.enable.clone(),
        },
        None => Skipped {
            what: String::new(),
            reason: format!("{part} not collected"),
            enable: None,
        },
    }
}

/// The doctor analysis of a snapshot: every selected check, findings sorted highest priority
/// first. Pure: the same snapshot always gives the same findings.
pub fn analyze(snap: &Snapshot, th: &Thresholds, sel: &CheckSelection) -> Analysis {
    let input = Input {
        snap,
        th,
        stats: StatsWindow::of(snap),
    };
    let mut sink = Sink {
        sel,
        analysis: Analysis::default(),
    };
    crate::analyze::indexes::run(&input, &mut sink);
    crate::analyze::tables::run(&input, &mut sink);
    crate::analyze::vacuum::run(&input, &mut sink);
    crate::analyze::activity::run(&input, &mut sink);
    crate::analyze::queries::run(&input, &mut sink);
    crate::checks::run(&input, &mut sink);
    for f in crate::plans::findings::findings(snap) {
        if sink.wants(&f.check) {
            sink.analysis.findings.push(f);
        }
    }
    for f in crate::analyze::statements::check(&snap.capabilities, snap.statements.as_ref()) {
        if sink.wants(&f.check) {
            sink.analysis.findings.push(f);
        }
    }
    if let Some(report) = &snap.advisor {
        let advised = crate::advisor::findings(report);
        if sink.wants("missing_index") && !advised.is_empty() {
            // The advisor names the columns; the catalog heuristic only the table: keep the
            // advisor's finding where both speak of the same table.
            // advisor's finding where both speak of the same table, carrying the catalog's
            // evidence (and its priority, when higher) into it.
            let mut advised = advised;
            let tables: std::collections::BTreeSet<String> =
                advised.iter().filter_map(|f| f.table.clone()).collect();
            let (catalog, rest): (Vec<Finding>, Vec<Finding>) =
                std::mem::take(&mut sink.analysis.findings)
                    .into_iter()
                    .partition(|f| {
                        f.check == "missing_index"
                            && f.fix_sql.is_none()
                            && f.table.as_ref().is_some_and(|t| tables.contains(t))
                    });
            sink.analysis.findings = rest;
            for a in &mut advised {
                if let Some(c) = catalog.iter().find(|c| c.table == a.table) {
                    a.priority = a.priority.max(c.priority);
                    a.severity = a.severity.max(c.severity);
                    if let Some(obj) = a.detail.as_object_mut() {
                        obj.insert("catalog_evidence".into(), c.detail.clone());
                    }
                }
            }
            // An advised index that leads with a foreign key's columns also serves the key:
            // point the foreign-key finding at it instead of proposing a second index.
            for f in sink.analysis.findings.iter_mut() {
                if f.check != "fk_without_index" {
                    continue;
                }
                let fk_cols = detail_columns(f);
                let covering = advised.iter().find(|a| {
                    let cols = detail_columns(a);
                    a.table == f.table
                        && !fk_cols.is_empty()
                        && cols.len() >= fk_cols.len()
                        && cols[..fk_cols.len()] == fk_cols[..]
                });
                if let Some(a) = covering {
                    f.fix_sql = a.fix_sql.clone();
                    f.rollback_sql = a.rollback_sql.clone();
                    if let Some(obj) = f.detail.as_object_mut() {
                        obj.insert("covered_by_suggestion".into(), a.object.clone().into());
                    }
                }
            }
            sink.analysis.findings.extend(advised);
        }
    }
    let mut a = sink.analysis;
    // Report order first (names are given out in it), then the advice plan, then order again
    // (merging can raise a finding's priority).
    sort_findings(&mut a.findings);
    crate::analyze::resolve::resolve(snap, th, &mut a.findings);
    sort_findings(&mut a.findings);
    a
}

/// Convenience for other commands (e.g. `migrate plan`): all checks, given thresholds.
pub fn findings(snap: &Snapshot, th: &Thresholds) -> Vec<Finding> {
    analyze(snap, th, &CheckSelection::default()).findings
}
