//! The doctor report: every section's figures plus findings, skipped checks and the health
//! score, as one serializable value (the JSON API, `schema_version` first). Built purely from a
//! Snapshot and an Analysis.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::analyze::bloat::{self, ColumnIndex};
use crate::analyze::doctor::{analyze, Analysis, CheckSelection, Input, StatsWindow};
use crate::analyze::queries::{statement_limit, statement_view, StatementView};
use crate::analyze::score::{score, HealthScore};
use crate::analyze::thresholds::Thresholds;
use crate::analyze::workload::{moments, statement_latency, workload_latency};
use crate::analyze::Finding;
use crate::checks::sessions::connection_use;
use crate::checks::xid_wraparound::WRAPAROUND_HORIZON;
use crate::checks::CheckId;
use crate::cli::Section;
use crate::collect::capabilities::Capabilities;
use crate::collect::host::HostSnapshot;
use crate::collect::statements::StatementStats;
use crate::snapshot::{Skipped, Snapshot};
use crate::stats::{statement_mean_ms, QueryLatency};
use crate::util::qualified;
use crate::util::round2;

/// Version of the report JSON; bumped only for incompatible changes (fields are only added).
pub const REPORT_SCHEMA_VERSION: u32 = 1;
/// Rows listed in the tables and indexes sections (largest first).
pub const ROWS_LISTED: usize = 20;
/// Statements listed as the top by total time.
pub const TOP_STATEMENTS: usize = 10;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DoctorReport {
    pub schema_version: u32,
    pub dbdoctor_version: String,
    /// When the data was read (server clock).
    pub generated_at: DateTime<Utc>,
    pub target: String,
    /// `live` or `snapshot`.
    pub source: String,
    /// Sections shown (all unless `--only`).
    pub sections: Vec<Section>,
    /// Only the slow statements were asked for (`--slow-queries`).
    pub slow_queries_only: bool,
    pub capabilities: Capabilities,
    pub connection: ConnectionSection,
    /// Collector parts and checks that could not run, with why and how to enable them.
    pub skipped: Vec<Skipped>,
    pub checks_run: Vec<CheckId>,
    pub queries: Option<QueriesSection>,
    pub tables: Option<TablesSection>,
    pub indexes: Option<IndexesSection>,
    pub resources: Option<ResourcesSection>,
    /// Every finding, highest priority first.
    pub findings: Vec<Finding>,
    pub health: HealthScore,
    /// The index advisor's outcome for every statement it analysed (when it ran).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advisor: Option<crate::advisor::AdvisorSection>,
    /// The plans of the top statements with their insights (when plans were collected).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plans: Vec<crate::plans::PlanEntry>,
    /// Where the active time went during `--window` (pg_stat_activity samples).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_profile: Option<crate::analyze::wait_profile::WaitProfile>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionSection {
    pub connect_ms: f64,
    pub round_trip_ms: f64,
    pub round_trip_samples: u32,
    pub server_version: String,
    pub is_replica: bool,
    /// Replicas: WAL received but not yet replayed, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_lag_bytes: Option<i64>,
    /// Replicas: seconds since the last replayed transaction (0 when fully replayed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_lag_seconds: Option<f64>,
    pub role: String,
    pub superuser: bool,
    pub pg_monitor: bool,
    pub pg_read_all_stats: bool,
    pub statistics: StatsWindow,
}

/// The shortest period a QPS figure is computed over; shorter ones report no data.
pub const MIN_QPS_PERIOD_S: f64 = 1.0;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueriesSection {
    pub statements_analysed: usize,
    pub total_calls: i64,
    pub total_ms: f64,
    /// Calls per second over `qps_basis`; `None` when the period is unknown.
    pub qps: Option<f64>,
    /// `window of 60 s` or `since pg_stat_statements reset at ...`.
    pub qps_basis: String,
    /// Estimated latency of the whole workload (execution time).
    pub latency: QueryLatency,
    /// The top statements by total time.
    pub statements: Vec<StatementRow>,
    /// Statements over their threshold (class budget or `slow_query_ms`).
    pub slow: Vec<StatementRow>,
    /// Statements that wrote temporary files.
    pub temp_spilling: Vec<StatementRow>,
    /// Rows whose text the role may not read.
    pub hidden_statements: u64,
}

/// One statement of `queries.statements[]`: its figures and the latency object of the JSON
/// contract (`calls`, `mean_ms`, `p50_ms`, `p95_ms`, `p99_ms`, `method`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatementRow {
    pub queryid: Option<i64>,
    pub query: String,
    pub hidden: bool,
    #[serde(flatten)]
    pub latency: QueryLatency,
    pub max_ms: f64,
    pub total_ms: f64,
    pub share_of_total_time_pct: f64,
    pub rows: i64,
    pub rows_per_call: f64,
    pub temp_blks_written: i64,
    pub threshold_ms: f64,
    pub threshold_source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableRow {
    pub table: String,
    pub kind: String,
    pub rows: i64,
    pub total_bytes: i64,
    pub table_bytes: i64,
    pub index_bytes: i64,
    pub toast_bytes: i64,
    pub seq_scan: i64,
    pub idx_scan: i64,
    pub n_live_tup: i64,
    pub n_dead_tup: i64,
    pub last_vacuum: Option<DateTime<Utc>>,
    pub last_autovacuum: Option<DateTime<Utc>>,
    pub last_analyze: Option<DateTime<Utc>>,
    pub last_autoanalyze: Option<DateTime<Utc>>,
    /// Estimated bloat; `None` when it cannot be estimated (no statistics, tiny table).
    pub bloat_bytes: Option<i64>,
    pub bloat_pct: Option<f64>,
    /// Heap blocks found in shared buffers, %; `None` before any block was read.
    pub cache_hit_pct: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TablesSection {
    /// User tables in scope; `rows` lists the largest `ROWS_LISTED`.
    pub total: usize,
    pub total_bytes: i64,
    pub rows: Vec<TableRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexRow {
    pub index: String,
    pub table: String,
    pub method: String,
    pub bytes: i64,
    pub idx_scan: i64,
    pub unique: bool,
    pub constraint: Option<String>,
    pub valid: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexesSection {
    pub total: usize,
    pub total_bytes: i64,
    pub rows: Vec<IndexRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRow {
    pub pid: i32,
    pub user: Option<String>,
    pub database: Option<String>,
    pub state: Option<String>,
    pub duration_ms: f64,
    pub query: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockedRow {
    pub pid: i32,
    pub blocked_by: Vec<i32>,
    pub waiting_for: Option<String>,
    pub waiting_ms: f64,
    pub query: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionsUse {
    pub total: usize,
    pub usable: i64,
    pub max_connections: i32,
    pub used_pct: f64,
    pub by_state: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatabaseRow {
    pub name: String,
    pub size_bytes: i64,
    pub cache_hit_pct: Option<f64>,
    pub xid_age: i64,
    pub xid_age_pct: f64,
    pub mxid_age: i64,
    pub mxid_age_pct: f64,
    pub deadlocks: i64,
    pub temp_bytes: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostSection {
    /// Always "the host dbdoctor runs on"; `is_database_host` says whether that is the server.
    pub label: String,
    pub is_database_host: bool,
    #[serde(flatten)]
    pub host: HostSnapshot,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourcesSection {
    pub connections: Option<ConnectionsUse>,
    pub database: Option<DatabaseRow>,
    pub long_running: Vec<SessionRow>,
    pub idle_in_transaction: Vec<SessionRow>,
    pub blocked: Vec<BlockedRow>,
    pub host: Option<HostSection>,
}

/// Options that shape the report (not the analysis).
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// Sections to show; empty = all.
    pub sections: Vec<Section>,
    pub slow_queries_only: bool,
    /// `live` or `snapshot`.
    pub source: String,
    /// List every table, index and statement instead of the largest/top ones (`--all`).
    pub all: bool,
}

pub const ALL_SECTIONS: [Section; 5] = [
    Section::Connection,
    Section::Queries,
    Section::Tables,
    Section::Indexes,
    Section::Resources,
];

/// Analyse a snapshot and build the full report. Pure: the same inputs give the same report.
pub fn doctor_report(
    snap: &Snapshot,
    th: &Thresholds,
    sel: &CheckSelection,
    opts: &ReportOptions,
) -> DoctorReport {
    let analysis = analyze(snap, th, sel);
    build(snap, th, analysis, opts)
}

/// Build the report from a finished analysis (other modules may have added findings to it).
pub fn build(
    snap: &Snapshot,
    th: &Thresholds,
    mut analysis: Analysis,
    opts: &ReportOptions,
) -> DoctorReport {
    let mut sections: Vec<Section> = if opts.slow_queries_only {
        vec![Section::Queries]
    } else if opts.sections.is_empty() {
        ALL_SECTIONS.to_vec()
    } else {
        ALL_SECTIONS
            .iter()
            .copied()
            .filter(|s| opts.sections.contains(s))
            .collect()
    };
    sections.dedup();
    if opts.slow_queries_only {
        analysis.findings.retain(|f| f.check == CheckId::SlowQuery);
    }
    let input = Input {
        snap,
        th,
        stats: StatsWindow::of(snap),
    };
    let caps = &snap.capabilities;
    let mut skipped = snap.skipped.clone();
    skipped.extend(analysis.skipped.iter().cloned());
    let has = |s: Section| sections.contains(&s);
    let health = score(&analysis.findings);
    DoctorReport {
        schema_version: REPORT_SCHEMA_VERSION,
        dbdoctor_version: env!("CARGO_PKG_VERSION").to_string(),
        generated_at: snap.taken_at,
        target: snap.target.clone(),
        source: if opts.source.is_empty() {
            "live".into()
        } else {
            opts.source.clone()
        },
        slow_queries_only: opts.slow_queries_only,
        capabilities: caps.clone(),
        connection: ConnectionSection {
            connect_ms: round2(snap.connection.connect_ms),
            round_trip_ms: (snap.connection.round_trip_ms * 1000.0).round() / 1000.0,
            round_trip_samples: snap.connection.round_trip_samples,
            server_version: caps.server_version.clone(),
            is_replica: caps.is_replica,
            replay_lag_bytes: caps.replay_lag_bytes,
            replay_lag_seconds: caps.replay_lag_seconds,
            role: caps.role.clone(),
            superuser: caps.superuser,
            pg_monitor: caps.pg_monitor,
            pg_read_all_stats: caps.pg_read_all_stats,
            statistics: input.stats.clone(),
        },
        skipped,
        checks_run: analysis.checks_run.clone(),
        queries: if has(Section::Queries) {
            queries(&input, limit(opts, TOP_STATEMENTS))
        } else {
            None
        },
        tables: if has(Section::Tables) {
            tables(&input, limit(opts, ROWS_LISTED))
        } else {
            None
        },
        indexes: if has(Section::Indexes) {
            indexes(snap, limit(opts, ROWS_LISTED))
        } else {
            None
        },
        resources: if has(Section::Resources) {
            Some(resources(&input))
        } else {
            None
        },
        findings: analysis.findings,
        health,
        advisor: snap
            .advisor
            .as_ref()
            .map(crate::advisor::AdvisorSection::of),
        plans: snap
            .plans
            .as_ref()
            .map(|p| crate::plans::entries(p, snap.advisor.as_ref()))
            .unwrap_or_default(),
        wait_profile: snap
            .wait_samples
            .as_ref()
            .and_then(crate::analyze::wait_profile::profile),
        sections,
    }
}

/// How many rows a listing keeps: `listed`, or all of them with `--all`.
fn limit(opts: &ReportOptions, listed: usize) -> usize {
    if opts.all {
        usize::MAX
    } else {
        listed
    }
}

fn queries(input: &Input, listed: usize) -> Option<QueriesSection> {
    let st = input.snap.statements.as_ref()?;
    let th = input.th;
    // Only the rows a list keeps are estimated: fitting every statement's distribution costs
    // more than the rest of the section on a workload of thousands of statements.
    let row = |s: &StatementStats, v: &StatementView| {
        let l = statement_latency(s);
        StatementRow {
            queryid: v.queryid,
            query: v.query.clone(),
            hidden: v.hidden,
            latency: l.to_query_latency(),
            max_ms: round2(l.max_ms),
            total_ms: round2(v.total_ms),
            share_of_total_time_pct: round2(s.share_of_total_time_pct),
            rows: v.rows,
            rows_per_call: round2(s.rows_per_call),
            temp_blks_written: v.temp_blks_written,
            threshold_ms: v.threshold_ms.unwrap_or(th.slow_query_ms),
            threshold_source: v
                .threshold_source
                .clone()
                .unwrap_or_else(|| "thresholds.slow_query_ms".into()),
        }
    };
    let (mut analysed, mut statements, mut slow, mut temp) =
        (0, Vec::new(), Vec::new(), Vec::new());
    for s in st.workload() {
        let threshold = statement_limit(s, th).map_or(th.slow_query_ms, |l| l.mean_ms);
        let is_slow = statement_mean_ms(&moments(s)) > threshold;
        let (listed, spills) = (analysed < listed, s.temp_blks_written > 0);
        analysed += 1;
        if !(listed || is_slow || spills) {
            continue;
        }
        let r = row(s, &statement_view(s, th));
        if is_slow {
            slow.push(r.clone());
        }
        if spills {
            temp.push(r.clone());
        }
        if listed {
            statements.push(r);
        }
    }
    // A rate over nothing, or over less than a second, is no data rather than a figure.
    let rate = |secs: f64| {
        (secs >= MIN_QPS_PERIOD_S && st.total_calls() > 0)
            .then(|| round2(st.total_calls() as f64 / secs))
    };
    let (qps, qps_basis) = match (&st.window, st.since) {
        (Some(w), _) => (rate(w.seconds), format!("window of {:.0} s", w.seconds)),
        (None, Some(since)) => {
            let secs = (st.taken_at - since).num_milliseconds() as f64 / 1000.0;
            (
                rate(secs),
                format!(
                    "since pg_stat_statements was reset at {}",
                    since.format("%Y-%m-%d %H:%M UTC")
                ),
            )
        }
        (None, None) => (None, "unknown period (no reset time; use --window)".into()),
    };
    Some(QueriesSection {
        statements_analysed: analysed,
        total_calls: st.total_calls(),
        total_ms: round2(st.total_exec_time_ms()),
        qps: qps.map(round2),
        qps_basis,
        latency: workload_latency(st).to_query_latency(),
        statements,
        slow,
        temp_spilling: temp,
        hidden_statements: st.insufficient_privilege_rows,
    })
}

fn tables(input: &Input, listed: usize) -> Option<TablesSection> {
    let s = &input.snap.schema;
    let list = s.tables.as_deref()?;
    let mut idx_bytes: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for ix in s.indexes.as_deref().unwrap_or(&[]) {
        let e = idx_bytes.entry(ix.table_oid).or_default();
        e.0 += ix.bytes;
        e.1 += ix.idx_scan;
    }
    let cols = s.column_stats.as_deref().unwrap_or(&[]);
    let cols = ColumnIndex::new(cols);
    let block = bloat::block_size(input.snap);
    // Heap, TOAST and indexes: what the listing is ordered by.
    let size = |t: &crate::collect::schema::TableInfo| {
        t.table_bytes + idx_bytes.get(&t.oid).map_or(0, |e| e.0)
    };
    let total_bytes = list.iter().map(size).sum();
    let rows = largest(
        list,
        listed,
        size,
        |t| {
            let (ib, iscan) = idx_bytes.get(&t.oid).copied().unwrap_or((0, 0));
            let b = bloat::table(t, &cols, block);
            let blocks = t.heap_blks_hit + t.heap_blks_read;
            TableRow {
                table: qualified(&t.schema, &t.name),
                kind: t.kind.to_string(),
                rows: t.reltuples.max(t.n_live_tup as f64) as i64,
                total_bytes: t.table_bytes + ib,
                table_bytes: t.table_bytes,
                index_bytes: ib,
                toast_bytes: t.toast_bytes,
                seq_scan: t.seq_scan,
                idx_scan: iscan,
                n_live_tup: t.n_live_tup,
                n_dead_tup: t.n_dead_tup,
                last_vacuum: t.last_vacuum,
                last_autovacuum: t.last_autovacuum,
                last_analyze: t.last_analyze,
                last_autoanalyze: t.last_autoanalyze,
                bloat_bytes: b.map(|b| b.bloat_bytes),
                bloat_pct: b.map(|b| round2(b.bloat_pct)),
                cache_hit_pct: (blocks > 0)
                    .then(|| round2(t.heap_blks_hit as f64 / blocks as f64 * 100.0)),
            }
        },
        |a, b| {
            b.total_bytes
                .cmp(&a.total_bytes)
                .then(a.table.cmp(&b.table))
        },
    );
    let total = list.len();
    Some(TablesSection {
        total,
        total_bytes,
        rows,
    })
}

/// The `listed` first rows in `order` (largest `size` first). Rows are built only for items
/// whose size can make the cut, and at most twice `listed` of them are held at once: on a large
/// catalog tens of thousands of indexes may share the size at the cut.
fn largest<T, R>(
    items: &[T],
    listed: usize,
    size: impl Fn(&T) -> i64,
    row: impl Fn(&T) -> R,
    order: impl Fn(&R, &R) -> std::cmp::Ordering,
) -> Vec<R> {
    if listed == 0 {
        return Vec::new();
    }
    let cut = if items.len() > listed {
        let mut sizes: Vec<i64> = items.iter().map(&size).collect();
        *sizes.select_nth_unstable_by(listed - 1, |a, b| b.cmp(a)).1
    } else {
        i64::MIN
    };
    let hold = listed.saturating_mul(2);
    let mut rows: Vec<R> = Vec::new();
    for t in items.iter().filter(|t| size(t) >= cut) {
        rows.push(row(t));
        if rows.len() >= hold {
            rows.sort_by(&order);
            rows.truncate(listed);
        }
    }
    rows.sort_by(&order);
    rows.truncate(listed);
    rows
}

fn indexes(snap: &Snapshot, listed: usize) -> Option<IndexesSection> {
    let list = snap.schema.indexes.as_deref()?;
    let rows = largest(
        list,
        listed,
        |i| i.bytes,
        |i| IndexRow {
            index: qualified(&i.schema, &i.name),
            table: qualified(&i.schema, &i.table),
            method: i.method.to_string(),
            bytes: i.bytes,
            idx_scan: i.idx_scan,
            unique: i.is_unique,
            constraint: i.constraint_name.as_ref().map(|c| c.to_string()),
            valid: i.is_valid,
        },
        |a, b| b.bytes.cmp(&a.bytes).then(a.index.cmp(&b.index)),
    );
    let total_bytes = list.iter().map(|i| i.bytes).sum();
    let total = list.len();
    Some(IndexesSection {
        total,
        total_bytes,
        rows,
    })
}

fn resources(input: &Input) -> ResourcesSection {
    let snap = input.snap;
    let th = input.th;
    let sessions = snap.activity.sessions.as_deref();
    let row = |s: &crate::collect::activity::Session, d: f64| SessionRow {
        pid: s.pid,
        user: s.usename.clone(),
        database: s.database.clone(),
        state: s.state.clone(),
        duration_ms: round2(d),
        query: s.query.clone(),
    };
    let all = sessions.unwrap_or(&[]);
    ResourcesSection {
        connections: sessions.map(|s| {
            let c = connection_use(input.snap, s);
            ConnectionsUse {
                total: c.total,
                usable: c.usable,
                max_connections: snap.capabilities.max_connections,
                used_pct: round2(c.pct),
                by_state: c.by_state,
            }
        }),
        database: snap.activity.database.as_ref().map(|d| {
            let blocks = d.blks_hit + d.blks_read;
            DatabaseRow {
                name: d.name.clone(),
                size_bytes: d.size_bytes,
                cache_hit_pct: (blocks > 0)
                    .then(|| round2(d.blks_hit as f64 / blocks as f64 * 100.0)),
                xid_age: d.xid_age,
                xid_age_pct: round2(d.xid_age as f64 / WRAPAROUND_HORIZON * 100.0),
                mxid_age: d.mxid_age,
                mxid_age_pct: round2(d.mxid_age as f64 / WRAPAROUND_HORIZON * 100.0),
                deadlocks: d.deadlocks,
                temp_bytes: d.temp_bytes,
            }
        }),
        long_running: all
            .iter()
            .filter(|s| {
                s.state.as_deref() == Some("active")
                    && s.query_ms.unwrap_or(0.0) >= th.long_running_query_ms
            })
            .map(|s| row(s, s.query_ms.unwrap_or(0.0)))
            .collect(),
        idle_in_transaction: all
            .iter()
            .filter(|s| {
                s.state
                    .as_deref()
                    .is_some_and(|st| st.starts_with("idle in transaction"))
                    && s.state_ms.unwrap_or(0.0) >= th.idle_in_transaction_ms
            })
            .map(|s| row(s, s.state_ms.unwrap_or(0.0)))
            .collect(),
        blocked: all
            .iter()
            .filter(|s| !s.blocked_by.is_empty())
            .map(|s| BlockedRow {
                pid: s.pid,
                blocked_by: s.blocked_by.clone(),
                waiting_for: s.waiting_for.clone(),
                waiting_ms: round2(s.query_ms.unwrap_or(0.0)),
                query: s.query.clone(),
            })
            .collect(),
        host: snap.host.clone().map(|h| HostSection {
            label: "the host dbdoctor runs on".into(),
            is_database_host: snap.local,
            host: h,
        }),
    }
}

#[cfg(test)]
mod no_data_tests {
    use super::*;
    use crate::analyze::testdata::sample_snapshot;
    use crate::collect::statements::StatementsWindow;

    #[test]
    fn largest_lists_what_a_full_sort_would_with_ties_at_the_cut() {
        // (size, name): many ties, the cut falls inside a tie group.
        let items: Vec<(i64, String)> = (0..200)
            .map(|i| ((i % 7) as i64 * 8192, format!("n{:03}", (i * 37) % 200)))
            .collect();
        let order = |a: &(i64, String), b: &(i64, String)| b.0.cmp(&a.0).then(a.1.cmp(&b.1));
        for listed in [0, 1, 5, 28, 29, 30, 199, 200, 500] {
            let mut all = items.clone();
            all.sort_by(order);
            all.truncate(listed);
            let got = largest(&items, listed, |t| t.0, |t| t.clone(), order);
            assert_eq!(got, all, "listed {listed}");
        }
    }

    fn queries_of(snap: &Snapshot) -> QueriesSection {
        let r = doctor_report(
            snap,
            &Thresholds::default(),
            &CheckSelection::default(),
            &ReportOptions::default(),
        );
        r.queries.expect("queries section")
    }

    fn with_window(seconds: f64) -> Snapshot {
        let mut snap = sample_snapshot();
        let st = snap.statements.as_mut().unwrap();
        let now = st.taken_at;
        st.window = Some(StatementsWindow {
            started_at: now,
            ended_at: now,
            seconds,
            reset_detected: false,
            appeared: 0,
            vanished: 0,
            restarted: 0,
        });
        snap
    }

    #[test]
    fn a_rate_needs_a_period_of_a_second_and_some_calls() {
        let q = queries_of(&with_window(60.0));
        assert!(q.total_calls > 0);
        assert!(q.qps.is_some_and(|v| v > 0.0), "{:?}", q.qps);
        assert_eq!(queries_of(&with_window(0.4)).qps, None);

        let mut idle = with_window(60.0);
        for s in &mut idle.statements.as_mut().unwrap().statements {
            s.calls = 0;
        }
        let q = queries_of(&idle);
        assert_eq!(q.total_calls, 0);
        assert_eq!(q.qps, None);
        let (qps, latency) = crate::render::workload_text(&q);
        assert_eq!(qps, "QPS: no data");
        assert!(latency.contains("no data"), "{latency}");
        assert!(!latency.contains("0.00"), "{latency}");
    }

    #[test]
    fn the_mean_is_labelled_server_time_and_percentiles_estimated() {
        let q = queries_of(&with_window(60.0));
        let (_, latency) = crate::render::workload_text(&q);
        assert!(latency.contains("server time"), "{latency}");
        assert!(latency.contains("~p95"), "{latency}");
    }
}
