//! pg_stat_statements collector: columns chosen by the installed extension version, the view read
//! from whatever schema holds it, dbdoctor's own statements left out, cumulative or windowed.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::collect::capabilities::Capabilities;
use crate::collect::{decode, CollectError};
use crate::util::quote_ident;

/// The text pg_stat_statements shows for another role's statement when we may not read it.
pub const INSUFFICIENT_PRIVILEGE: &str = "<insufficient privilege>";

/// Every query dbdoctor sends starts with this comment; pg_stat_statements keeps it in the stored
/// text, which is how our own statements are kept out of every workload figure.
pub const OWN_STATEMENT_TAG: &str = "/* dbdoctor */";

/// Byte offset of the first SQL token after leading whitespace, `--` lines and `/* */` comments.
fn first_token(sql: &str) -> usize {
    let b = sql.as_bytes();
    let mut i = 0;
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if b[i..].starts_with(b"--") {
            i = sql[i..].find('\n').map_or(b.len(), |n| i + n + 1);
        } else if b[i..].starts_with(b"/*") {
            i = sql[i + 2..].find("*/").map_or(b.len(), |n| i + 2 + n + 2);
        } else {
            return i;
        }
    }
}

/// Tag a statement so every workload figure leaves it out, on every server version: the tag leads
/// the text and follows the first keyword, because PostgreSQL 18 stores statements without their
/// leading comments. `SELECT 1` becomes `/* dbdoctor */ SELECT /* dbdoctor */ 1`.
pub fn tag(sql: &str) -> String {
    let start = first_token(sql);
    let rest = &sql[start..];
    let word = rest
        .find(|c: char| !(c.is_ascii_alphabetic() || c == '_'))
        .unwrap_or(rest.len());
    let already_leading = sql[..start].contains(OWN_STATEMENT_TAG);
    let mut out = String::with_capacity(sql.len() + 2 * OWN_STATEMENT_TAG.len() + 2);
    if !already_leading {
        out.push_str(OWN_STATEMENT_TAG);
        out.push(' ');
    }
    if word > 0 && !rest[word..].trim_start().starts_with(OWN_STATEMENT_TAG) {
        out.push_str(&sql[..start + word]);
        out.push(' ');
        out.push_str(OWN_STATEMENT_TAG);
        let tail = &sql[start + word..];
        if !tail.starts_with(char::is_whitespace) {
            out.push(' ');
        }
        out.push_str(tail);
    } else {
        out.push_str(sql);
    }
    out
}

/// Whether a stored statement text is one of ours: the same rule the collector's SQL applies
/// (the tag leads the text, after any `--` lines, or follows the first keyword).
pub fn is_own_statement(text: &str) -> bool {
    let mut t = text.trim_start();
    while let Some(rest) = t.strip_prefix("--") {
        match rest.find('\n') {
            Some(n) => t = rest[n + 1..].trim_start(),
            None => return false,
        }
    }
    if t.starts_with(OWN_STATEMENT_TAG) {
        return true;
    }
    let word = t
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(t.len());
    let after = &t[word..];
    word > 0
        && after.starts_with(char::is_whitespace)
        && after.trim_start().starts_with(OWN_STATEMENT_TAG)
}

/// Which shape of the pg_stat_statements view is installed, named by the first extension version
/// that has it. Chosen from the installed extension version, never from the server version: a
/// server upgraded without `ALTER EXTENSION pg_stat_statements UPDATE` keeps the old view.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub enum ColumnSet {
    /// 1.4–1.7: `total_time`, `min_time`, ..., `blk_read_time`; no planning, WAL, toplevel, JIT.
    #[serde(rename = "1.4")]
    V1_4,
    /// 1.8 (PostgreSQL 13): `*_exec_time` and `*_plan_time`, WAL counters.
    #[serde(rename = "1.8")]
    V1_8,
    /// 1.9 (PostgreSQL 14): `toplevel`, and the `pg_stat_statements_info` view.
    #[serde(rename = "1.9")]
    V1_9,
    /// 1.10 (PostgreSQL 15, 16): temp block I/O times, JIT counters.
    #[serde(rename = "1.10")]
    V1_10,
    /// 1.11 and later (PostgreSQL 17, 18): `shared_blk_*_time`, local block I/O times,
    /// `stats_since`.
    #[default]
    #[serde(rename = "1.11")]
    V1_11,
}

impl ColumnSet {
    /// The column set for an installed extension version such as `1.10`. Versions older than 1.4
    /// cannot be installed on PostgreSQL 13 and later; an unreadable version is taken as newest.
    pub fn for_extension_version(version: &str) -> ColumnSet {
        match parse_version(version) {
            Some((1, minor)) if minor >= 11 => ColumnSet::V1_11,
            Some((1, 10)) => ColumnSet::V1_10,
            Some((1, 9)) => ColumnSet::V1_9,
            Some((1, 8)) => ColumnSet::V1_8,
            Some((1, _)) | Some((0, _)) => ColumnSet::V1_4,
            Some(_) | None => ColumnSet::V1_11,
        }
    }

    /// Whether `pg_stat_statements_info` (dealloc, stats_reset) exists.
    pub fn has_info(self) -> bool {
        self >= ColumnSet::V1_9
    }

    /// The query for this column set, with `{pgss}` standing for the view.
    pub fn sql(self) -> &'static str {
        match self {
            ColumnSet::V1_4 => include_str!("../sql/statements_1_4.sql"),
            ColumnSet::V1_8 => include_str!("../sql/statements_1_8.sql"),
            ColumnSet::V1_9 => include_str!("../sql/statements_1_9.sql"),
            ColumnSet::V1_10 => include_str!("../sql/statements_1_10.sql"),
            ColumnSet::V1_11 => include_str!("../sql/statements_1_11.sql"),
        }
    }

    /// Name of the query file, used in error messages.
    pub fn query_name(self) -> &'static str {
        match self {
            ColumnSet::V1_4 => "statements_1_4",
            ColumnSet::V1_8 => "statements_1_8",
            ColumnSet::V1_9 => "statements_1_9",
            ColumnSet::V1_10 => "statements_1_10",
            ColumnSet::V1_11 => "statements_1_11",
        }
    }
}

/// `1.10` -> (1, 10).
pub fn parse_version(v: &str) -> Option<(u32, u32)> {
    let mut it = v.trim().split('.');
    let major = it.next()?.parse().ok()?;
    let minor = match it.next() {
        Some(m) => m.parse().ok()?,
        None => 0,
    };
    Some((major, minor))
}

/// What to collect.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementsOptions {
    /// Every database of the cluster instead of the current one (`--all-databases`).
    pub all_databases: bool,
}

/// One statement's figures. Times are milliseconds, blocks are counts of `block_size` bytes.
/// Cumulative since `StatementsSnapshot::since`, or over the window when the snapshot has one.
///
/// Also the row of every `statements_*.sql` variant: they all return the same columns, those
/// their extension version lacks as NULL (`None`). Decoding is strict: a column of the wrong type,
/// or NULL where the view never has NULL, is an error. Fields marked `skip` are not columns;
/// `StatementsSnapshot::from_rows` fills them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct StatementStats {
    /// `None` for another role's statement we may not see (see `hidden`).
    pub queryid: Option<i64>,
    pub userid: i64,
    pub dbid: i64,
    pub role: Option<String>,
    pub database: Option<String>,
    /// `None` before extension 1.9, where every tracked statement counts as top level unless
    /// `pg_stat_statements.track = all`.
    pub toplevel: Option<bool>,
    /// Normalized text; `None` when hidden or when the server could not read its text file.
    pub query: Option<String>,
    /// Another role's statement shown as `<insufficient privilege>`.
    #[sqlx(skip)]
    pub hidden: bool,
    pub calls: i64,
    #[sqlx(rename = "total_exec_time")]
    pub total_exec_time_ms: f64,
    #[sqlx(rename = "mean_exec_time")]
    pub mean_exec_time_ms: f64,
    /// Lower bound of every execution counted here (cumulative even in a window).
    #[sqlx(rename = "min_exec_time")]
    pub min_exec_time_ms: f64,
    /// Upper bound of every execution counted here (cumulative even in a window).
    #[sqlx(rename = "max_exec_time")]
    pub max_exec_time_ms: f64,
    /// Population standard deviation of the execution time.
    #[sqlx(rename = "stddev_exec_time")]
    pub stddev_exec_time_ms: f64,
    /// Planning counts and time, `None` before 1.8; zero unless `track_planning` is on.
    pub plans: Option<i64>,
    #[sqlx(rename = "total_plan_time")]
    pub total_plan_time_ms: Option<f64>,
    pub rows: i64,
    pub shared_blks_hit: i64,
    pub shared_blks_read: i64,
    pub shared_blks_dirtied: i64,
    pub shared_blks_written: i64,
    pub local_blks_hit: i64,
    pub local_blks_read: i64,
    pub local_blks_dirtied: i64,
    pub local_blks_written: i64,
    pub temp_blks_read: i64,
    pub temp_blks_written: i64,
    /// Time reading and writing shared blocks (before 1.11: all data file blocks). Zero while
    /// `track_io_timing` is off.
    #[sqlx(rename = "shared_blk_read_time")]
    pub shared_blk_read_time_ms: f64,
    #[sqlx(rename = "shared_blk_write_time")]
    pub shared_blk_write_time_ms: f64,
    #[sqlx(rename = "local_blk_read_time")]
    pub local_blk_read_time_ms: Option<f64>,
    #[sqlx(rename = "local_blk_write_time")]
    pub local_blk_write_time_ms: Option<f64>,
    #[sqlx(rename = "temp_blk_read_time")]
    pub temp_blk_read_time_ms: Option<f64>,
    #[sqlx(rename = "temp_blk_write_time")]
    pub temp_blk_write_time_ms: Option<f64>,
    pub wal_records: Option<i64>,
    pub wal_fpi: Option<i64>,
    pub wal_bytes: Option<i64>,
    pub jit_functions: Option<i64>,
    /// Generation + inlining + optimization + emission (+ deform) time.
    #[sqlx(rename = "jit_time")]
    pub jit_time_ms: Option<f64>,
    /// When this entry started counting (1.11+).
    pub stats_since: Option<DateTime<Utc>>,
    pub minmax_stats_since: Option<DateTime<Utc>>,
    // Derived figures, recomputed whenever the statement list changes.
    /// This statement's share of the total execution time of all top-level statements.
    #[serde(default)]
    #[sqlx(skip)]
    pub share_of_total_time_pct: f64,
    #[serde(default)]
    #[sqlx(skip)]
    pub rows_per_call: f64,
    /// shared_blks_hit / (hit + read); `None` when it touched no shared blocks.
    #[serde(default)]
    #[sqlx(skip)]
    pub cache_hit_ratio: Option<f64>,
    /// Bytes written to temporary files (sorts, hashes spilled past work_mem).
    #[serde(default)]
    #[sqlx(skip)]
    pub temp_spill_bytes: i64,
}

impl StatementStats {
    /// A decoded row made safe to keep: a statement shown as `<insufficient privilege>` is
    /// marked hidden and loses that placeholder text, and secrets in the text are masked. Pure,
    /// so every column-set variant is testable without a server.
    fn screened(mut self) -> StatementStats {
        if self.query.as_deref() == Some(INSUFFICIENT_PRIVILEGE) {
            self.hidden = true;
            self.query = None;
        }
        // Utility statements are stored verbatim: never let a password through.
        self.query = self
            .query
            .map(|q| crate::db::redact::redact_sql_secrets(&q));
        self
    }

    /// Counts toward workload figures: top level (nested statements' time is already inside the
    /// statement that called them) and executed at least once.
    pub fn is_workload(&self) -> bool {
        self.toplevel != Some(false) && self.calls > 0
    }

    /// Total I/O wait time we know of (zero while track_io_timing is off).
    pub fn io_time_ms(&self) -> f64 {
        self.shared_blk_read_time_ms
            + self.shared_blk_write_time_ms
            + self.local_blk_read_time_ms.unwrap_or(0.0)
            + self.local_blk_write_time_ms.unwrap_or(0.0)
            + self.temp_blk_read_time_ms.unwrap_or(0.0)
            + self.temp_blk_write_time_ms.unwrap_or(0.0)
    }

    /// Identity of an entry across two samples: pg_stat_statements' own hash key.
    fn key(&self) -> Option<(i64, i64, i64, Option<bool>)> {
        self.queryid
            .map(|q| (self.userid, self.dbid, q, self.toplevel))
    }
}

/// `pg_stat_statements_info` (extension 1.9+), also the row of `statements_info.sql`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct StatementsInfo {
    /// Entries evicted because `pg_stat_statements.max` was reached.
    pub dealloc: i64,
    /// The last full `pg_stat_statements_reset()`.
    pub stats_reset: DateTime<Utc>,
}

/// A two-sample window: the figures are the difference between the samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatementsWindow {
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub seconds: f64,
    /// pg_stat_statements was reset between the samples (stats_reset moved, or counters went
    /// down): executions between the first sample and the reset are lost.
    pub reset_detected: bool,
    /// Statements with no entry in the first sample that ran in the window.
    pub appeared: u64,
    /// Entries of the first sample gone from the second (evicted or reset).
    pub vanished: u64,
    /// Entries whose counters restarted in the window (taken whole from the second sample).
    pub restarted: u64,
}

/// Everything read from pg_stat_statements.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatementsSnapshot {
    /// Server clock when the (second) sample was read.
    pub taken_at: DateTime<Utc>,
    /// The database we were connected to.
    pub database: String,
    /// Statements of every database, not only `database`.
    pub all_databases: bool,
    pub extension_version: String,
    pub extension_schema: String,
    pub column_set: ColumnSet,
    pub block_size: i64,
    /// `pg_stat_statements.max`, when readable.
    pub max_entries: Option<i64>,
    /// `pg_stat_statements.track_planning`, when readable.
    pub track_planning: Option<bool>,
    /// `pg_stat_statements_info` (extension 1.9+).
    pub info: Option<StatementsInfo>,
    /// The figures cover executions since this time: the last full reset, or the window start.
    /// `None` when unknown (extension before 1.9, no window).
    pub since: Option<DateTime<Utc>>,
    /// Rows shown as `<insufficient privilege>` (kept in `statements` with `hidden`).
    pub insufficient_privilege_rows: u64,
    pub statements: Vec<StatementStats>,
    /// Set when this is the difference of two samples.
    pub window: Option<StatementsWindow>,
}

impl StatementsSnapshot {
    /// Build from rows as decoded (see `StatementStats`) and recompute the derived figures.
    #[allow(clippy::too_many_arguments)]
    pub fn from_rows(
        taken_at: DateTime<Utc>,
        database: String,
        all_databases: bool,
        extension_version: String,
        extension_schema: String,
        block_size: i64,
        info: Option<StatementsInfo>,
        rows: Vec<StatementStats>,
    ) -> StatementsSnapshot {
        let statements: Vec<StatementStats> =
            rows.into_iter().map(StatementStats::screened).collect();
        let mut s = StatementsSnapshot {
            taken_at,
            database,
            all_databases,
            column_set: ColumnSet::for_extension_version(&extension_version),
            extension_version,
            extension_schema,
            block_size,
            max_entries: None,
            track_planning: None,
            since: info.as_ref().map(|i| i.stats_reset),
            info,
            insufficient_privilege_rows: 0,
            statements,
            window: None,
        };
        s.recompute();
        s
    }

    /// Recompute the hidden-row count and every statement's derived figures, and order the
    /// statements by total execution time (largest first).
    pub fn recompute(&mut self) {
        self.insufficient_privilege_rows =
            self.statements.iter().filter(|s| s.hidden).count() as u64;
        let total = self.total_exec_time_ms();
        let block_size = self.block_size;
        for s in &mut self.statements {
            s.share_of_total_time_pct = if total > 0.0 && s.toplevel != Some(false) {
                100.0 * s.total_exec_time_ms / total
            } else {
                0.0
            };
            s.rows_per_call = if s.calls > 0 {
                s.rows as f64 / s.calls as f64
            } else {
                0.0
            };
            let touched = s.shared_blks_hit + s.shared_blks_read;
            s.cache_hit_ratio = (touched > 0).then(|| s.shared_blks_hit as f64 / touched as f64);
            s.temp_spill_bytes = s.temp_blks_written.saturating_mul(block_size);
        }
        self.statements.sort_by(|a, b| {
            b.total_exec_time_ms
                .total_cmp(&a.total_exec_time_ms)
                .then(b.calls.cmp(&a.calls))
                .then(a.queryid.cmp(&b.queryid))
        });
    }

    /// Statements that count toward workload figures (top level, executed).
    pub fn workload(&self) -> impl Iterator<Item = &StatementStats> {
        self.statements.iter().filter(|s| s.is_workload())
    }

    pub fn total_calls(&self) -> i64 {
        self.workload().map(|s| s.calls).sum()
    }

    pub fn total_exec_time_ms(&self) -> f64 {
        self.workload().map(|s| s.total_exec_time_ms).sum()
    }

    /// Calls per second over the window; `None` without a window.
    pub fn qps(&self) -> Option<f64> {
        self.window
            .as_ref()
            .filter(|w| w.seconds > 0.0)
            .map(|w| self.total_calls() as f64 / w.seconds)
    }
}

/// The row of `statements_settings.sql`.
#[derive(sqlx::FromRow)]
struct SettingsRow {
    taken_at: DateTime<Utc>,
    database: String,
    block_size: i64,
    max_entries: Option<i64>,
    track_planning: Option<bool>,
}

fn not_installed(caps: &Capabilities) -> CollectError {
    CollectError::query(
        "statements",
        sqlx::Error::Configuration(
            format!(
                "pg_stat_statements is not installed in database {}",
                caps.database
            )
            .into(),
        ),
    )
}

/// Read pg_stat_statements once. Fails when the extension is not installed in this database
/// (check `Capabilities::pg_stat_statements()` first) or its library is not preloaded.
pub async fn collect(
    pool: &sqlx::PgPool,
    caps: &Capabilities,
    opts: &StatementsOptions,
) -> Result<StatementsSnapshot, CollectError> {
    let ext = caps
        .pg_stat_statements()
        .ok_or_else(|| not_installed(caps))?;
    let version = ext.installed_version.clone().unwrap_or_default();
    let schema = ext.schema.clone().ok_or_else(|| not_installed(caps))?;
    let set = ColumnSet::for_extension_version(&version);

    const SETTINGS: &str = include_str!("../sql/statements_settings.sql");
    let row = sqlx::query(SETTINGS)
        .fetch_one(pool)
        .await
        .map_err(|e| CollectError::query("statements_settings", e))?;
    let settings: SettingsRow = decode("statements_settings", &row)?;

    let view = format!("{}.pg_stat_statements", quote_ident(&schema));
    let sql = set.sql().replace("{pgss}", &view);
    let rows = sqlx::query(&sql)
        .bind(opts.all_databases)
        .fetch_all(pool)
        .await
        .map_err(|e| CollectError::query(set.query_name(), e))?;
    let raw = rows
        .iter()
        .map(|r| decode(set.query_name(), r))
        .collect::<Result<Vec<StatementStats>, _>>()?;

    let info = if set.has_info() {
        const INFO: &str = include_str!("../sql/statements_info.sql");
        let sql = INFO.replace(
            "{pgss_info}",
            &format!("{}.pg_stat_statements_info", quote_ident(&schema)),
        );
        let r = sqlx::query(&sql)
            .fetch_one(pool)
            .await
            .map_err(|e| CollectError::query("statements_info", e))?;
        Some(decode("statements_info", &r)?)
    } else {
        None
    };

    let mut snap = StatementsSnapshot::from_rows(
        settings.taken_at,
        settings.database,
        opts.all_databases,
        version,
        schema,
        settings.block_size,
        info,
        raw,
    );
    snap.max_entries = settings.max_entries;
    snap.track_planning = settings.track_planning;
    Ok(snap)
}

/// Two samples `window` apart, and their difference: what ran during the window.
pub async fn collect_window(
    pool: &sqlx::PgPool,
    caps: &Capabilities,
    opts: &StatementsOptions,
    window: Duration,
) -> Result<StatementsSnapshot, CollectError> {
    let before = collect(pool, caps, opts).await?;
    tokio::time::sleep(window).await;
    let after = collect(pool, caps, opts).await?;
    Ok(diff(&before, &after))
}

/// What ran between two samples (`after` minus `before`), per statement.
///
/// - A statement missing from `before` counts whole (it appeared in the window).
/// - A full reset between the samples (`stats_reset` moved), counters that went down, or an entry
///   that started counting after `before` was taken: the entry is taken whole from `after`, and
///   the window says a reset was detected (executions before the reset are lost).
/// - Entries of `before` missing from `after` were evicted or reset; they are counted as vanished.
/// - Statements that did not run in the window are left out.
/// - `<insufficient privilege>` rows have no identity and cannot be matched; they are left out of
///   the difference and only their count (from `after`) is kept.
///
/// Min and max stay cumulative (they bound the window's executions); the window's mean and
/// standard deviation are exact, derived from the change in the sums.
pub fn diff(before: &StatementsSnapshot, after: &StatementsSnapshot) -> StatementsSnapshot {
    let full_reset = match (&before.info, &after.info) {
        (Some(b), Some(a)) => a.stats_reset != b.stats_reset,
        _ => false,
    };
    let before_by_key: HashMap<_, &StatementStats> = before
        .statements
        .iter()
        .filter_map(|s| s.key().map(|k| (k, s)))
        .collect();
    let mut seen = std::collections::HashSet::new();
    let (mut appeared, mut restarted) = (0u64, 0u64);
    let mut reset_detected = full_reset;
    let mut statements = Vec::new();
    for a in &after.statements {
        let Some(key) = a.key() else { continue };
        seen.insert(key);
        let delta = match before_by_key.get(&key) {
            None => {
                if a.calls > 0 {
                    appeared += 1;
                }
                a.clone()
            }
            Some(b) => {
                let counting_since_window = a.stats_since.is_some_and(|t| t > before.taken_at);
                if full_reset || a.calls < b.calls || counting_since_window {
                    if !full_reset {
                        reset_detected = true;
                    }
                    if a.calls > 0 {
                        restarted += 1;
                    }
                    a.clone()
                } else {
                    subtract(a, b)
                }
            }
        };
        if delta.calls > 0 {
            statements.push(delta);
        }
    }
    let vanished = before_by_key.keys().filter(|k| !seen.contains(*k)).count() as u64;
    let seconds = (after.taken_at - before.taken_at)
        .num_microseconds()
        .map(|us| us as f64 / 1e6)
        .unwrap_or(0.0);
    let mut out = StatementsSnapshot {
        taken_at: after.taken_at,
        database: after.database.clone(),
        all_databases: after.all_databases,
        extension_version: after.extension_version.clone(),
        extension_schema: after.extension_schema.clone(),
        column_set: after.column_set,
        block_size: after.block_size,
        max_entries: after.max_entries,
        track_planning: after.track_planning,
        info: after.info.clone(),
        since: Some(before.taken_at),
        insufficient_privilege_rows: 0,
        statements,
        window: Some(StatementsWindow {
            started_at: before.taken_at,
            ended_at: after.taken_at,
            seconds,
            reset_detected,
            appeared,
            vanished,
            restarted,
        }),
    };
    out.recompute();
    // Hidden rows are not in the difference, but the reader must still learn they exist.
    out.insufficient_privilege_rows = after.insufficient_privilege_rows;
    out
}

/// `a - b` for one entry whose counters only grew between the samples.
fn subtract(a: &StatementStats, b: &StatementStats) -> StatementStats {
    let calls = a.calls - b.calls;
    let total = (a.total_exec_time_ms - b.total_exec_time_ms).max(0.0);
    let mean = if calls > 0 { total / calls as f64 } else { 0.0 };
    // Sum of squares of each sample: n * (stddev^2 + mean^2); their difference is the window's.
    let sum_sq = |s: &StatementStats| {
        s.calls as f64 * (s.stddev_exec_time_ms.powi(2) + s.mean_exec_time_ms.powi(2))
    };
    let stddev = if calls > 0 {
        let var = (sum_sq(a) - sum_sq(b)) / calls as f64 - mean * mean;
        var.max(0.0).sqrt()
    } else {
        0.0
    };
    let opt_i = |x: Option<i64>, y: Option<i64>| x.map(|x| x - y.unwrap_or(0));
    let opt_f = |x: Option<f64>, y: Option<f64>| x.map(|x| (x - y.unwrap_or(0.0)).max(0.0));
    StatementStats {
        calls,
        total_exec_time_ms: total,
        mean_exec_time_ms: mean,
        stddev_exec_time_ms: stddev,
        plans: opt_i(a.plans, b.plans),
        total_plan_time_ms: opt_f(a.total_plan_time_ms, b.total_plan_time_ms),
        rows: a.rows - b.rows,
        shared_blks_hit: a.shared_blks_hit - b.shared_blks_hit,
        shared_blks_read: a.shared_blks_read - b.shared_blks_read,
        shared_blks_dirtied: a.shared_blks_dirtied - b.shared_blks_dirtied,
        shared_blks_written: a.shared_blks_written - b.shared_blks_written,
        local_blks_hit: a.local_blks_hit - b.local_blks_hit,
        local_blks_read: a.local_blks_read - b.local_blks_read,
        local_blks_dirtied: a.local_blks_dirtied - b.local_blks_dirtied,
        local_blks_written: a.local_blks_written - b.local_blks_written,
        temp_blks_read: a.temp_blks_read - b.temp_blks_read,
        temp_blks_written: a.temp_blks_written - b.temp_blks_written,
        shared_blk_read_time_ms: (a.shared_blk_read_time_ms - b.shared_blk_read_time_ms).max(0.0),
        shared_blk_write_time_ms: (a.shared_blk_write_time_ms - b.shared_blk_write_time_ms)
            .max(0.0),
        local_blk_read_time_ms: opt_f(a.local_blk_read_time_ms, b.local_blk_read_time_ms),
        local_blk_write_time_ms: opt_f(a.local_blk_write_time_ms, b.local_blk_write_time_ms),
        temp_blk_read_time_ms: opt_f(a.temp_blk_read_time_ms, b.temp_blk_read_time_ms),
        temp_blk_write_time_ms: opt_f(a.temp_blk_write_time_ms, b.temp_blk_write_time_ms),
        wal_records: opt_i(a.wal_records, b.wal_records),
        wal_fpi: opt_i(a.wal_fpi, b.wal_fpi),
        wal_bytes: opt_i(a.wal_bytes, b.wal_bytes),
        jit_functions: opt_i(a.jit_functions, b.jit_functions),
        jit_time_ms: opt_f(a.jit_time_ms, b.jit_time_ms),
        ..a.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap()
    }

    /// A row as the given column set returns it: columns the version lacks are NULL.
    fn row(set: ColumnSet, queryid: i64, calls: i64, mean: f64) -> StatementStats {
        let since_1_8 = set >= ColumnSet::V1_8;
        let since_1_10 = set >= ColumnSet::V1_10;
        let since_1_11 = set >= ColumnSet::V1_11;
        StatementStats {
            userid: 10,
            dbid: 5,
            role: Some("app".into()),
            database: Some("shop".into()),
            queryid: Some(queryid),
            toplevel: (set >= ColumnSet::V1_9).then_some(true),
            query: Some(format!("SELECT {queryid}")),
            calls,
            total_exec_time_ms: mean * calls as f64,
            min_exec_time_ms: mean / 2.0,
            max_exec_time_ms: mean * 3.0,
            mean_exec_time_ms: mean,
            stddev_exec_time_ms: mean / 4.0,
            plans: since_1_8.then_some(calls),
            total_plan_time_ms: since_1_8.then_some(0.5),
            rows: calls * 2,
            shared_blks_hit: 90,
            shared_blks_read: 10,
            temp_blks_written: 3,
            shared_blk_read_time_ms: 1.5,
            shared_blk_write_time_ms: 0.5,
            local_blk_read_time_ms: since_1_11.then_some(0.25),
            local_blk_write_time_ms: since_1_11.then_some(0.0),
            temp_blk_read_time_ms: since_1_10.then_some(0.1),
            temp_blk_write_time_ms: since_1_10.then_some(0.2),
            wal_records: since_1_8.then_some(7),
            wal_fpi: since_1_8.then_some(1),
            wal_bytes: since_1_8.then_some(4096),
            jit_functions: since_1_10.then_some(0),
            jit_time_ms: since_1_10.then_some(0.0),
            stats_since: since_1_11.then(|| t(-100)),
            minmax_stats_since: since_1_11.then(|| t(-100)),
            ..Default::default()
        }
    }

    fn snap(set: ColumnSet, rows: Vec<StatementStats>, at: i64) -> StatementsSnapshot {
        let version = match set {
            ColumnSet::V1_4 => "1.7",
            ColumnSet::V1_8 => "1.8",
            ColumnSet::V1_9 => "1.9",
            ColumnSet::V1_10 => "1.10",
            ColumnSet::V1_11 => "1.12",
        };
        let info = set.has_info().then(|| StatementsInfo {
            dealloc: 0,
            stats_reset: t(-1000),
        });
        StatementsSnapshot::from_rows(
            t(at),
            "shop".into(),
            false,
            version.into(),
            "public".into(),
            8192,
            info,
            rows,
        )
    }

    #[test]
    fn tag_survives_servers_that_drop_leading_comments() {
        assert_eq!(tag("SELECT 1"), "/* dbdoctor */ SELECT /* dbdoctor */ 1");
        assert_eq!(
            tag("  with x as (select 1) select * from x"),
            "/* dbdoctor */   with /* dbdoctor */ x as (select 1) select * from x"
        );
        // Already led by the tag (our SQL files): only the inner tag is added, once.
        let file = "-- purpose\n/* dbdoctor */\nSELECT now()";
        assert_eq!(
            tag(file),
            "-- purpose\n/* dbdoctor */\nSELECT /* dbdoctor */ now()"
        );
        assert_eq!(tag(&tag(file)), tag(file));
        // Nothing to follow: leading tag only.
        assert_eq!(tag("(SELECT 1)"), "/* dbdoctor */ (SELECT 1)");
        assert_eq!(
            tag("SELECT*FROM t"),
            "/* dbdoctor */ SELECT /* dbdoctor */ *FROM t"
        );
        for sql in [
            "SELECT 1",
            "with x as (select 1) select 1",
            "INSERT INTO t VALUES (1)",
        ] {
            let t = tag(sql);
            assert!(is_own_statement(&t), "{t}");
            // What PostgreSQL 18 stores: the text from the first token on.
            let stored = &t[first_token(&t)..];
            assert!(is_own_statement(stored), "{stored}");
            assert!(!is_own_statement(sql));
        }
        assert!(is_own_statement("-- a\n-- b\n/* dbdoctor */ SELECT 1"));
        assert!(!is_own_statement("SELECT '/* dbdoctor */'"));
        assert!(!is_own_statement("SELECT x /* dbdoctor */"));
        // Every collector query is tagged both ways.
        for set in [ColumnSet::V1_4, ColumnSet::V1_11] {
            let sql = set.sql();
            assert!(is_own_statement(sql));
            assert!(is_own_statement(&sql[first_token(sql)..]));
        }
    }

    #[test]
    fn column_set_follows_the_extension_version_not_the_server() {
        use ColumnSet::*;
        for (v, want) in [
            ("1.4", V1_4),
            ("1.7", V1_4),
            ("1.8", V1_8),
            ("1.9", V1_9),
            ("1.10", V1_10),
            ("1.11", V1_11),
            ("1.12", V1_11),
            ("1.13", V1_11),
            ("2.0", V1_11),
            ("garbage", V1_11),
        ] {
            assert_eq!(ColumnSet::for_extension_version(v), want, "{v}");
        }
        assert!(!V1_8.has_info() && V1_9.has_info() && V1_11.has_info());
    }

    /// Every variant returns the same columns, in the same order, under the same names.
    #[test]
    fn every_variant_returns_the_same_columns() {
        fn aliases(sql: &str) -> Vec<String> {
            sql.lines()
                .filter_map(|l| l.rsplit_once(" AS ").map(|(_, a)| a))
                .map(|a| a.trim().trim_end_matches(',').to_string())
                .collect()
        }
        let want = aliases(ColumnSet::V1_11.sql());
        assert_eq!(want.len(), 39);
        for set in [
            ColumnSet::V1_4,
            ColumnSet::V1_8,
            ColumnSet::V1_9,
            ColumnSet::V1_10,
        ] {
            assert_eq!(aliases(set.sql()), want, "{set:?}");
            assert!(set.sql().contains("/* dbdoctor */\nSELECT"));
            assert!(set.sql().contains("FROM {pgss} s"));
        }
        // Old names only in the old variants, new names only in the new.
        assert!(ColumnSet::V1_4.sql().contains("s.total_time "));
        assert!(!ColumnSet::V1_8.sql().contains("s.total_time "));
        assert!(ColumnSet::V1_10.sql().contains("s.blk_read_time "));
        assert!(ColumnSet::V1_11.sql().contains("s.shared_blk_read_time "));
        assert!(ColumnSet::V1_9.sql().contains("s.toplevel "));
        assert!(!ColumnSet::V1_8.sql().contains("s.toplevel"));
    }

    #[test]
    fn each_column_set_maps_to_the_same_statement_fields() {
        for set in [
            ColumnSet::V1_4,
            ColumnSet::V1_8,
            ColumnSet::V1_9,
            ColumnSet::V1_10,
            ColumnSet::V1_11,
        ] {
            let s = snap(set, vec![row(set, 1, 10, 4.0)], 0);
            assert_eq!(s.column_set, set);
            let st = &s.statements[0];
            assert_eq!(st.calls, 10);
            assert_eq!(st.total_exec_time_ms, 40.0);
            assert_eq!(st.mean_exec_time_ms, 4.0);
            assert_eq!(st.min_exec_time_ms, 2.0);
            assert_eq!(st.max_exec_time_ms, 12.0);
            assert_eq!(st.stddev_exec_time_ms, 1.0);
            assert_eq!(st.rows_per_call, 2.0);
            assert_eq!(st.cache_hit_ratio, Some(0.9));
            assert_eq!(st.temp_spill_bytes, 3 * 8192);
            assert_eq!(st.share_of_total_time_pct, 100.0);
            assert_eq!(st.query.as_deref(), Some("SELECT 1"));
            assert!(st.is_workload());
            assert_eq!(st.plans.is_some(), set >= ColumnSet::V1_8);
            assert_eq!(st.wal_bytes, (set >= ColumnSet::V1_8).then_some(4096));
            assert_eq!(st.toplevel.is_some(), set >= ColumnSet::V1_9);
            assert_eq!(st.temp_blk_read_time_ms.is_some(), set >= ColumnSet::V1_10);
            assert_eq!(st.local_blk_read_time_ms.is_some(), set >= ColumnSet::V1_11);
            assert_eq!(st.stats_since.is_some(), set >= ColumnSet::V1_11);
            let io = 1.5
                + 0.5
                + if set >= ColumnSet::V1_10 { 0.3 } else { 0.0 }
                + if set >= ColumnSet::V1_11 { 0.25 } else { 0.0 };
            assert!((st.io_time_ms() - io).abs() < 1e-9);
            assert_eq!(s.info.is_some(), set.has_info());
            assert_eq!(s.since, set.has_info().then(|| t(-1000)));
        }
    }

    #[test]
    fn hidden_rows_are_counted_not_dropped() {
        let set = ColumnSet::V1_10;
        let mut hidden = row(set, 0, 5, 1.0);
        hidden.queryid = None;
        hidden.query = Some(INSUFFICIENT_PRIVILEGE.into());
        let s = snap(set, vec![row(set, 1, 10, 1.0), hidden], 0);
        assert_eq!(s.insufficient_privilege_rows, 1);
        assert_eq!(s.statements.len(), 2);
        let h = s.statements.iter().find(|x| x.hidden).unwrap();
        assert_eq!(h.query, None);
        // Their executions are real workload even if the text is hidden.
        assert_eq!(s.total_calls(), 15);
    }

    #[test]
    fn nested_statements_do_not_count_twice() {
        let set = ColumnSet::V1_10;
        let mut nested = row(set, 2, 100, 1.0);
        nested.toplevel = Some(false);
        let s = snap(set, vec![row(set, 1, 10, 20.0), nested], 0);
        assert_eq!(s.total_calls(), 10);
        assert_eq!(s.total_exec_time_ms(), 200.0);
        let n = s.statements.iter().find(|x| x.queryid == Some(2)).unwrap();
        assert_eq!(n.share_of_total_time_pct, 0.0);
        // Ordered by total time.
        assert_eq!(s.statements[0].queryid, Some(1));
    }

    #[test]
    fn diff_subtracts_and_recovers_the_window_mean_and_stddev() {
        let set = ColumnSet::V1_10;
        // Before: 4 calls of 1, 3, 1, 3 ms (mean 2, stddev 1).
        let mut b = row(set, 1, 4, 2.0);
        b.stddev_exec_time_ms = 1.0;
        b.rows = 4;
        // After: 4 more calls of 10 ms each: total 48, mean 6, sum of squares 20 + 400 = 420.
        let mut a = row(set, 1, 8, 6.0);
        a.stddev_exec_time_ms = (420.0f64 / 8.0 - 36.0).sqrt();
        a.rows = 12;
        a.shared_blks_hit = 190;
        let gone = row(set, 3, 2, 1.0);
        let idle = row(set, 4, 9, 1.0);
        let new = row(set, 5, 3, 1.0);
        let d = diff(
            &snap(set, vec![b, gone, idle.clone()], 0),
            &snap(set, vec![a, idle, new], 60),
        );
        let w = d.window.as_ref().unwrap();
        assert_eq!(w.seconds, 60.0);
        assert!(!w.reset_detected);
        assert_eq!((w.appeared, w.vanished, w.restarted), (1, 1, 0));
        assert_eq!(d.since, Some(t(0)));
        // The idle statement did not run in the window.
        assert_eq!(d.statements.len(), 2);
        let s = d.statements.iter().find(|s| s.queryid == Some(1)).unwrap();
        assert_eq!(s.calls, 4);
        assert_eq!(s.rows, 8);
        assert_eq!(s.shared_blks_hit, 100);
        assert!((s.total_exec_time_ms - 40.0).abs() < 1e-9);
        assert!((s.mean_exec_time_ms - 10.0).abs() < 1e-9);
        assert!(s.stddev_exec_time_ms < 1e-6, "{}", s.stddev_exec_time_ms);
        assert_eq!(d.total_calls(), 7);
        assert!((d.qps().unwrap() - 7.0 / 60.0).abs() < 1e-12);
    }

    #[test]
    fn diff_detects_a_full_reset_through_stats_reset() {
        let set = ColumnSet::V1_10;
        let before = snap(set, vec![row(set, 1, 100, 1.0)], 0);
        let mut after = snap(set, vec![row(set, 1, 150, 1.0)], 60);
        after.info.as_mut().unwrap().stats_reset = t(30);
        let d = diff(&before, &after);
        let w = d.window.unwrap();
        assert!(w.reset_detected);
        // Everything since the reset ran inside the window: taken whole, not 150 - 100.
        assert_eq!(d.statements[0].calls, 150);
        assert_eq!(w.restarted, 1);
    }

    #[test]
    fn diff_detects_counters_going_down_without_the_info_view() {
        let set = ColumnSet::V1_8;
        let before = snap(set, vec![row(set, 1, 100, 1.0), row(set, 2, 50, 1.0)], 0);
        let after = snap(set, vec![row(set, 1, 7, 1.0), row(set, 2, 60, 1.0)], 10);
        let d = diff(&before, &after);
        let w = d.window.as_ref().unwrap();
        assert!(w.reset_detected);
        assert_eq!(w.restarted, 1);
        let calls: HashMap<_, _> = d.statements.iter().map(|s| (s.queryid, s.calls)).collect();
        assert_eq!(calls[&Some(1)], 7);
        assert_eq!(calls[&Some(2)], 10);
        assert!(d.statements.iter().all(|s| s.calls >= 0 && s.rows >= 0));
    }

    #[test]
    fn diff_uses_stats_since_to_spot_a_recreated_entry() {
        let set = ColumnSet::V1_11;
        let before = snap(set, vec![row(set, 1, 5, 1.0)], 0);
        let mut r = row(set, 1, 8, 1.0);
        r.stats_since = Some(t(20));
        let d = diff(&before, &snap(set, vec![r], 60));
        assert_eq!(d.statements[0].calls, 8);
        assert!(d.window.unwrap().reset_detected);
    }

    #[test]
    fn diff_keeps_the_hidden_count_but_not_the_hidden_rows() {
        let set = ColumnSet::V1_9;
        let mut h = row(set, 0, 5, 1.0);
        h.queryid = None;
        h.query = Some(INSUFFICIENT_PRIVILEGE.into());
        let mut h2 = h.clone();
        h2.calls = 9;
        let d = diff(&snap(set, vec![h], 0), &snap(set, vec![h2], 5));
        assert!(d.statements.is_empty());
        assert_eq!(d.insufficient_privilege_rows, 1);
    }

    #[test]
    fn snapshot_round_trips_through_json() {
        let set = ColumnSet::V1_11;
        let s = snap(set, vec![row(set, 1, 10, 4.0)], 0);
        let text = serde_json::to_string(&s).unwrap();
        let back: StatementsSnapshot = serde_json::from_str(&text).unwrap();
        assert_eq!(back, s);
        let j: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(j["column_set"], "1.11");
        assert_eq!(j["statements"][0]["calls"], 10);
    }
}
