//! Activity collector: the current database's size and counters, transaction ID and multixact
//! ages, and every client session with its state, ages, wait and blockers.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, Row};

use crate::collect::statements::tag;
use crate::collect::CollectError;

/// pg_database + pg_stat_database for the current database.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// One client session (ours excluded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    let d = |e| CollectError::decode(N, e);
    Ok(DatabaseStats {
        name: r.try_get("name").map_err(d)?,
        size_bytes: r.try_get("size_bytes").map_err(d)?,
        xid_age: r.try_get("xid_age").map_err(d)?,
        mxid_age: r.try_get("mxid_age").map_err(d)?,
        backends: r.try_get("backends").map_err(d)?,
        xact_commit: r.try_get("xact_commit").map_err(d)?,
        xact_rollback: r.try_get("xact_rollback").map_err(d)?,
        blks_read: r.try_get("blks_read").map_err(d)?,
        blks_hit: r.try_get("blks_hit").map_err(d)?,
        temp_files: r.try_get("temp_files").map_err(d)?,
        temp_bytes: r.try_get("temp_bytes").map_err(d)?,
        deadlocks: r.try_get("deadlocks").map_err(d)?,
        stats_reset: r.try_get("stats_reset").map_err(d)?,
    })
}

pub async fn sessions(pool: &PgPool) -> Result<Vec<Session>, CollectError> {
    const N: &str = "doctor_sessions";
    let rows = sqlx::query(&tag(Q_SESSIONS))
        .fetch_all(pool)
        .await
        .map_err(|e| CollectError::query(N, e))?;
    let d = |e| CollectError::decode(N, e);
    // Consume the rows so each one is freed once decoded (lower peak on big catalogs).
    rows.into_iter()
        .map(|r| {
            let r = &r;
            Ok(Session {
                pid: r.try_get("pid").map_err(d)?,
                database: r.try_get("database").map_err(d)?,
                usename: r.try_get("usename").map_err(d)?,
                application_name: r.try_get("application_name").map_err(d)?,
                state: r.try_get("state").map_err(d)?,
                wait_event_type: r.try_get("wait_event_type").map_err(d)?,
                wait_event: r.try_get("wait_event").map_err(d)?,
                backend_ms: r.try_get("backend_ms").map_err(d)?,
                xact_ms: r.try_get("xact_ms").map_err(d)?,
                query_ms: r.try_get("query_ms").map_err(d)?,
                state_ms: r.try_get("state_ms").map_err(d)?,
                // pg_stat_activity shows statements verbatim: never let a password through.
                query: r
                    .try_get::<Option<String>, _>("query")
                    .map_err(d)?
                    .map(|q| crate::db::redact::redact_sql_secrets(&q)),
                xmin_age: r.try_get("xmin_age").map_err(d)?,
                blocked_by: r.try_get("blocked_by").map_err(d)?,
                waiting_for: r.try_get("waiting_for").map_err(d)?,
            })
        })
        .collect()
}
