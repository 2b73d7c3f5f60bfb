//! The executor behind `migrate apply` and `migrate revert`: one dedicated connection holding the
//! migration advisory lock, lock_timeout first, a backup, one transaction per migration together
//! with its tracking row, and a dry-run that records the exact SQL stream instead of running it.
//!
//! One job per module: `session` (connection, advisory lock, lock-timeout retries), `statements`
//! (a file's statements parsed once), `stream` (the recorded SQL stream), `tx` (the
//! transactional path), `no_tx` (the no-transaction path), `progress` (stderr lines), `up` and
//! `down` (apply and revert under the lock).

mod down;
mod no_tx;
mod progress;
mod session;
mod statements;
mod stream;
mod tx;
mod up;

use std::path::PathBuf;
use std::sync::atomic::AtomicI32;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use sqlx::Connection;

use super::source::{Migration, Source, SqlFile};
use super::tracking::{self, State, TrackingTable};
use crate::db::ConnectSettings;
use crate::error::Error;
use crate::util::quote_ident;
use down::revert_locked;
use session::{open, pg_message, Session};
use statements::Planned;
use up::apply_locked;

pub use progress::Progress;
pub use session::lock_key;

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

impl Done {
    /// Migration `m`, whose `statements` statements ran since `started`.
    pub(super) fn of(m: &Migration, statements: usize, started: std::time::Instant) -> Self {
        Done {
            version: m.version,
            description: m.description.clone(),
            statements,
            elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
        }
    }
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

/// One migration file to run: the migration, the file (up or down), its planned statements,
/// the direction, the backup taken before it and who runs it.
#[derive(Clone, Copy)]
struct FileRun<'a> {
    m: &'a Migration,
    file: &'a SqlFile,
    plan: &'a [Planned],
    dir: Direction,
    backup: Option<&'a str>,
    by: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Up,
    Down,
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

/// Revert applied migrations with their down files: the newest one, or all above `target`.
pub async fn revert(
    settings: &ConnectSettings,
    source: &Source,
    opts: &Options,
    pid_slot: Arc<AtomicI32>,
) -> Result<Report, Error> {
    run_locked(settings, source, opts, pid_slot, RunKind::Down).await
}
