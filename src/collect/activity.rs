//! Activity collector: the current database's size and counters, transaction ID and multixact
//! ages, and every client session with its state, ages, wait and blockers.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use crate::collect::statements::tag;
use crate::collect::{decode, CollectError};

/// pg_database + pg_stat_database for the current database; the row of `doctor_database.sql`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct DatabaseStats {
    pub name: String,
    pub size_bytes: i64,
    pub xid_age: i64,
    pub mxid_age: i64,
    pub backends: i32,
    pub xact_commit: i64,
    pub xact_rollback: i64,
    pub blks_read: i64,
    pub blks_hit: i64,
    pub temp_files: i64,
    pub temp_bytes: i64,
    pub deadlocks: i64,
    pub stats_reset: Option<DateTime<Utc>>,
}

/// One client session (ours excluded); the row of `doctor_sessions.sql`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Session {
    pub pid: i32,
    pub database: Option<String>,
    pub usename: Option<String>,
    pub application_name: Option<String>,
    /// `active`, `idle`, `idle in transaction`, ...; `None` when the role may not see it.
    pub state: Option<String>,
    pub wait_event_type: Option<String>,
    pub wait_event: Option<String>,
    pub backend_ms: Option<f64>,
    pub xact_ms: Option<f64>,
    pub query_ms: Option<f64>,
    pub state_ms: Option<f64>,
    pub query: Option<String>,
    pub xmin_age: Option<i64>,
    /// Sessions holding the lock this one waits for.
    pub blocked_by: Vec<i32>,
    /// `relation AccessExclusiveLock on public.t`, `transactionid ShareLock`, ...
    pub waiting_for: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ActivitySnapshot {
    pub database: Option<DatabaseStats>,
    pub sessions: Option<Vec<Session>>,
    /// Whether other roles' session details were visible (pg_read_all_stats or superuser).
    #[serde(default)]
    pub all_sessions_visible: bool,
}

const Q_DATABASE: &str = include_str!("../sql/doctor_database.sql");
const Q_SESSIONS: &str = include_str!("../sql/doctor_sessions.sql");

pub async fn database(pool: &PgPool) -> Result<DatabaseStats, CollectError> {
    const N: &str = "doctor_database";
    let r = sqlx::query(&tag(Q_DATABASE))
        .fetch_one(pool)
        .await
        .map_err(|e| CollectError::query(N, e))?;
    decode(N, &r)
}

pub async fn sessions(pool: &PgPool) -> Result<Vec<Session>, CollectError> {
    const N: &str = "doctor_sessions";
    let rows = sqlx::query(&tag(Q_SESSIONS))
        .fetch_all(pool)
        .await
        .map_err(|e| CollectError::query(N, e))?;
    // Consume the rows so each one is freed once decoded (lower peak on big catalogs).
    rows.into_iter()
        .map(|r| {
            let mut session: Session = decode(N, &r)?;
            // pg_stat_activity shows statements verbatim: never let a password through.
            session.query = session
                .query
                .map(|q| crate::db::redact::redact_sql_secrets(&q));
            Ok(session)
        })
        .collect()
}
