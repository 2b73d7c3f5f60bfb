//! The executor behind `migrate apply` and `migrate revert`: one dedicated connection holding the
//! migration advisory lock, lock_timeout first, a backup, one transaction per migration together
//! with its tracking row, and a dry-run that records the exact SQL stream instead of running it.

use std::path::PathBuf;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pg_query::protobuf::{AlterTableType, ObjectType};
use pg_query::NodeEnum;
use serde::Serialize;
use sqlx::{Connection, Executor, PgConnection};

use super::backup::{DataLoss, SavedData};
use super::locks::{drop_objects, rangevar_name, statement_lock, StatementLock};
use super::source::{hex, Migration, Source, SqlFile};
use super::split::{split, Statement};
use super::tracking::{self, ExtraRow, State, TrackingTable};
use crate::db::ConnectSettings;
use crate::error::Error;
use crate::util::quote_ident;

/// Pause between polls of `pg_try_advisory_lock` while another run holds it.
const LOCK_POLL_MS: u64 = 200;
/// First pause after a lock timeout; doubled on each retry, capped.
const RETRY_BACKOFF_START_MS: u64 = 500;
const RETRY_BACKOFF_MAX_MS: u64 = 10_000;
/// How often the index build progress is read.
const INDEX_PROGRESS_POLL_MS: u64 = 1000;

/// What `apply` and `revert` are asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    pub target: Option<i64>,
    pub lock_timeout: Duration,
    pub lock_wait: Duration,
    pub lock_retries: u32,
    pub backup_dir: PathBuf,
    pub no_backup: bool,
    pub dry_run: bool,
    pub mark_applied: Option<i64>,
    pub quiet: bool,
    /// sqlx's tracking table (sqlx.toml's `table-name`, else `_sqlx_migrations`).
    pub tracking: TrackingTable,
    /// Schemas sqlx.toml's `create-schemas` lists: created, when missing, before the tables.
    pub create_schemas: Vec<String>,
}

/// One step of the SQL stream (what `--dry-run` prints, and what a real run sends).
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// session, lock, backup, tracking, begin, statement, commit, cleanup, unlock
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    pub sql: String,
    /// The table lock the statement takes, e.g. `ACCESS EXCLUSIVE on meals`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A migration that ran (or was reverted) in this run.
#[derive(Debug, Clone, Serialize)]
pub struct Done {
    pub version: i64,
    pub description: String,
    pub statements: usize,
    pub elapsed_ms: f64,
}

/// The result of a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub dry_run: bool,
    pub done: Vec<Done>,
    /// Versions that would run (dry-run) or ran.
    pub planned: Vec<i64>,
    pub backup: Option<String>,
    /// Data saved before the run (tables and columns the migrations drop or retype).
    pub data_saved: Vec<String>,
    /// After a revert: how to put back data a reverted migration had removed.
    pub restore: Vec<String>,
    pub warnings: Vec<String>,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Up,
    Down,
}

/// The advisory lock key sqlx's `Migrator` uses, so dbdoctor and sqlx exclude each other.
pub fn lock_key(database: &str) -> i64 {
    0x3d32_ad9e_i64 * i64::from(crc32(database.as_bytes()))
}

/// CRC-32/ISO-HDLC (the zlib CRC), as sqlx computes it for the lock key.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn is_lock_timeout(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some("55P03"))
}

fn pg_message(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => match d.code() {
            Some(c) => format!("{} (SQLSTATE {c})", d.message()),
            None => d.message().to_string(),
        },
        other => other.to_string(),
    }
}

fn sql_literal_bytes(b: &[u8]) -> String {
    format!("'\\x{}'::bytea", hex(b))
}

/// A statement of a migration file, parsed once.
#[derive(Debug, Clone)]
struct Planned {
    stmt: Statement,
    lock: Option<StatementLock>,
    /// For CREATE INDEX CONCURRENTLY: the index name (schema-qualified when the table is), so a
    /// leftover invalid index can be dropped.
    concurrent_index: Option<String>,
    /// Indexes this statement drops (their definitions go into the backup).
    drops_indexes: Vec<String>,
    /// Tables and columns whose data this statement removes or rewrites (saved before the run).
    data_loss: Vec<DataLoss>,
}

fn plan_file(file: &SqlFile) -> Vec<Planned> {
    split(&file.sql)
        .into_iter()
        .map(|stmt| {
            let parsed = pg_query::parse(&stmt.text).ok();
            let node = parsed
                .as_ref()
                .and_then(|p| p.protobuf.stmts.first())
                .and_then(|r| r.stmt.as_ref())
                .and_then(|n| n.node.clone());
            let lock = node.as_ref().and_then(statement_lock);
            let mut concurrent_index = None;
            let mut drops_indexes = Vec::new();
            let mut data_loss = Vec::new();
            match &node {
                Some(NodeEnum::IndexStmt(s)) if s.concurrent && !s.idxname.is_empty() => {
                    let schema = s
                        .relation
                        .as_ref()
                        .map(|r| r.schemaname.clone())
                        .unwrap_or_default();
                    concurrent_index = Some(if schema.is_empty() {
                        quote_ident(&s.idxname)
                    } else {
                        format!("{}.{}", quote_ident(&schema), quote_ident(&s.idxname))
                    });
                }
                Some(NodeEnum::DropStmt(s)) if s.remove_type == ObjectType::ObjectIndex as i32 => {
                    drops_indexes = drop_objects(&s.objects);
                }
                Some(NodeEnum::DropStmt(s)) if s.remove_type == ObjectType::ObjectTable as i32 => {
                    data_loss = drop_objects(&s.objects)
                        .into_iter()
                        .map(|table| DataLoss::Table { table })
                        .collect();
                }
                Some(NodeEnum::AlterTableStmt(s)) => {
                    if let Some(rel) = s.relation.as_ref() {
                        let table = rangevar_name(rel);
                        for cmd in &s.cmds {
                            if let Some(NodeEnum::AlterTableCmd(c)) = cmd.node.as_ref() {
                                let sub = AlterTableType::try_from(c.subtype)
                                    .unwrap_or(AlterTableType::Undefined);
                                if matches!(
                                    sub,
                                    AlterTableType::AtDropColumn
                                        | AlterTableType::AtAlterColumnType
                                ) && !c.name.is_empty()
                                {
                                    data_loss.push(DataLoss::Column {
                                        table: table.clone(),
                                        column: c.name.clone(),
                                    });
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
            Planned {
                stmt,
                lock,
                concurrent_index,
                drops_indexes,
                data_loss,
            }
        })
        .collect()
}

/// Progress lines on stderr.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub quiet: bool,
}

impl Progress {
    pub fn line(&self, s: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", s.as_ref());
        }
    }
}

/// pid, application_name, state, query, lock mode of a session holding a lock.
type Blocker = (i32, String, String, String, String);

/// The dedicated connection and the stream it sends (or, in a dry-run, only records).
struct Session {
    conn: PgConnection,
    settings: ConnectSettings,
    pid: i32,
    key: i64,
    database: String,
    server_version_num: i32,
    dry_run: bool,
    locked: bool,
    steps: Vec<Step>,
    progress: Progress,
    /// sqlx's tracking table; dbdoctor's record is beside it.
    table: TrackingTable,
}

impl Session {
    fn record(
        &mut self,
        kind: &'static str,
        version: Option<i64>,
        sql: impl Into<String>,
    ) -> &mut Step {
        self.steps.push(Step {
            kind,
            version,
            sql: sql.into(),
            lock: None,
            note: None,
        });
        self.steps.last_mut().expect("just pushed")
    }

    /// Record and (unless dry-run) run a statement on the session.
    async fn send(
        &mut self,
        kind: &'static str,
        version: Option<i64>,
        sql: &str,
    ) -> Result<(), sqlx::Error> {
        self.record(kind, version, sql);
        if !self.dry_run {
            self.conn.execute(sql).await?;
        }
        Ok(())
    }

    async fn acquire_lock(&mut self, wait: Duration) -> Result<(), Error> {
        let key = self.key;
        let step = self.record("lock", None, format!("SELECT pg_try_advisory_lock({key})"));
        step.note = Some(format!(
            "the migration lock (the key sqlx uses for this database), polled for up to {:.1}s",
            wait.as_secs_f64()
        ));
        if self.dry_run {
            return Ok(());
        }
        let deadline = Instant::now() + wait;
        let mut said = false;
        loop {
            let got: bool =
                sqlx::query_scalar("/* dbdoctor */ SELECT /* dbdoctor */ pg_try_advisory_lock($1)")
                    .bind(key)
                    .fetch_one(&mut self.conn)
                    .await
                    .map_err(|e| {
                        Error::MigrationFailed(format!(
                            "take the migration lock: {}",
                            pg_message(&e)
                        ))
                    })?;
            if got {
                self.locked = true;
                return Ok(());
            }
            if Instant::now() >= deadline {
                let holder: Option<i32> =
                    sqlx::query_scalar(include_str!("../sql/migrate_lock_holder.sql"))
                        .bind(key)
                        .fetch_optional(&mut self.conn)
                        .await
                        .ok()
                        .flatten();
                return Err(Error::MigrationFailed(format!(
                    "another migration run holds the migration lock on database {}{}; gave up after --lock-wait {:.1}s, nothing was changed",
                    self.database,
                    holder.map(|p| format!(" (pid {p})")).unwrap_or_default(),
                    wait.as_secs_f64()
                )));
            }
            if !said {
                self.progress
                    .line("waiting for the migration lock held by another run ...");
                said = true;
            }
            tokio::time::sleep(Duration::from_millis(LOCK_POLL_MS)).await;
        }
    }

    async fn release_lock(&mut self) {
        let key = self.key;
        self.record("unlock", None, format!("SELECT pg_advisory_unlock({key})"));
        if self.locked {
            // If the session is broken the server drops the lock when the connection closes.
            let _ = sqlx::query("/* dbdoctor */ SELECT /* dbdoctor */ pg_advisory_unlock($1)")
                .bind(key)
                .execute(&mut self.conn)
                .await;
            self.locked = false;
        }
    }

    /// Who holds a lock on `relation` (for the lock-timeout message).
    async fn blockers(&mut self, relation: &str) -> String {
        let rows: Result<Vec<Blocker>, _> =
            sqlx::query_as(include_str!("../sql/migrate_blockers.sql"))
                .bind(relation)
                .fetch_all(&mut self.conn)
                .await;
        match rows {
            Ok(r) if !r.is_empty() => {
                let list: Vec<String> = r
                    .iter()
                    .map(|(pid, app, state, query, mode)| {
                        format!(
                            "pid {pid} ({mode}, application '{app}', {state}: {})",
                            crate::db::redact::redact_sql_secrets(query).replace('\n', " ")
                        )
                    })
                    .collect();
                format!("; held by {}", list.join(", "))
            }
            _ => String::new(),
        }
    }

    /// Drop an invalid index left by a failed or killed CREATE INDEX CONCURRENTLY.
    async fn drop_invalid_index(&mut self, version: i64, index: &str) -> Result<bool, sqlx::Error> {
        let invalid: Option<bool> =
            sqlx::query_scalar(include_str!("../sql/migrate_invalid_index.sql"))
                .bind(index)
                .fetch_optional(&mut self.conn)
                .await?;
        if invalid != Some(true) {
            return Ok(false);
        }
        let sql = format!("DROP INDEX CONCURRENTLY IF EXISTS {index}");
        self.record("cleanup", Some(version), sql.clone()).note = Some(format!(
            "{index} is INVALID (left by a failed or interrupted concurrent build)"
        ));
        if !self.dry_run {
            self.progress.line(format!(
                "  dropping the invalid index {index} left by an earlier failed build"
            ));
            self.conn.execute(sql.as_str()).await?;
        }
        Ok(true)
    }
}

fn backoff(attempt: u32) -> Duration {
    let ms = RETRY_BACKOFF_START_MS
        .saturating_mul(1u64 << attempt.min(10))
        .min(RETRY_BACKOFF_MAX_MS);
    Duration::from_millis(ms)
}

/// Open the dedicated connection; refuse a replica.
async fn open(
    settings: &ConnectSettings,
    opts: &Options,
    pid_slot: &Arc<AtomicI32>,
) -> Result<Session, Error> {
    let mut conn = tokio::time::timeout(
        settings.connect_timeout,
        PgConnection::connect_with(&settings.options),
    )
    .await
    .map_err(|_| {
        Error::Connect(format!(
            "cannot connect to {}: no answer within {:.1}s",
            settings.display,
            settings.connect_timeout.as_secs_f64()
        ))
    })?
    .map_err(|e| crate::db::connect::connect_error(settings, &e))?;
    let (pid, database, recovery, version): (i32, String, bool, String) = sqlx::query_as(
        "SELECT pg_backend_pid(), current_database(), pg_is_in_recovery(), current_setting('server_version_num')",
    )
    .fetch_one(&mut conn)
    .await
    .map_err(|e| Error::Connect(format!("cannot read the server state: {}", pg_message(&e))))?;
    if recovery {
        return Err(Error::MigrationFailed(format!(
            "{} is a replica (pg_is_in_recovery() is true): migrations must run on the primary; nothing was changed",
            settings.display
        )));
    }
    pid_slot.store(pid, Ordering::SeqCst);
    Ok(Session {
        conn,
        settings: settings.clone(),
        pid,
        key: lock_key(&database),
        database,
        server_version_num: version.parse().unwrap_or(0),
        dry_run: opts.dry_run,
        locked: false,
        steps: Vec::new(),
        progress: Progress { quiet: opts.quiet },
        table: opts.tracking.clone(),
    })
}

fn refuse_source_errors(source: &Source) -> Result<(), Error> {
    let errs: Vec<String> = source
        .errors()
        .map(|p| format!("{}: {}", p.file, p.message))
        .collect();
    if errs.is_empty() {
        Ok(())
    } else {
        Err(Error::MigrationInvalid(format!(
            "the migrations folder {} has problems, nothing was changed: {}",
            source.dir.display(),
            errs.join("; ")
        )))
    }
}

/// Applied migrations whose file changed since, and half-applied ones: refuse to go on.
fn refuse_bad_state(
    source: &Source,
    state: &State,
    marking: Option<i64>,
) -> Result<Vec<String>, Error> {
    let mut warnings = Vec::new();
    let drift: Vec<String> = state
        .applied
        .values()
        .filter_map(|a| {
            let m = source.get(a.version)?;
            (m.checksum != a.checksum).then(|| format!("{} ({})", a.version, m.up.name))
        })
        .collect();
    if !drift.is_empty() {
        return Err(Error::MigrationInvalid(format!(
            "checksum drift: migration {} was applied but its file has changed since; restore the file as it was applied (git history) and put the change in a new migration; nothing was changed",
            drift.join(", ")
        )));
    }
    // Marking a half-applied migration as done is how it gets resolved.
    let partial: Vec<(i64, String)> = state
        .partial()
        .into_iter()
        .filter(|(v, _)| Some(*v) != marking)
        .collect();
    if !partial.is_empty() {
        let list: Vec<String> = partial
            .iter()
            .map(|(v, why)| format!("migration {v} is partially applied ({why})"))
            .collect();
        return Err(Error::MigrationFailed(format!(
            "{}; finish or undo its remaining statements by hand, then run `dbdoctor migrate apply --mark-applied VERSION` (or delete its row from {} to run it again); nothing was changed",
            list.join("; "),
            state.table.extra()
        )));
    }
    let missing: Vec<String> = state
        .applied
        .keys()
        .filter(|v| source.get(**v).is_none())
        .map(|v| v.to_string())
        .collect();
    if !missing.is_empty() {
        warnings.push(format!(
            "applied migration {} has no file in {} (sqlx's Migrator will refuse to run until the file is back)",
            missing.join(", "),
            source.dir.display()
        ));
    }
    Ok(warnings)
}

async fn ensure_tables(sess: &mut Session, state: &State, schemas: &[String]) -> Result<(), Error> {
    // sqlx creates the schemas of `create-schemas` before its table; only missing ones here, so
    // a role without CREATE on the database can still run once they exist.
    for schema in schemas {
        let exists: bool = sqlx::query_scalar(
            "/* dbdoctor */ SELECT /* dbdoctor */ EXISTS (SELECT FROM pg_namespace WHERE nspname = $1)",
        )
        .bind(schema)
        .fetch_one(&mut sess.conn)
        .await
        .map_err(|e| Error::MigrationFailed(format!("look for schema {schema}: {}", pg_message(&e))))?;
        if !exists {
            let sql = format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(schema));
            sess.send("tracking", None, &sql).await.map_err(|e| {
                Error::MigrationFailed(format!(
                    "create schema {} (sqlx.toml create-schemas): {}",
                    quote_ident(schema),
                    pg_message(&e)
                ))
            })?;
        }
    }
    let table = sess.table.clone();
    if !state.sqlx_table {
        sess.send("tracking", None, tracking::sqlx_table_ddl(&table).trim())
            .await
            .map_err(|e| Error::MigrationFailed(format!("create {table}: {}", pg_message(&e))))?;
    }
    if !state.dbdoctor_table {
        sess.send(
            "tracking",
            None,
            tracking::dbdoctor_table_ddl(&table).trim(),
        )
        .await
        .map_err(|e| {
            Error::MigrationFailed(format!("create {}: {}", table.extra(), pg_message(&e)))
        })?;
    }
    Ok(())
}

async fn applied_by(sess: &mut Session) -> String {
    let role: String =
        sqlx::query_scalar("/* dbdoctor */ SELECT /* dbdoctor */ current_user::text")
            .fetch_one(&mut sess.conn)
            .await
            .unwrap_or_default();
    let os = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_default();
    if os.is_empty() {
        role
    } else {
        format!("{role} (os user {os})")
    }
}

/// Apply pending migrations (or record one with `mark_applied`).
pub async fn apply(
    settings: &ConnectSettings,
    source: &Source,
    opts: &Options,
    pid_slot: Arc<AtomicI32>,
) -> Result<Report, Error> {
    run_locked(settings, source, opts, pid_slot, RunKind::Up).await
}

/// Which way a locked run goes.
#[derive(Debug, Clone, Copy)]
enum RunKind {
    Up,
    Down,
}

/// Open the dedicated session, hold the advisory lock for the whole run, and always release it.
async fn run_locked(
    settings: &ConnectSettings,
    source: &Source,
    opts: &Options,
    pid_slot: Arc<AtomicI32>,
    kind: RunKind,
) -> Result<Report, Error> {
    refuse_source_errors(source)?;
    let mut sess = open(settings, opts, &pid_slot).await?;
    sess.acquire_lock(opts.lock_wait).await?;
    let result = run_with_state(&mut sess, source, opts, kind).await;
    sess.release_lock().await;
    let _ = sess.conn.close().await;
    result.map(|mut r| {
        r.steps = std::mem::take(&mut sess.steps);
        r
    })
}

/// Read the tracking state and refuse a bad one; both directions start here.
async fn run_with_state(
    sess: &mut Session,
    source: &Source,
    opts: &Options,
    kind: RunKind,
) -> Result<Report, Error> {
    let table = sess.table.clone();
    let state = tracking::read_state(&mut sess.conn, &table)
        .await
        .map_err(Error::Other)?;
    let mark_applied = match kind {
        RunKind::Up => opts.mark_applied,
        RunKind::Down => None,
    };
    let report = Report {
        dry_run: opts.dry_run,
        warnings: refuse_bad_state(source, &state, mark_applied)?,
        ..Default::default()
    };
    match kind {
        RunKind::Up => apply_locked(sess, source, opts, &state, report).await,
        RunKind::Down => revert_locked(sess, source, opts, &state, report).await,
    }
}

async fn apply_locked(
    sess: &mut Session,
    source: &Source,
    opts: &Options,
    state: &tracking::State,
    mut report: Report,
) -> Result<Report, Error> {
    let by = applied_by(sess).await;

    if let Some(v) = opts.mark_applied {
        let m = source.get(v).ok_or_else(|| {
            Error::Usage(format!(
                "--mark-applied {v}: no migration with that version in {}",
                source.dir.display()
            ))
        })?;
        if state.applied.contains_key(&v) {
            return Err(Error::Usage(format!(
                "--mark-applied {v}: it is already recorded as applied"
            )));
        }
        ensure_tables(sess, state, &opts.create_schemas).await?;
        let total = plan_file(&m.up).len() as i32;
        let table = sess.table.clone();
        sess.record(
            "tracking",
            Some(v),
            format!(
                "INSERT INTO {table} (version, description, success, checksum, execution_time) VALUES ({v}, {}, TRUE, {}, 0)",
                crate::util::quote_literal(&m.description),
                sql_literal_bytes(&m.checksum)
            ),
        )
        .note = Some("recorded as applied without running it (--mark-applied)".into());
        if !opts.dry_run {
            let mut tx = sess
                .conn
                .begin()
                .await
                .map_err(|e| Error::MigrationFailed(pg_message(&e)))?;
            tracking::record_sqlx(&mut tx, &table, v, &m.description, &m.checksum, 0)
                .await
                .map_err(|e| Error::MigrationFailed(format!("record {v}: {}", pg_message(&e))))?;
            tracking::upsert_extra(
                &mut tx,
                &table,
                &ExtraRow {
                    version: v,
                    description: &m.description,
                    applied: 0,
                    total,
                    success: true,
                    error: None,
                    error_statement: None,
                    backup: None,
                    applied_by: &by,
                    marked: true,
                },
            )
            .await
            .map_err(|e| Error::MigrationFailed(format!("record {v}: {}", pg_message(&e))))?;
            tx.commit()
                .await
                .map_err(|e| Error::MigrationFailed(pg_message(&e)))?;
        }
        report.planned.push(v);
        return Ok(report);
    }

    let max_applied = state.applied.keys().max().copied();
    let pending: Vec<&Migration> = source
        .migrations
        .iter()
        .filter(|m| !state.applied.contains_key(&m.version))
        .filter(|m| opts.target.is_none_or(|t| m.version <= t))
        .collect();
    if let Some(max) = max_applied {
        let old: Vec<String> = pending
            .iter()
            .filter(|m| m.version < max)
            .map(|m| m.version.to_string())
            .collect();
        if !old.is_empty() {
            report.warnings.push(format!(
                "pending migration {} is older than the newest applied one ({max}); it will run now, out of order",
                old.join(", ")
            ));
        }
    }
    report.planned = pending.iter().map(|m| m.version).collect();
    if pending.is_empty() {
        return Ok(report);
    }
    // What would fail for certain (a syntax error, CONCURRENTLY inside a transaction) is refused
    // before the backup and before any change.
    let errors: Vec<String> = pending
        .iter()
        .flat_map(|m| super::lint::lint_file(&m.up, &m.up.path.display().to_string()))
        .filter(|d| d.severity == super::lint::Severity::Error)
        .map(|d| {
            format!(
                "{}:{}:{}: {}: {}",
                d.file, d.line, d.column, d.rule, d.message
            )
        })
        .collect();
    if !errors.is_empty() {
        return Err(Error::MigrationInvalid(format!(
            "pending migrations fail validation, nothing was changed: {} (see `dbdoctor migrate validate`)",
            errors.join("; ")
        )));
    }
    let plans: Vec<Vec<Planned>> = pending.iter().map(|m| plan_file(&m.up)).collect();

    // Session settings first, each as its own statement.
    let lt = format!(
        "SET lock_timeout = '{}ms'",
        opts.lock_timeout.as_millis().max(1)
    );
    sess.send("session", None, "SET statement_timeout = 0")
        .await
        .map_err(|e| Error::MigrationFailed(pg_message(&e)))?;
    sess.send("session", None, &lt)
        .await
        .map_err(|e| Error::MigrationFailed(pg_message(&e)))?;

    // Backup before the first change.
    let losses: Vec<(i64, DataLoss)> = {
        let mut seen = Vec::new();
        for (m, plan) in pending.iter().zip(plans.iter()) {
            for l in plan.iter().flat_map(|p| p.data_loss.iter()) {
                if !seen.iter().any(|(_, x)| x == l) {
                    seen.push((m.version, l.clone()));
                }
            }
        }
        seen
    };
    let mut saved: Vec<(i64, SavedData)> = Vec::new();
    let backup = if opts.no_backup {
        sess.progress
            .line("WARNING: --no-backup: no schema backup is taken before these migrations");
        report.warnings.push("no backup taken (--no-backup)".into());
        if !losses.is_empty() {
            let list: Vec<String> = losses
                .iter()
                .map(|(v, l)| format!("{} (migration {v})", describe_loss(l)))
                .collect();
            let msg = format!(
                "--no-backup: the data of {} is NOT saved and cannot be restored by `migrate revert`",
                list.join(", ")
            );
            sess.progress.line(format!("WARNING: {msg}"));
            report.warnings.push(msg);
        }
        None
    } else {
        let file = super::backup::backup_path(&opts.backup_dir, &sess.database);
        let dropped: Vec<String> = plans
            .iter()
            .flatten()
            .flat_map(|p| p.drops_indexes.iter().cloned())
            .collect();
        let mut note = super::backup::describe_command(&sess.settings, &file, opts.lock_timeout);
        if !dropped.is_empty() {
            note.push_str(&format!(
                ", then append pg_get_indexdef() of {}",
                dropped.join(", ")
            ));
        }
        sess.record("backup", None, format!("-- {note}")).note = Some(file.display().to_string());
        for (v, l) in &losses {
            sess.record(
                "backup",
                Some(*v),
                format!(
                    "-- save the data of {} (migration {v}) beside it: {}",
                    describe_loss(l),
                    match l {
                        DataLoss::Table { .. } => "pg_dump --data-only -t <table>",
                        DataLoss::Column { .. } =>
                            "COPY (SELECT <primary key>, <column> FROM <table>) TO STDOUT (csv) and a restore script",
                    }
                ),
            );
        }
        if !opts.dry_run {
            let major = (sess.server_version_num / 10_000) as u32;
            sess.progress
                .line(format!("backing up the schema to {}", file.display()));
            let settings = sess.settings.clone();
            super::backup::take(
                &mut sess.conn,
                &settings,
                major,
                &file,
                &dropped,
                opts.lock_timeout,
            )
            .await?;
            for (v, l) in &losses {
                if let Some(d) = super::backup::save_data(
                    &mut sess.conn,
                    &settings,
                    major,
                    &file,
                    l,
                    opts.lock_timeout,
                )
                .await?
                {
                    sess.progress.line(format!(
                        "saved the data of {} to {}",
                        d.what,
                        d.data_files.first().unwrap_or(&d.restore_file).display()
                    ));
                    report.data_saved.push(d.restore_file.display().to_string());
                    saved.push((*v, d));
                }
            }
        }
        Some(file.display().to_string())
    };
    report.backup = backup.clone();

    ensure_tables(sess, state, &opts.create_schemas).await?;
    if !saved.is_empty() {
        let table = sess.table.clone();
        sess.send("tracking", None, &tracking::add_data_backup_column(&table))
            .await
            .map_err(|e| {
                Error::MigrationFailed(format!("extend {}: {}", table.extra(), pg_message(&e)))
            })?;
    }

    for (i, (m, plan)) in pending.iter().zip(plans.iter()).enumerate() {
        let started = Instant::now();
        let mode = if m.up.no_tx { ", no transaction" } else { "" };
        if !opts.dry_run {
            sess.progress.line(format!(
                "applying {} {} ({} statements{mode}) ...",
                m.version,
                m.description,
                plan.len()
            ));
        }
        let res = run_one(
            sess,
            m,
            &m.up,
            plan,
            Direction::Up,
            opts,
            backup.as_deref(),
            &by,
        )
        .await;
        match res {
            Ok(()) => {
                let d = Done {
                    version: m.version,
                    description: m.description.clone(),
                    statements: plan.len(),
                    elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
                };
                if !opts.dry_run {
                    sess.progress
                        .line(format!("  ok {} in {:.0} ms", m.version, d.elapsed_ms));
                    let mine: Vec<String> = saved
                        .iter()
                        .filter(|(v, _)| *v == m.version)
                        .map(|(_, d)| format!("{}: {}", d.what, d.restore_file.display()))
                        .collect();
                    if !mine.is_empty() {
                        sqlx::query(&tracking::set_data_backup(&sess.table))
                            .bind(m.version)
                            .bind(mine.join("\n"))
                            .execute(&mut sess.conn)
                            .await
                            .map_err(|e| {
                                Error::MigrationFailed(format!(
                                    "migration {} was applied, but recording where its data was saved failed: {}",
                                    m.version,
                                    pg_message(&e)
                                ))
                            })?;
                    }
                }
                report.done.push(d);
            }
            Err(why) => {
                let earlier: Vec<String> =
                    report.done.iter().map(|d| d.version.to_string()).collect();
                let later: Vec<String> = pending[i + 1..]
                    .iter()
                    .map(|m| m.version.to_string())
                    .collect();
                let kept = if m.up.no_tx {
                    format!("it ran without a transaction (-- no-transaction), so the statements named above stay applied and it is recorded as partial in {}", sess.table.extra())
                } else {
                    "it was rolled back and is not recorded".to_string()
                };
                return Err(Error::MigrationFailed(format!(
                    "migration {} ({}) failed: {why}; {kept}; applied in this run: {}; not attempted: {}",
                    m.version,
                    m.description,
                    if earlier.is_empty() { "none".to_string() } else { earlier.join(", ") },
                    if later.is_empty() { "none".to_string() } else { later.join(", ") },
                )));
            }
        }
    }
    Ok(report)
}

/// The start of a statement on one line, secrets masked.
fn summary(sql: &str) -> String {
    let one = crate::db::redact::redact_sql_secrets(sql)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if one.chars().count() > 60 {
        format!("{}…", one.chars().take(60).collect::<String>())
    } else {
        one
    }
}

/// A file name as one shell word.
fn shell_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// `table public.meals` / `column kcal of meals`.
fn describe_loss(l: &DataLoss) -> String {
    match l {
        DataLoss::Table { table } => format!("table {table}"),
        DataLoss::Column { table, column } => {
            format!("column {} of {table}", quote_ident(column))
        }
    }
}

fn position(file: &SqlFile, stmt: &Statement) -> String {
    format!("{}:{}:{}", file.path.display(), stmt.line, stmt.column)
}

/// Run one migration file (up or down), with retries on lock timeouts.
#[allow(clippy::too_many_arguments)]
async fn run_one(
    sess: &mut Session,
    m: &Migration,
    file: &SqlFile,
    plan: &[Planned],
    dir: Direction,
    opts: &Options,
    backup: Option<&str>,
    by: &str,
) -> Result<(), String> {
    if file.no_tx {
        return run_no_tx(sess, m, file, plan, dir, opts, backup, by).await;
    }
    let mut attempt = 0u32;
    loop {
        match run_tx_once(sess, m, file, plan, dir, backup, by).await {
            Ok(()) => return Ok(()),
            Err((idx, e)) => {
                let at = idx
                    .map(|i| format!(" at {}", position(file, &plan[i].stmt)))
                    .unwrap_or_default();
                if is_lock_timeout(&e) {
                    let lock = idx.and_then(|i| plan[i].lock.clone());
                    if attempt < opts.lock_retries {
                        attempt += 1;
                        let wait = backoff(attempt - 1);
                        sess.progress.line(format!(
                            "  lock timeout{at}{}; retry {attempt}/{} in {:.1}s",
                            lock.as_ref()
                                .map(|l| format!(" waiting for {}", l.describe()))
                                .unwrap_or_default(),
                            opts.lock_retries,
                            wait.as_secs_f64()
                        ));
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    let who = match &lock {
                        Some(l) => sess.blockers(&l.relation).await,
                        None => String::new(),
                    };
                    return Err(format!(
                        "{}{at}: could not take {} within lock_timeout {} ms ({} attempts){who}",
                        pg_message(&e),
                        lock.map(|l| l.describe())
                            .unwrap_or_else(|| "its lock".into()),
                        opts.lock_timeout.as_millis(),
                        attempt + 1
                    ));
                }
                return Err(format!("{}{at}", pg_message(&e)));
            }
        }
    }
}

fn stmt_step(sess: &mut Session, version: i64, p: &Planned) {
    let step = sess.record(
        "statement",
        Some(version),
        crate::db::redact::redact_sql_secrets(&p.stmt.text),
    );
    step.lock = p
        .lock
        .as_ref()
        .map(|l| format!("{} ({})", l.describe(), l.level.blocks()));
}

async fn run_tx_once(
    sess: &mut Session,
    m: &Migration,
    file: &SqlFile,
    plan: &[Planned],
    dir: Direction,
    backup: Option<&str>,
    by: &str,
) -> Result<(), (Option<usize>, sqlx::Error)> {
    let v = m.version;
    sess.record("begin", Some(v), "BEGIN").note =
        Some(format!("migration {v} {} ({})", m.description, file.name));
    let started = Instant::now();
    if sess.dry_run {
        for p in plan {
            stmt_step(sess, v, p);
        }
        tracking_steps(sess, m, dir, plan.len(), backup);
        sess.record("commit", Some(v), "COMMIT");
        return Ok(());
    }
    let table = sess.table.clone();
    let mut tx = sess.conn.begin().await.map_err(|e| (None, e))?;
    for (i, p) in plan.iter().enumerate() {
        sess.steps.push(Step {
            kind: "statement",
            version: Some(v),
            sql: crate::db::redact::redact_sql_secrets(&p.stmt.text),
            lock: p.lock.as_ref().map(|l| l.describe()),
            note: None,
        });
        if let Err(e) = tx.execute(p.stmt.text.as_str()).await {
            let _ = tx.rollback().await;
            return Err((Some(i), e));
        }
    }
    let total = plan.len() as i32;
    let res = async {
        match dir {
            Direction::Up => {
                let ns = i64::try_from(started.elapsed().as_nanos()).unwrap_or(i64::MAX);
                tracking::record_sqlx(&mut tx, &table, v, &m.description, &m.checksum, ns).await?;
                tracking::upsert_extra(
                    &mut tx,
                    &table,
                    &ExtraRow {
                        version: v,
                        description: &m.description,
                        applied: total,
                        total,
                        success: true,
                        error: None,
                        error_statement: None,
                        backup,
                        applied_by: by,
                        marked: false,
                    },
                )
                .await?;
            }
            Direction::Down => {
                sqlx::query(&tracking::delete_sqlx(&table))
                    .bind(v)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(&tracking::delete_dbdoctor(&table))
                    .bind(v)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        Ok::<(), sqlx::Error>(())
    }
    .await;
    if let Err(e) = res {
        let _ = tx.rollback().await;
        return Err((None, e));
    }
    tx.commit().await.map_err(|e| (None, e))?;
    Ok(())
}

/// Record (not run) the tracking writes in the stream.
fn tracking_steps(
    sess: &mut Session,
    m: &Migration,
    dir: Direction,
    total: usize,
    backup: Option<&str>,
) {
    let v = m.version;
    let table = sess.table.clone();
    let extra = table.extra();
    match dir {
        Direction::Up => {
            sess.record(
                "tracking",
                Some(v),
                format!(
                    "INSERT INTO {table} (version, description, success, checksum, execution_time) VALUES ({v}, {}, TRUE, {}, <elapsed ns>)",
                    crate::util::quote_literal(&m.description),
                    sql_literal_bytes(&m.checksum)
                ),
            );
            sess.record(
                "tracking",
                Some(v),
                format!(
                    "INSERT INTO {extra} (version, statements_applied, statements_total, success, backup_location, ...) VALUES ({v}, {total}, {total}, TRUE, {}, ...) ON CONFLICT (version) DO UPDATE ...",
                    backup.map(crate::util::quote_literal).unwrap_or_else(|| "NULL".into())
                ),
            );
        }
        Direction::Down => {
            sess.record(
                "tracking",
                Some(v),
                format!("DELETE FROM {table} WHERE version = {v}"),
            );
            sess.record(
                "tracking",
                Some(v),
                format!("DELETE FROM {extra} WHERE version = {v}"),
            );
        }
    }
}

/// A `-- no-transaction` file: statement by statement, progress recorded after each.
#[allow(clippy::too_many_arguments)]
async fn run_no_tx(
    sess: &mut Session,
    m: &Migration,
    file: &SqlFile,
    plan: &[Planned],
    dir: Direction,
    opts: &Options,
    backup: Option<&str>,
    by: &str,
) -> Result<(), String> {
    let v = m.version;
    let total = plan.len() as i32;
    let started = Instant::now();
    let extra = |applied: i32, success: bool| ExtraRow {
        version: v,
        description: &m.description,
        applied,
        total,
        success,
        error: None,
        error_statement: None,
        backup,
        applied_by: by,
        marked: false,
    };
    let table = sess.table.clone();
    let progress_sql = tracking::progress_dbdoctor(&table);
    if dir == Direction::Up {
        sess.record(
            "tracking",
            Some(v),
            format!("INSERT INTO {} (version, statements_applied, statements_total, success, ...) VALUES ({v}, 0, {total}, FALSE, ...) ON CONFLICT (version) DO UPDATE ...", table.extra()),
        )
        .note = Some(format!("migration {v} {} ({}) runs without a transaction", m.description, file.name));
        if !sess.dry_run {
            tracking::upsert_extra(&mut sess.conn, &table, &extra(0, false))
                .await
                .map_err(|e| pg_message(&e))?;
        }
    }
    for (i, p) in plan.iter().enumerate() {
        if let Some(idx) = &p.concurrent_index {
            // A killed or failed earlier run may have left this index INVALID; IF NOT EXISTS would
            // then silently keep the broken index.
            sess.drop_invalid_index(v, idx)
                .await
                .map_err(|e| pg_message(&e))?;
        }
        stmt_step(sess, v, p);
        if sess.dry_run {
            continue;
        }
        let mut attempt = 0u32;
        loop {
            let monitor = p
                .concurrent_index
                .as_ref()
                .map(|_| spawn_index_monitor(sess));
            let res = sess.conn.execute(p.stmt.text.as_str()).await;
            if let Some(h) = monitor {
                h.abort();
            }
            match res {
                Ok(_) => break,
                Err(e) => {
                    if let Some(idx) = &p.concurrent_index {
                        let _ = sess.drop_invalid_index(v, idx).await;
                    }
                    let at = position(file, &p.stmt);
                    if is_lock_timeout(&e) && attempt < opts.lock_retries {
                        attempt += 1;
                        let wait = backoff(attempt - 1);
                        sess.progress.line(format!(
                            "  lock timeout at {at}; retry {attempt}/{} in {:.1}s",
                            opts.lock_retries,
                            wait.as_secs_f64()
                        ));
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    let mut msg = format!("{} at {at}", pg_message(&e));
                    if is_lock_timeout(&e) {
                        if let Some(l) = &p.lock {
                            let who = sess.blockers(&l.relation).await;
                            msg = format!(
                                "{msg}: could not take {} within lock_timeout {} ms ({} attempts){who}",
                                l.describe(),
                                opts.lock_timeout.as_millis(),
                                attempt + 1
                            );
                        }
                    }
                    if dir == Direction::Up {
                        let _ = sqlx::query(&progress_sql)
                            .bind(v)
                            .bind(i as i32)
                            .bind(&msg)
                            .bind(crate::db::redact::redact_sql_secrets(&p.stmt.text))
                            .execute(&mut sess.conn)
                            .await;
                    }
                    let stayed = if i == 0 {
                        "none of its statements had completed".to_string()
                    } else {
                        let list: Vec<String> = plan[..i]
                            .iter()
                            .map(|q| format!("line {} `{}`", q.stmt.line, summary(&q.stmt.text)))
                            .collect();
                        format!(
                            "{i} of its {} statements stayed applied: {}",
                            plan.len(),
                            list.join(", ")
                        )
                    };
                    return Err(format!("{msg}; {stayed}"));
                }
            }
        }
        if dir == Direction::Up {
            sqlx::query(&progress_sql)
                .bind(v)
                .bind(i as i32 + 1)
                .bind(None::<String>)
                .bind(None::<String>)
                .execute(&mut sess.conn)
                .await
                .map_err(|e| pg_message(&e))?;
        }
    }
    if sess.dry_run {
        tracking_steps_record_only(sess, m, dir, plan.len(), backup);
        return Ok(());
    }
    let ns = i64::try_from(started.elapsed().as_nanos()).unwrap_or(i64::MAX);
    let res = async {
        let mut tx = sess.conn.begin().await?;
        match dir {
            Direction::Up => {
                tracking::record_sqlx(&mut tx, &table, v, &m.description, &m.checksum, ns).await?;
                tracking::upsert_extra(&mut tx, &table, &extra(total, true)).await?;
            }
            Direction::Down => {
                sqlx::query(&tracking::delete_sqlx(&table))
                    .bind(v)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(&tracking::delete_dbdoctor(&table))
                    .bind(v)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await
    }
    .await;
    tracking_steps_record_only(sess, m, dir, plan.len(), backup);
    res.map_err(|e| format!("record the migration: {}", pg_message(&e)))
}

/// The tracking writes of a no-transaction file as they appear in the stream: in a transaction
/// of their own, after the last statement.
fn tracking_steps_record_only(
    sess: &mut Session,
    m: &Migration,
    dir: Direction,
    total: usize,
    backup: Option<&str>,
) {
    sess.record("begin", Some(m.version), "BEGIN").note = Some(format!(
        "recording migration {} once every statement succeeded",
        m.version
    ));
    tracking_steps(sess, m, dir, total, backup);
    sess.record("commit", Some(m.version), "COMMIT");
}

/// Print the phase and blocks of our own index build every second (pg_stat_progress_create_index).
fn spawn_index_monitor(sess: &Session) -> tokio::task::JoinHandle<()> {
    let opts = sess.settings.options.clone();
    let pid = sess.pid;
    let progress = sess.progress;
    let started = Instant::now();
    tokio::spawn(async move {
        let Ok(mut c) = PgConnection::connect_with(&opts).await else {
            return;
        };
        let mut last = String::new();
        loop {
            tokio::time::sleep(Duration::from_millis(INDEX_PROGRESS_POLL_MS)).await;
            let row: Option<(String, i64, i64)> =
                sqlx::query_as(include_str!("../sql/migrate_index_progress.sql"))
                    .bind(pid)
                    .fetch_optional(&mut c)
                    .await
                    .ok()
                    .flatten();
            if let Some((phase, done, total)) = row {
                let line = if total > 0 {
                    format!(
                        "  progress: {phase}, {done}/{total} blocks ({:.0}%)",
                        100.0 * done as f64 / total as f64
                    )
                } else {
                    format!("  progress: {phase}")
                };
                if line != last {
                    progress.line(format!("{line} [{:.0}s]", started.elapsed().as_secs_f64()));
                    last = line;
                }
            }
        }
    })
}

/// Revert applied migrations with their down files: the newest one, or all above `target`.
pub async fn revert(
    settings: &ConnectSettings,
    source: &Source,
    opts: &Options,
    pid_slot: Arc<AtomicI32>,
) -> Result<Report, Error> {
    run_locked(settings, source, opts, pid_slot, RunKind::Down).await
}

async fn revert_locked(
    sess: &mut Session,
    source: &Source,
    opts: &Options,
    state: &tracking::State,
    mut report: Report,
) -> Result<Report, Error> {
    let mut applied: Vec<i64> = state.applied.keys().copied().collect();
    applied.sort_unstable_by(|a, b| b.cmp(a));
    let chosen: Vec<i64> = match opts.target {
        None => applied.into_iter().take(1).collect(),
        Some(t) => applied.into_iter().filter(|v| *v > t).collect(),
    };
    report.planned = chosen.clone();
    if chosen.is_empty() {
        return Ok(report);
    }
    let mut work = Vec::new();
    for v in &chosen {
        let m = source.get(*v).ok_or_else(|| {
            Error::MigrationInvalid(format!(
                "cannot revert {v}: its files are not in {}",
                source.dir.display()
            ))
        })?;
        let down = m.down.as_ref().ok_or_else(|| {
            Error::MigrationInvalid(format!("cannot revert {v}: {} has no .down.sql", m.up.name))
        })?;
        work.push((m, down, plan_file(down)));
    }
    let lt = format!(
        "SET lock_timeout = '{}ms'",
        opts.lock_timeout.as_millis().max(1)
    );
    sess.send("session", None, "SET statement_timeout = 0")
        .await
        .map_err(|e| Error::MigrationFailed(pg_message(&e)))?;
    sess.send("session", None, &lt)
        .await
        .map_err(|e| Error::MigrationFailed(pg_message(&e)))?;
    for (i, (m, down, plan)) in work.iter().enumerate() {
        let started = Instant::now();
        if !opts.dry_run {
            sess.progress
                .line(format!("reverting {} {} ...", m.version, m.description));
        }
        match run_one(sess, m, down, plan, Direction::Down, opts, None, "").await {
            Ok(()) => {
                let d = Done {
                    version: m.version,
                    description: m.description.clone(),
                    statements: plan.len(),
                    elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
                };
                if !opts.dry_run {
                    sess.progress.line(format!(
                        "  reverted {} in {:.0} ms",
                        m.version, d.elapsed_ms
                    ));
                }
                if let Some(saved) = state
                    .extras
                    .get(&m.version)
                    .and_then(|e| e.data_backup.as_deref())
                {
                    for line in saved.lines().filter(|l| !l.trim().is_empty()) {
                        let (what, file) = line.rsplit_once(": ").unwrap_or(("data", line));
                        let hint = format!(
                            "migration {} had removed the data of {what}; put it back with: psql \"{}\" -v ON_ERROR_STOP=1 -f {}",
                            m.version,
                            sess.settings.display,
                            shell_quote(file)
                        );
                        sess.progress.line(format!("  {hint}"));
                        report.restore.push(hint);
                    }
                }
                report.done.push(d);
            }
            Err(why) => {
                let later: Vec<String> = work[i + 1..]
                    .iter()
                    .map(|(m, _, _)| m.version.to_string())
                    .collect();
                return Err(Error::MigrationFailed(format!(
                    "reverting migration {} ({}) failed: {why}; it stays applied; reverted in this run: {}; not attempted: {}",
                    m.version,
                    m.description,
                    if report.done.is_empty() {
                        "none".to_string()
                    } else {
                        report.done.iter().map(|d| d.version.to_string()).collect::<Vec<_>>().join(", ")
                    },
                    if later.is_empty() { "none".to_string() } else { later.join(", ") }
                )));
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_zlib_crc() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn lock_key_is_sqlx_formula() {
        assert_eq!(
            lock_key("postgres"),
            0x3d32_ad9e_i64 * i64::from(crc32(b"postgres"))
        );
        assert!(lock_key("x") > 0);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(0), Duration::from_millis(500));
        assert_eq!(backoff(1), Duration::from_millis(1000));
        assert_eq!(backoff(30), Duration::from_millis(RETRY_BACKOFF_MAX_MS));
    }

    #[test]
    fn plans_concurrent_index_cleanup_and_drops() {
        let f = SqlFile {
            path: "x.sql".into(),
            name: "x.sql".into(),
            sql: "-- no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS idx_a ON app.t (a);"
                .into(),
            no_tx: true,
        };
        let p = plan_file(&f);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].concurrent_index.as_deref(), Some("app.idx_a"));
        assert_eq!(p[0].stmt.line, 2);
        let f2 = SqlFile {
            sql: "DROP INDEX IF EXISTS a, b".into(),
            ..f
        };
        assert_eq!(
            plan_file(&f2)[0].drops_indexes,
            vec!["a".to_string(), "b".to_string()]
        );
    }
}
