//! The dedicated session of a run: one connection (never a replica), the migration advisory lock
//! with sqlx's key, lock-timeout retries and the messages that name who holds a lock.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::{Connection, Executor, PgConnection};

use super::progress::Progress;
use super::{Options, Step};
use crate::db::ConnectSettings;
use crate::error::Error;
use crate::migrate::tracking::TrackingTable;

/// Pause between polls of `pg_try_advisory_lock` while another run holds it.
const LOCK_POLL_MS: u64 = 200;
/// First pause after a lock timeout; doubled on each retry, capped.
const RETRY_BACKOFF_START_MS: u64 = 500;
const RETRY_BACKOFF_MAX_MS: u64 = 10_000;

/// The advisory lock key sqlx's `Migrator` uses, so dbdoctor and sqlx exclude each other.
pub fn lock_key(database: &str) -> i64 {
    0x3d32_ad9e_i64 * i64::from(crc32(database.as_bytes()))
}

/// CRC-32/ISO-HDLC (the zlib CRC), as sqlx computes it for the lock key.
pub(super) fn crc32(data: &[u8]) -> u32 {
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

pub(super) fn is_lock_timeout(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some("55P03"))
}

pub(super) fn pg_message(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => match d.code() {
            Some(c) => format!("{} (SQLSTATE {c})", d.message()),
            None => d.message().to_string(),
        },
        other => other.to_string(),
    }
}

/// pid, application_name, state, query, lock mode of a session holding a lock.
pub(super) type Blocker = (i32, String, String, String, String);

/// The dedicated connection and the stream it sends (or, in a dry-run, only records).
pub(super) struct Session {
    pub(super) conn: PgConnection,
    pub(super) settings: ConnectSettings,
    pub(super) pid: i32,
    pub(super) key: i64,
    pub(super) database: String,
    pub(super) server_version_num: i32,
    pub(super) dry_run: bool,
    pub(super) locked: bool,
    pub(super) steps: Vec<Step>,
    pub(super) progress: Progress,
    /// sqlx's tracking table; dbdoctor's record is beside it.
    pub(super) table: TrackingTable,
}

impl Session {
    pub(super) fn record(
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
    pub(super) async fn send(
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

    pub(super) async fn acquire_lock(&mut self, wait: Duration) -> Result<(), Error> {
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
                    sqlx::query_scalar(include_str!("../../sql/migrate_lock_holder.sql"))
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

    pub(super) async fn release_lock(&mut self) {
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
    pub(super) async fn blockers(&mut self, relation: &str) -> String {
        let rows: Result<Vec<Blocker>, _> =
            sqlx::query_as(include_str!("../../sql/migrate_blockers.sql"))
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
    pub(super) async fn drop_invalid_index(
        &mut self,
        version: i64,
        index: &str,
    ) -> Result<bool, sqlx::Error> {
        let invalid: Option<bool> =
            sqlx::query_scalar(include_str!("../../sql/migrate_invalid_index.sql"))
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

pub(super) fn backoff(attempt: u32) -> Duration {
    let ms = RETRY_BACKOFF_START_MS
        .saturating_mul(1u64 << attempt.min(10))
        .min(RETRY_BACKOFF_MAX_MS);
    Duration::from_millis(ms)
}

/// Open the dedicated connection; refuse a replica.
pub(super) async fn open(
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

/// The migration session's settings, each as its own statement: no statement timeout (a
/// migration may run long), and the lock timeout `opts` asks for.
pub(super) async fn session_settings(sess: &mut Session, opts: &Options) -> Result<(), Error> {
    let lt = format!(
        "SET lock_timeout = '{}ms'",
        opts.lock_timeout.as_millis().max(1)
    );
    for sql in ["SET statement_timeout = 0", lt.as_str()] {
        sess.send("session", None, sql)
            .await
            .map_err(|e| Error::MigrationFailed(pg_message(&e)))?;
    }
    Ok(())
}

pub(super) async fn applied_by(sess: &mut Session) -> String {
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
}
