//! `validate --trace`: runs migrations on a throwaway database and records, per statement, the
//! locks its backend holds, the relations it rewrote, what it created implicitly and its time.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

use anyhow::Context;
use serde::Serialize;
use sqlx::PgConnection;

use super::lint::{Diagnostic, Severity};
use super::locks::LockLevel;
use super::source::{Migration, SqlFile};
use super::split::split;
use crate::error::Error;
use crate::util::human_bytes;

/// Finding: a statement rewrote a table (its relfilenode changed).
pub const TABLE_REWRITE: &str = "table_rewrite";
/// Finding: a lock that blocks writes stays held while later statements of the transaction run.
pub const LOCK_HELD_ACROSS_STATEMENTS: &str = "lock_held_across_statements";
/// Note: one held-lock span (relation, mode, from which statement, until when).
pub const LOCK_SPAN: &str = "trace";

/// User relations and their files (catalogs and TOAST left out).
const RELATIONS_SQL: &str = "SELECT c.oid::int8 AS oid, c.relfilenode::int8 AS filenode, \
     n.nspname AS schema, c.relname AS name, c.relkind::text AS kind, \
     pg_relation_size(c.oid)::int8 AS bytes \
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' \
       AND c.relkind IN ('r', 'i', 'm', 'p', 'I')";

/// Constraints of user relations.
const CONSTRAINTS_SQL: &str = "SELECT k.oid::int8 AS oid, k.conname AS name, \
     k.conrelid::regclass::text AS rel, k.contype::text AS kind \
     FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace \
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')";

/// Relation locks this backend holds.
const LOCKS_SQL: &str = "SELECT c.oid::int8 AS oid, l.mode AS mode \
     FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
     JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted \
       AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'";

#[derive(Debug, Clone)]
/// A row of the relations query.
#[derive(sqlx::FromRow)]
struct RelationRow {
    oid: i64,
    schema: String,
    name: String,
    filenode: i64,
    kind: String,
    bytes: i64,
}

/// A row of the constraints query.
#[derive(sqlx::FromRow)]
struct ConstraintRow {
    oid: i64,
    name: String,
    rel: String,
    kind: String,
}

/// A row of the held-locks query.
#[derive(sqlx::FromRow)]
struct LockRow {
    oid: i64,
    mode: String,
}

struct Relation {
    filenode: i64,
    name: String,
    kind: String,
    bytes: i64,
}

/// What one statement did.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StatementTrace {
    /// 1-based position in the file.
    pub statement: usize,
    pub line: usize,
    pub column: usize,
    /// Relation -> strongest lock held right after the statement (locks taken by earlier
    /// statements of the transaction included).
    #[serde(serialize_with = "crate::migrate::locks::serialize_mode_names")]
    pub locks: BTreeMap<String, LockLevel>,
    /// Relations whose file was replaced, with their size after the rewrite.
    pub rewritten: Vec<(String, i64)>,
    /// Indexes and constraints that appeared without being named by the statement.
    pub created: Vec<String>,
    pub duration_ms: f64,
}

/// One file's trace.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FileTrace {
    pub file: String,
    pub in_transaction: bool,
    pub statements: Vec<StatementTrace>,
    /// The statement PostgreSQL rejected (line, column, message); tracing stops there.
    pub failed: Option<(usize, usize, String)>,
    /// Size in bytes of each table on the trace database when the file started (the sample the
    /// times were measured on).
    #[serde(default)]
    pub sizes: BTreeMap<String, i64>,
}

/// A lock held from one statement until the end of the transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct LockSpan {
    pub relation: String,
    pub mode: LockLevel,
    /// 1-based statement that first held `mode`.
    pub from: usize,
    /// Statements run while it was held (the first one included).
    pub statements: usize,
    pub rewritten_bytes: i64,
    /// Time the span's statements took on the trace database.
    pub duration_ms: f64,
}

/// A live table as the target database shows it (read-only): size and write rate.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveTable {
    pub rows: i64,
    pub bytes: i64,
    /// INSERT + UPDATE + DELETE rows per second.
    pub writes_per_sec: f64,
    /// `sampled` (two readings of pg_stat_user_tables a short interval apart) or
    /// `since_stats_reset` (the average since the statistics were reset, when the interval saw
    /// no write).
    pub rate_source: &'static str,
}

/// How many writes would wait behind one held lock span on the live table (JSON field
/// `lock_queue` of the span's note). Field names are a JSON API: add, never rename.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LockQueue {
    pub relation: String,
    pub mode: String,
    /// The span's time on the trace database and the table's size there.
    pub traced_ms: f64,
    pub traced_bytes: i64,
    pub live_rows: i64,
    pub live_bytes: i64,
    /// The traced time scaled by live bytes / traced bytes (never below the traced time).
    pub estimated_ms: f64,
    pub writes_per_sec: f64,
    pub write_rate_source: String,
    /// writes_per_sec x estimated duration: the INSERT/UPDATE/DELETE that would wait.
    pub queued_writes: u64,
}

impl Eq for LockQueue {}

/// The queue estimate for a span that blocks writes, from the live table's size and write rate.
/// Pure; `None` when the lock lets writes through.
pub fn estimate_queue(span: &LockSpan, traced_bytes: i64, live: &LiveTable) -> Option<LockQueue> {
    if !span.mode.blocks_writes() {
        return None;
    }
    // The work under the lock grows with the table: scale the traced time by the size ratio.
    // An empty traced table (schema only) gives no ratio: the traced time stands, a floor.
    let scale = if traced_bytes > 0 && live.bytes > traced_bytes {
        live.bytes as f64 / traced_bytes as f64
    } else {
        1.0
    };
    let estimated_ms = span.duration_ms * scale;
    let queued = (live.writes_per_sec.max(0.0) * estimated_ms / 1000.0).round() as u64;
    Some(LockQueue {
        relation: span.relation.clone(),
        mode: span.mode.name().to_string(),
        traced_ms: span.duration_ms,
        traced_bytes,
        live_rows: live.rows,
        live_bytes: live.bytes,
        estimated_ms,
        writes_per_sec: live.writes_per_sec,
        write_rate_source: live.rate_source.to_string(),
        queued_writes: queued,
    })
}

impl LockQueue {
    /// "; at the live size (45000 rows, 6.9 MB) ~1.2 s at 1280.5 writes/s: ~1536 writes would queue"
    pub fn describe(&self) -> String {
        format!(
            "; at the live size ({} rows, {}) ~{} at {:.1} writes/s: ~{} writes would queue",
            self.live_rows.max(0),
            human_bytes(self.live_bytes),
            human_ms(self.estimated_ms),
            self.writes_per_sec,
            self.queued_writes
        )
    }
}

fn human_ms(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else {
        format!("{ms:.1} ms")
    }
}

async fn relations(conn: &mut PgConnection) -> Result<HashMap<i64, Relation>, Error> {
    let rows: Vec<RelationRow> = sqlx::query_as(RELATIONS_SQL)
        .fetch_all(&mut *conn)
        .await
        .context("trace: list relations")?;
    let mut out = HashMap::new();
    for r in rows {
        let name = if r.schema == "public" {
            r.name
        } else {
            format!("{}.{}", r.schema, r.name)
        };
        out.insert(
            r.oid,
            Relation {
                filenode: r.filenode,
                name,
                kind: r.kind,
                bytes: r.bytes,
            },
        );
    }
    Ok(out)
}

async fn constraints(conn: &mut PgConnection) -> Result<HashMap<i64, String>, Error> {
    let rows: Vec<ConstraintRow> = sqlx::query_as(CONSTRAINTS_SQL)
        .fetch_all(&mut *conn)
        .await
        .context("trace: list constraints")?;
    let mut out = HashMap::new();
    for r in rows {
        let what = match r.kind.as_str() {
            "p" => "primary key",
            "u" => "unique constraint",
            "f" => "foreign key",
            "c" => "check constraint",
            "x" => "exclusion constraint",
            _ => "constraint",
        };
        out.insert(r.oid, format!("{what} {} on {}", r.name, r.rel));
    }
    Ok(out)
}

async fn held_locks(conn: &mut PgConnection) -> Result<Vec<(i64, LockLevel)>, Error> {
    let rows: Vec<LockRow> = sqlx::query_as(LOCKS_SQL)
        .fetch_all(&mut *conn)
        .await
        .context("trace: read pg_locks")?;
    let mut out = Vec::new();
    for r in rows {
        if let Some(m) = LockLevel::from_pg(&r.mode) {
            out.push((r.oid, m));
        }
    }
    Ok(out)
}

async fn exec(conn: &mut PgConnection, sql: &str) -> Result<(), Error> {
    sqlx::raw_sql(sql)
        .execute(&mut *conn)
        .await
        .map(|_| ())
        .map_err(|e| Error::MigrationInvalid(format!("trace: {e}")))
}

/// Trace one file on `conn` (a throwaway database). A transactional file runs inside a
/// transaction that is rolled back; a `-- no-transaction` file runs statement by statement, and
/// only what each statement holds while it runs would be locked, so no locks are reported for it.
pub async fn trace_file(
    conn: &mut PgConnection,
    file: &SqlFile,
    display: &str,
) -> Result<FileTrace, Error> {
    let stmts = split(&file.sql);
    let in_transaction = !file.no_tx;
    let at_start = relations(conn).await?;
    if in_transaction {
        exec(conn, "BEGIN").await?;
    }
    let mut out = Vec::new();
    let mut failed = None;
    for (i, st) in stmts.iter().enumerate() {
        let before = relations(conn).await?;
        let cons_before = constraints(conn).await?;
        let started = Instant::now();
        if let Err(e) = exec(conn, &st.text).await {
            failed = Some((st.line, st.column, e.to_string()));
            break;
        }
        let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        let after = relations(conn).await?;
        let cons_after = constraints(conn).await?;
        let mut locks = BTreeMap::new();
        if in_transaction {
            for (oid, mode) in held_locks(conn).await? {
                // Relations the file itself created are invisible to everyone else.
                let Some(rel) = at_start.get(&oid) else {
                    continue;
                };
                // An index is locked with its table; the table's span says it all.
                if rel.kind == "i" || rel.kind == "I" {
                    continue;
                }
                let e = locks.entry(rel.name.clone()).or_insert(mode);
                *e = (*e).max(mode);
            }
        }
        let mut rewritten: Vec<(String, i64)> = after
            .iter()
            .filter_map(|(oid, a)| {
                let b = before.get(oid)?;
                (b.filenode != a.filenode && b.filenode != 0).then(|| {
                    let what = if a.kind == "i" || a.kind == "I" {
                        format!("index {}", a.name)
                    } else {
                        a.name.clone()
                    };
                    (what, a.bytes)
                })
            })
            .collect();
        rewritten.sort();
        let text = st.text.to_lowercase();
        let mut created: Vec<String> = after
            .iter()
            .filter(|(oid, a)| {
                !before.contains_key(oid)
                    && (a.kind == "i" || a.kind == "I")
                    && !text.contains(&a.name.to_lowercase())
            })
            .map(|(_, a)| format!("index {}", a.name))
            .chain(
                cons_after
                    .iter()
                    .filter(|(oid, _)| !cons_before.contains_key(oid))
                    .map(|(_, c)| c.clone()),
            )
            .collect();
        created.sort();
        out.push(StatementTrace {
            statement: i + 1,
            line: st.line,
            column: st.column,
            locks,
            rewritten,
            created,
            duration_ms,
        });
    }
    if in_transaction {
        exec(conn, "ROLLBACK").await?;
    }
    let sizes = at_start
        .values()
        .filter(|r| matches!(r.kind.as_str(), "r" | "p" | "m"))
        .map(|r| (r.name.clone(), r.bytes))
        .collect();
    Ok(FileTrace {
        file: display.to_string(),
        in_transaction,
        statements: out,
        failed,
        sizes,
    })
}

/// Run a file for real so that later files find what it created.
pub async fn apply_file(
    conn: &mut PgConnection,
    file: &SqlFile,
    display: &str,
) -> Result<(), Error> {
    if file.no_tx {
        for st in split(&file.sql) {
            exec(conn, &st.text)
                .await
                .map_err(|e| Error::MigrationInvalid(format!("{display}:{}: {e}", st.line)))?;
        }
        return Ok(());
    }
    exec(conn, "BEGIN").await?;
    if let Err(e) = exec(conn, &file.sql).await {
        let _ = exec(conn, "ROLLBACK").await;
        return Err(Error::MigrationInvalid(format!("{display}: {e}")));
    }
    exec(conn, "COMMIT").await
}

/// Trace every migration in order: each is traced, rolled back, then applied for the next.
pub async fn trace_migrations(
    conn: &mut PgConnection,
    migrations: &[&Migration],
) -> Result<Vec<FileTrace>, Error> {
    let mut out = Vec::new();
    for m in migrations {
        let display = m.up.path.display().to_string();
        let t = trace_file(conn, &m.up, &display).await?;
        // Later files would build on what this one failed to create.
        let stop = t.failed.is_some();
        out.push(t);
        if stop {
            break;
        }
        apply_file(conn, &m.up, &display).await?;
    }
    Ok(out)
}

/// Held-lock spans of a transactional file: per relation, its strongest mode, from the first
/// statement that held it until COMMIT.
pub fn lock_spans(t: &FileTrace) -> Vec<LockSpan> {
    if !t.in_transaction {
        return vec![];
    }
    let total = t.statements.len();
    let mut strongest: BTreeMap<&str, LockLevel> = BTreeMap::new();
    for s in &t.statements {
        for (rel, mode) in &s.locks {
            let e = strongest.entry(rel).or_insert(*mode);
            *e = (*e).max(*mode);
        }
    }
    strongest
        .into_iter()
        .filter_map(|(rel, mode)| {
            let first = t
                .statements
                .iter()
                .position(|s| s.locks.get(rel) == Some(&mode))?;
            let rewritten_bytes = t
                .statements
                .iter()
                .flat_map(|s| s.rewritten.iter())
                .filter(|(r, _)| r == rel)
                .map(|(_, b)| *b)
                .sum();
            let duration_ms = t.statements[first..].iter().map(|s| s.duration_ms).sum();
            Some(LockSpan {
                relation: rel.to_string(),
                mode,
                from: first + 1,
                statements: total - first,
                rewritten_bytes,
                duration_ms,
            })
        })
        .collect()
}

impl LockSpan {
    /// "meals: ACCESS EXCLUSIVE from statement 1 until COMMIT, 3 statements, rewrites 6.8 MB"
    pub fn describe(&self) -> String {
        let mut s = format!(
            "{}: {} from statement {} until COMMIT, {} statement{}",
            self.relation,
            self.mode.name(),
            self.from,
            self.statements,
            if self.statements == 1 { "" } else { "s" }
        );
        if self.rewritten_bytes > 0 {
            s.push_str(&format!(", rewrites {}", human_bytes(self.rewritten_bytes)));
        }
        s
    }
}

/// Findings and notes from the traces.
pub fn diagnostics(traces: &[FileTrace]) -> Vec<Diagnostic> {
    diagnostics_with(traces, &HashMap::new())
}

/// Findings and notes from the traces, with each held-lock span's write queue estimated from
/// the live tables (keyed as the trace names relations: `name` in public, else `schema.name`).
pub fn diagnostics_with(
    traces: &[FileTrace],
    live: &HashMap<String, LiveTable>,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for t in traces {
        if let Some((line, column, message)) = &t.failed {
            out.push(Diagnostic {
                file: t.file.clone(),
                line: *line,
                column: *column,
                rule: LOCK_SPAN.into(),
                lock_queue: None,
                severity: Severity::Error,
                message: format!("the trace stopped here: {message}"),
                help: Some("PostgreSQL rejected the statement on the trace database (built from the target's schema when one is configured, else from the earlier files): a missing table or column, a wrong type".into()),
            });
        }
        let at = |n: usize| {
            t.statements
                .get(n.saturating_sub(1))
                .map(|s| (s.line, s.column))
                .unwrap_or((1, 1))
        };
        for s in &t.statements {
            let tables: Vec<&(String, i64)> = s
                .rewritten
                .iter()
                .filter(|(r, _)| !r.starts_with("index "))
                .collect();
            for (rel, bytes) in tables {
                let indexes = s
                    .rewritten
                    .iter()
                    .filter(|(r, _)| r.starts_with("index "))
                    .count();
                out.push(Diagnostic {
                    file: t.file.clone(),
                    line: s.line,
                    column: s.column,
                    rule: TABLE_REWRITE.into(),
                    lock_queue: None,
                    severity: Severity::Warning,
                    message: format!(
                        "statement {} rewrote {rel} ({} after the rewrite{}) in {:.1} ms on the trace database",
                        s.statement,
                        human_bytes(*bytes),
                        if indexes > 0 {
                            format!(", and {indexes} index(es)")
                        } else {
                            String::new()
                        },
                        s.duration_ms
                    ),
                    help: Some("PostgreSQL wrote a new copy of the table (its relfilenode changed) while holding ACCESS EXCLUSIVE: time grows with the table's size. Prefer a change that keeps the file (a new column plus a backfill, a binary-coercible type).".into()),
                });
            }
            if !s.created.is_empty() {
                out.push(Diagnostic {
                    file: t.file.clone(),
                    line: s.line,
                    column: s.column,
                    rule: LOCK_SPAN.into(),
                    lock_queue: None,
                    severity: Severity::Note,
                    message: format!(
                        "statement {} also created {}",
                        s.statement,
                        s.created.join(", ")
                    ),
                    help: None,
                });
            }
        }
        for span in lock_spans(t) {
            let (line, column) = at(span.from);
            let queue = live.get(&span.relation).and_then(|l| {
                estimate_queue(&span, t.sizes.get(&span.relation).copied().unwrap_or(0), l)
            });
            let mut message = span.describe();
            if let Some(q) = &queue {
                message.push_str(&q.describe());
            }
            out.push(Diagnostic {
                file: t.file.clone(),
                line,
                column,
                rule: LOCK_SPAN.into(),
                lock_queue: queue,
                severity: Severity::Note,
                message,
                help: None,
            });
            if span.mode.blocks_writes() && span.statements > 1 {
                out.push(Diagnostic {
                    file: t.file.clone(),
                    line,
                    column,
                    rule: LOCK_HELD_ACROSS_STATEMENTS.into(),
                    lock_queue: None,
                    severity: Severity::Warning,
                    message: format!(
                        "{} is held on {} from statement {} while {} more statement(s) run, until COMMIT: writes to it wait all that time",
                        span.mode.name(),
                        span.relation,
                        span.from,
                        span.statements - 1
                    ),
                    help: Some("Inside one transaction every lock is kept until COMMIT. Move the statement that takes the strong lock to the end of the file, or into its own migration.".into()),
                });
            }
        }
    }
    out
}

/// Tables a migration names (where sample rows are worth copying).
pub fn touched_tables(migrations: &[&Migration]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut seen = HashSet::new();
    for m in migrations {
        for st in split(&m.up.sql) {
            let Ok(parsed) = pg_query::parse(&st.text) else {
                continue;
            };
            for (name, _) in parsed.tables.iter().map(|t| (t.0.clone(), t.1)) {
                if seen.insert(name.clone()) {
                    out.push(name);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(n: usize, locks: &[(&str, LockLevel)], rewritten: &[(&str, i64)]) -> StatementTrace {
        StatementTrace {
            statement: n,
            line: n,
            column: 1,
            locks: locks.iter().map(|(r, m)| (r.to_string(), *m)).collect(),
            rewritten: rewritten.iter().map(|(r, b)| (r.to_string(), *b)).collect(),
            created: vec![],
            duration_ms: 1.0,
        }
    }

    #[test]
    fn spans_run_from_the_first_strong_lock_to_commit() {
        use LockLevel::*;
        let t = FileTrace {
            file: "m/2_x.sql".into(),
            in_transaction: true,
            failed: None,
            sizes: BTreeMap::new(),
            statements: vec![
                st(1, &[("meals", AccessExclusive)], &[("meals", 7_130_000)]),
                st(
                    2,
                    &[("meals", AccessExclusive), ("users", RowExclusive)],
                    &[],
                ),
                st(
                    3,
                    &[("meals", AccessExclusive), ("users", ShareRowExclusive)],
                    &[],
                ),
            ],
        };
        let spans = lock_spans(&t);
        assert_eq!(spans.len(), 2);
        assert_eq!(
            spans[0].describe(),
            format!(
                "meals: ACCESS EXCLUSIVE from statement 1 until COMMIT, 3 statements, rewrites {}",
                human_bytes(7_130_000)
            )
        );
        assert_eq!((spans[1].from, spans[1].statements), (3, 1));
        let d = diagnostics(&[t]);
        let rules: Vec<&str> = d.iter().map(|d| d.rule.as_str()).collect();
        assert_eq!(rules.iter().filter(|r| **r == TABLE_REWRITE).count(), 1);
        // meals is held across statements; users' strong lock only comes with the last one.
        let held: Vec<&Diagnostic> = d
            .iter()
            .filter(|d| d.rule == LOCK_HELD_ACROSS_STATEMENTS)
            .collect();
        assert_eq!(held.len(), 1);
        assert!(held[0].message.contains("meals"));
    }

    #[test]
    fn no_spans_outside_a_transaction() {
        let t = FileTrace {
            file: "f".into(),
            in_transaction: false,
            failed: None,
            sizes: BTreeMap::new(),
            statements: vec![st(1, &[], &[])],
        };
        assert!(lock_spans(&t).is_empty());
        assert!(
            LockLevel::Share.blocks_writes() && !LockLevel::ShareUpdateExclusive.blocks_writes()
        );
        assert_eq!(
            LockLevel::from_pg("AccessExclusiveLock"),
            Some(LockLevel::AccessExclusive)
        );
        assert_eq!(
            LockLevel::from_pg("ShareUpdateExclusiveLock"),
            Some(LockLevel::ShareUpdateExclusive)
        );
        assert_eq!(LockLevel::from_pg("AccessExclusive"), None);
        assert_eq!(LockLevel::from_pg("SIReadLock"), None);
        // Traces write a relation's lock by its mode name.
        let t = st(1, &[("t", LockLevel::ShareRowExclusive)], &[]);
        assert_eq!(
            serde_json::to_value(&t).unwrap()["locks"],
            serde_json::json!({"t": "ShareRowExclusive"})
        );
    }

    fn live(bytes: i64, rate: f64) -> LiveTable {
        LiveTable {
            rows: 45_000,
            bytes,
            writes_per_sec: rate,
            rate_source: "sampled",
        }
    }

    fn span(mode: LockLevel, ms: f64) -> LockSpan {
        LockSpan {
            relation: "meals".into(),
            mode,
            from: 1,
            statements: 3,
            rewritten_bytes: 0,
            duration_ms: ms,
        }
    }

    #[test]
    fn queue_scales_the_traced_time_by_the_live_size() {
        // 20 ms on a 1 MB sample, 10 MB live: ~200 ms; at 500 writes/s, 100 writes wait.
        let q = estimate_queue(
            &span(LockLevel::AccessExclusive, 20.0),
            1_000_000,
            &live(10_000_000, 500.0),
        )
        .unwrap();
        assert!((q.estimated_ms - 200.0).abs() < 1e-9, "{q:?}");
        assert_eq!(q.queued_writes, 100);
        assert!(
            q.describe()
                .ends_with("at 500.0 writes/s: ~100 writes would queue"),
            "{}",
            q.describe()
        );
        // A lock that lets writes through queues none.
        assert!(estimate_queue(
            &span(LockLevel::ShareUpdateExclusive, 20.0),
            1_000_000,
            &live(10_000_000, 500.0)
        )
        .is_none());
    }

    #[test]
    fn queue_never_scales_below_the_traced_time_or_from_an_empty_sample() {
        // Empty traced table (schema only): no ratio, the traced time stands.
        let q = estimate_queue(&span(LockLevel::Share, 30.0), 0, &live(10_000_000, 100.0)).unwrap();
        assert!((q.estimated_ms - 30.0).abs() < 1e-9);
        assert_eq!(q.queued_writes, 3);
        // A live table smaller than the sample: not scaled down.
        let q =
            estimate_queue(&span(LockLevel::Share, 30.0), 5_000_000, &live(1_000, 0.0)).unwrap();
        assert!((q.estimated_ms - 30.0).abs() < 1e-9);
        assert_eq!(q.queued_writes, 0);
    }

    #[test]
    fn span_note_carries_the_queue_when_the_table_is_live() {
        use LockLevel::*;
        let mut sizes = BTreeMap::new();
        sizes.insert("meals".to_string(), 1_000_000);
        let mut s1 = st(1, &[("meals", AccessExclusive)], &[]);
        s1.duration_ms = 10.0;
        let mut s2 = st(2, &[("meals", AccessExclusive)], &[]);
        s2.duration_ms = 10.0;
        let t = FileTrace {
            file: "f".into(),
            in_transaction: true,
            failed: None,
            sizes,
            statements: vec![s1, s2],
        };
        assert!((lock_spans(&t)[0].duration_ms - 20.0).abs() < 1e-9);
        let mut l = HashMap::new();
        l.insert("meals".to_string(), live(4_000_000, 250.0));
        let d = diagnostics_with(std::slice::from_ref(&t), &l);
        let note = d.iter().find(|d| d.rule == LOCK_SPAN).unwrap();
        assert!(
            note.message
                .ends_with("~80.0 ms at 250.0 writes/s: ~20 writes would queue"),
            "{}",
            note.message
        );
        assert_eq!(note.lock_queue.as_ref().unwrap().queued_writes, 20);
        // Without a live database, the note is as before.
        let d = diagnostics(&[t]);
        assert!(d.iter().all(|d| d.lock_queue.is_none()));
    }
}
